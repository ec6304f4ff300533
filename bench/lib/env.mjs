// The machine, runtime and versions a benchmark ran on (the JSON's "env").
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = (pkg) => {
  try { return JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version; } catch { return null; }
};
const git = (...args) => { try { return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; } };

/** L3 / L2 sizes from sysfs (Linux), e.g. { L2: '1024K', L3: '32768K' }; {} elsewhere. */
function caches() {
  const out = {};
  try {
    for (let i = 0; i < 8; i++) {
      const d = `/sys/devices/system/cpu/cpu0/cache/index${i}`;
      const level = readFileSync(`${d}/level`, 'utf8').trim(), type = readFileSync(`${d}/type`, 'utf8').trim();
      if (type !== 'Instruction') out[`L${level}`] = readFileSync(`${d}/size`, 'utf8').trim();
    }
  } catch { /* fewer levels, or not Linux */ }
  return out;
}

export function environment(extra = {}) {
  const cpus = os.cpus();
  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'assembly', 'js', 'build.mjs', 'asconfig.json');
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()}`,
    arch: process.arch,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    caches: caches(),
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavg_start: os.loadavg().map((v) => +v.toFixed(2)),
    simdnorm: { version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version, commit: commit && (dirty ? `${commit}+uncommitted kernel/js changes` : commit) },
    versions: {
      '@tensorflow/tfjs': version('@tensorflow/tfjs'),
      '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
      'onnxruntime-web': version('onnxruntime-web'),
      'onnxruntime-node': version('onnxruntime-node'),
      benchmark: version('benchmark'),
      assemblyscript: version('assemblyscript'),
    },
    ...extra,
  };
}
