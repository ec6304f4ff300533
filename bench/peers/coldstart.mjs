// Cold start and shipped wasm size of each system.
//
//   node bench/peers/coldstart.mjs [--runs 5] [--json FILE]
//
// Cold start: for each system a fresh `node` process (nothing cached in-process, OS file cache
// warm after the first run) measures ms from just before the system's first `import()` to the
// first verified result of a small batch-norm inference, (2,16,8,8) NCHW. Each system imports
// only what that path needs (tfjs: tfjs-core + tfjs-backend-wasm, not the full
// @tensorflow/tfjs bundle; onnxruntime: its package, then one session from a model built in
// code). The parent also reports spawn → exit wall time, which adds node's own boot (~40 ms).
// Median and min over --runs processes.
//
// Sizes: the wasm each system loads in Node here (checked with strace: tfjs loads
// tfjs-backend-wasm-simd.wasm; onnxruntime-web loads ort-wasm-simd-threaded.wasm even with
// numThreads 1), raw and gzip -9, plus every .wasm the package ships. onnxruntime-node ships
// native libraries, not wasm: reported under `native`.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseArgs, median } from '../lib/cli.mjs';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const nm = join(root, 'node_modules');

const SHAPE = [2, 16, 8, 8], LAYOUT = 'NCHW', EPS = 1e-5;

/**
 * One function per system: given the inputs, import the system, run BN inference once and
 * return y as a Float32Array. Everything before `import()` is excluded from the timing.
 */
const SYSTEMS = {
  // ---- simdnorm: the bundle Node resolves `simdnorm` to (the package's own exports, by
  // self-reference: dist/node.js, which reads dist/simdnorm.wasm; compiled synchronously in init) --
  async simdnorm(inp) {
    const { init, batchNormInfer } = await import('simdnorm');
    await init();
    return batchNormInfer(inp.x, { shape: SHAPE, layout: LAYOUT, gamma: inp.gamma, beta: inp.beta,
      runningMean: inp.runningMean, runningVar: inp.runningVar, eps: EPS });
  },
  // -------------------------------------------------------------------------------------------

  async 'tfjs-wasm'(inp) {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    const C = SHAPE[1], b = [1, C, 1, 1];
    // Functional ops: tfjs-core alone does not register the chained x.mul(...) methods.
    const y = tf.tidy(() => {
      const scale = tf.mul(tf.tensor1d(inp.gamma), tf.rsqrt(tf.add(tf.tensor1d(inp.runningVar), EPS)));
      const shift = tf.sub(tf.tensor1d(inp.beta), tf.mul(tf.tensor1d(inp.runningMean), scale));
      return tf.add(tf.mul(tf.tensor(inp.x, SHAPE), tf.reshape(scale, b)), tf.reshape(shift, b));
    });
    return y.dataSync();
  },

  async 'ort-web'(inp) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1; ort.env.wasm.proxy = false;
    return ortInfer(ort, inp, { executionProviders: ['wasm'] });
  },

  async 'ort-node'(inp) {
    const ort = await import('onnxruntime-node');
    return ortInfer(ort, inp, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  },
};

async function ortInfer(ort, inp, opts) {
  const { node, graph, model, valueInfo } = await import('./onnx-builder.mjs');
  const C = SHAPE[1], ps = ['gamma', 'beta', 'runningMean', 'runningVar'];
  const bytes = model(graph({
    nodes: [node('BatchNormalization', ['x', ...ps], ['y'], { epsilon: { float: EPS } })],
    inputs: [valueInfo('x', SHAPE), ...ps.map((k) => valueInfo(k, [C]))],
    outputs: [valueInfo('y', SHAPE)],
  }), { opset: 15, irVersion: 8 });
  const session = await ort.InferenceSession.create(bytes, opts);
  const feeds = { x: new ort.Tensor('float32', inp.x, SHAPE) };
  for (const k of ps) feeds[k] = new ort.Tensor('float32', inp[k], [C]);
  return (await session.run(feeds)).y.data;
}

/** Child: time one system, verify against a float64 computation, print one JSON line. */
async function child(name) {
  const { makeInputs, geometry } = await import('./common.mjs');
  const inp = makeInputs('bn_infer', SHAPE, LAYOUT);
  const t0 = performance.now();
  const y = await SYSTEMS[name](inp);
  const ms = performance.now() - t0;
  const g = geometry(SHAPE, LAYOUT);
  let worst = 0;
  for (let i = 0; i < inp.x.length; i++) {
    const c = Math.floor(i / g.S) % g.C;
    const e = (inp.x[i] - inp.runningMean[c]) / Math.sqrt(inp.runningVar[c] + EPS) * inp.gamma[c] + inp.beta[c];
    worst = Math.max(worst, Math.abs(y[i] - e) - 1e-3 * (1 + Math.abs(e)));
  }
  process.stdout.write(JSON.stringify({ name, ms, verified: y.length === inp.x.length && worst <= 0 }) + '\n');
  process.exit(0); // do not wait for runtimes' thread pools to wind down
}

const sizeOf = (file) => { const b = readFileSync(file); return { file: file.slice(root.length + 1), raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };
const wasmIn = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.wasm')).map((f) => sizeOf(join(dir, f))) : []);

/** Wasm (and native) bytes per system. */
export function wasmBytes() {
  const out = {
    'tfjs-wasm': { loaded: sizeOf(join(nm, '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')), shipped: wasmIn(join(nm, '@tensorflow/tfjs-backend-wasm/dist')) },
    'ort-web': { loaded: sizeOf(join(nm, 'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm')), shipped: wasmIn(join(nm, 'onnxruntime-web/dist')) },
    'ort-node': { loaded: null, native: ['libonnxruntime.so.1', 'onnxruntime_binding.node'].map((f) => join(nm, 'onnxruntime-node/bin/napi-v6', process.platform, process.arch, f)).filter(existsSync).map(sizeOf) },
  };
  // ---- simdnorm slot: the release wasm (asconfig target "release" → build/simdnorm.wasm) ----
  const simd = join(root, 'build/simdnorm.wasm');
  const threads = join(root, 'build/simdnorm-threads.wasm'); // the worker-pool variant, also embedded
  if (existsSync(simd)) out.simdnorm = { loaded: sizeOf(simd), shipped: [simd, threads].filter(existsSync).map(sizeOf) };
  // ------------------------------------------------------------------------------------------
  return out;
}

/**
 * Runs every system's cold start `runs` times and measures sizes; prints a summary.
 * @param {{ runs?: number, json?: string, quiet?: boolean }} [options]
 * @returns {Promise<{ cold_start_ms: object, wasm_bytes: object, details: object }>}
 */
export async function runColdStart({ runs = 5, json, quiet = false } = {}) {
  const log = quiet ? () => {} : console.log;
  const results = {};
  for (const name of Object.keys(SYSTEMS)) {
    const ms = [], wall = []; let verified = true, error = null;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name], { cwd: root, encoding: 'utf8' });
      const w = performance.now() - t0;
      const line = p.stdout.trim().split('\n').pop();
      let res; try { res = JSON.parse(line); } catch { res = null; }
      if (!res) { error = (p.stderr || p.stdout).trim().split('\n').slice(-3).join(' | '); verified = false; break; }
      ms.push(res.ms); wall.push(w); verified &&= res.verified;
    }
    results[name] = error ? { error } : { median_ms: median(ms), min_ms: Math.min(...ms), process_wall_median_ms: median(wall), runs, verified };
    log(`${name.padEnd(10)} ${error ? `ERROR ${error}` : `import→first result median ${median(ms).toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)}), process wall ${median(wall).toFixed(0)} ms, ${verified ? 'verified' : 'WRONG'}`}`);
  }
  const sizes = wasmBytes();
  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
  for (const [name, s] of Object.entries(sizes)) {
    if (s.loaded) log(`${name.padEnd(10)} loads ${s.loaded.file}: ${kb(s.loaded.raw)} raw, ${kb(s.loaded.gzip)} gzip; ships ${s.shipped.length} wasm, ${kb(s.shipped.reduce((a, f) => a + f.raw, 0))} raw`);
    if (s.native) log(`${name.padEnd(10)} native ${s.native.map((f) => `${f.file.split('/').pop()} ${kb(f.raw)} raw, ${kb(f.gzip)} gzip`).join('; ')}`);
  }
  const coldStartMs = Object.fromEntries(Object.entries(results).filter(([, r]) => !r.error).map(([k, r]) => [k, r.median_ms]));
  // ort-node loads no wasm: raw/gzip are null and its native libraries are summed separately.
  const sum = (fs, k) => fs.reduce((a, f) => a + f[k], 0);
  const wasm = Object.fromEntries(Object.entries(sizes).map(([k, s]) => [k, s.loaded ? { raw: s.loaded.raw, gzip: s.loaded.gzip } : { raw: null, gzip: null, native_raw: sum(s.native, 'raw'), native_gzip: sum(s.native, 'gzip') }]));
  const out = { cold_start_ms: coldStartMs, wasm_bytes: wasm, details: { results, sizes } };
  if (json) writeFileSync(json, JSON.stringify(out, null, 1));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { opts } = parseArgs(process.argv.slice(2), { child: '', runs: '5', json: '' });
  if (opts.child) await child(opts.child);
  else await runColdStart({ runs: Number(opts.runs), json: opts.json || undefined });
}
