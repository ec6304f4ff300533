// Cold start of two or more builds, step by step, in fresh processes taken in turn.
//
//   node bench/cold-ab.mjs [--runs 40] [--entry index.js] DIR_A DIR_B …
//
// DIR is a package root (its dist/ is imported) or a dist/ folder; DIR#FILE imports that file
// of it instead of --entry (e.g. `. .#node.js`: the bundle with the wasm inlined against the Node one). Each run spawns one fresh
// `node` per build, in a rotating order, and the child times, from just before `import()`:
// import (the bundle parsed and evaluated), init() (wasm decoded, compiled, instantiated, and
// warmed up where the build still does so by default) and the first call (a batch-norm inference on (2, 16, 8, 8) NCHW, the shape of
// bench/peers/coldstart.mjs), checked against a float64 computation. Medians per step and of
// the total, in wall and CPU time; on this shared machine only builds measured in one such run can
// be compared.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, median } from './lib/cli.mjs';

const SHAPE = [2, 16, 8, 8], EPS = 1e-5;

async function child(url) {
  const C = SHAPE[1], S = SHAPE[2] * SHAPE[3];
  const x = new Float32Array(SHAPE.reduce((a, b) => a * b)).map((_, i) => Math.sin(i) * 3 + 1);
  const gamma = Array.from({ length: C }, (_, c) => 1 + c / C), beta = gamma.map((g) => g - 1);
  const runningMean = gamma.map((_, c) => c / 4), runningVar = gamma.map((_, c) => 1 + c);
  // Wall time, and this process's CPU time (all threads): on a loaded machine the wall time also
  // counts waiting for a core, the CPU time much less so.
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
  const c0 = cpu(), t0 = performance.now();
  const m = await import(url);
  const t1 = performance.now(), c1 = cpu();
  await m.init();
  const t2 = performance.now(), c2 = cpu();
  const y = m.batchNormInfer(x, { shape: SHAPE, layout: 'NCHW', gamma, beta, runningMean, runningVar, eps: EPS });
  const t3 = performance.now(), c3 = cpu();
  let ok = y.length === x.length;
  for (let i = 0; i < x.length && ok; i++) {
    const c = Math.floor(i / S) % C;
    const e = (x[i] - runningMean[c]) / Math.sqrt(runningVar[c] + EPS) * gamma[c] + beta[c];
    ok = Math.abs(y[i] - e) <= 1e-4 * (1 + Math.abs(e));
  }
  const wall = { import: t1 - t0, init: t2 - t1, first: t3 - t2, total: t3 - t0 };
  const cpuMs = { import: c1 - c0, init: c2 - c1, first: c3 - c2, total: c3 - c0 };
  process.stdout.write(JSON.stringify({ wall, cpu: cpuMs, ok }) + '\n');
  process.exit(0);
}

function entryOf(spec, entry) {
  const [dir, own] = spec.split('#');
  if (own) entry = own;
  const d = resolve(dir);
  const f = existsSync(join(d, 'dist', entry)) ? join(d, 'dist', entry) : join(d, entry);
  if (!existsSync(f)) throw new Error(`${dir}: no dist/${entry} or ${entry}`);
  return pathToFileURL(f).href;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { opts, rest } = parseArgs(process.argv.slice(2), { runs: '40', entry: 'index.js', child: '' });
  if (opts.child) await child(opts.child);
  else {
    if (rest.length < 1) throw new Error('usage: node bench/cold-ab.mjs [--runs N] [--entry index.js] DIR_A DIR_B …');
    const urls = rest.map((d) => entryOf(d, opts.entry));
    const steps = ['import', 'init', 'first', 'total'];
    const got = urls.map(() => ({ wall: Object.fromEntries(steps.map((s) => [s, []])), cpu: Object.fromEntries(steps.map((s) => [s, []])) }));
    const self = fileURLToPath(import.meta.url);
    for (let r = 0; r < +opts.runs; r++) {
      for (let k = 0; k < urls.length; k++) {
        const i = (k + r) % urls.length; // rotate who goes first
        const p = spawnSync(process.execPath, [self, '--child', urls[i]], { encoding: 'utf8' });
        const res = JSON.parse(p.stdout.trim().split('\n').pop() || 'null');
        if (!res || !res.ok) throw new Error(`${rest[i]}: ${res ? 'wrong result' : p.stderr}`);
        for (const k of ['wall', 'cpu']) for (const s of steps) got[i][k][s].push(res[k][s]);
      }
    }
    console.log(`${opts.runs} fresh processes per build, in turn; median ms (node ${process.version})`);
    console.log(['build'.padEnd(28), ...steps.map((s) => `${s} wall`.padStart(12)), ...steps.map((s) => `${s} cpu`.padStart(12))].join(''));
    rest.forEach((d, i) => console.log([d.slice(-28).padEnd(28), ...['wall', 'cpu'].flatMap((k) => steps.map((s) => median(got[i][k][s]).toFixed(2).padStart(12)))].join('')));
  }
}
