// Shared vocabulary of the peer adapters: op names, layouts, (N, C, S) geometry and the input
// sets every adapter and the benchmark runner pass around. Kept independent of js/ and test/
// so the peers measure the same contract whatever the package's internals look like.
//
// Adapter interface (js.mjs, tfjs.mjs, ort.mjs all implement it):
//   adapter.name                                 'js' | 'tfjs-wasm' | 'tfjs-cpu' | 'ort-web' | 'ort-node'
//   adapter.supports(op, shape, layout)          true, or a string saying why not
//   await adapter.prepare(op, shape, layout, inputs) → run()
//       run() performs the op once on inputs made resident in prepare(); it may return a
//       promise (ort) — always `await run()`. run.dispose?.() frees what prepare() created
//       (tfjs tensors); call it before preparing the next large case.
//   await adapter.output(op, shape, layout, inputs)  → { name: Float32Array } (see OUTPUTS)
//   await adapter.dispose?.()                    frees framework resources (ort sessions)
// `inputs` is makeInputs(op, shape, layout): the same object for every system.

/** Ops in benchmark order. */
export const OPS = ['stats', 'bn_train', 'bn_infer', 'bn_backward', 'instance_norm', 'group_norm', 'layer_norm'];

/**
 * What each op returns (flat Float32Array in the stored layout, or length-C / per-statistic).
 * bn_train returns saveInvstd or saveVar (the biased batch variance), whichever the framework
 * produces natively, and the PyTorch-convention running statistics (momentum 0.1 = weight of
 * the new batch, unbiased running variance).
 */
export const OUTPUTS = {
  stats: ['mean', 'var'],
  bn_train: ['y', 'saveMean', 'saveInvstd|saveVar', 'runningMean', 'runningVar'],
  bn_infer: ['y'],
  bn_backward: ['dx', 'dgamma', 'dbeta'],
  instance_norm: ['y'],
  group_norm: ['y'],
  layer_norm: ['y'],
};

import { LAYOUTS } from '../../test/reference.mjs';
export { LAYOUTS };

/** { N, C, S, cl, size, rank }: every tensor is (N, C, S) or (N·S, C). */
export function geometry(shape, layout) {
  const L = LAYOUTS[layout];
  if (!L || L.rank !== shape.length) throw new Error(`layout ${layout} does not fit shape [${shape}]`);
  const size = shape.reduce((a, b) => a * b, 1);
  const N = shape[0];
  const C = L.cl ? shape[shape.length - 1] : shape[1];
  return { N, C, S: size / (N * C), cl: L.cl, size, rank: shape.length };
}

/** Axis index of C in the stored layout. */
export const channelAxis = (shape, layout) => (LAYOUTS[layout].cl ? shape.length - 1 : 1);

/** Default GroupNorm groups: 32 when C allows it (the usual choice), else the largest power of two < C dividing C. */
export function defaultGroups(C) {
  for (const g of [32, 16, 8, 4, 2]) if (C % g === 0 && g < C) return g;
  return 1;
}

/** Deterministic normal samples (mulberry32 + Box–Muller), so every system sees the same data. */
export function randomNormal(n, seed, offset = 0, scale = 1) {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u())), th = 2 * Math.PI * u();
    out[i] = offset + scale * r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = offset + scale * r * Math.sin(th);
  }
  return out;
}

/**
 * Inputs for one (op, shape, layout): the same object goes to every adapter and to the
 * reference. All arrays are Float32Array. bn_backward's saveMean/saveInvstd are the true batch
 * statistics of x (float64, then rounded), because autograd peers (tf.grads) recompute them from
 * x and the comparison must describe one consistent forward pass.
 */
export function makeInputs(op, shape, layout, { seed = 1, eps = 1e-5, momentum = 0.1, groups } = {}) {
  const g = geometry(shape, layout);
  const x = randomNormal(g.size, seed, 0.5, 1.5);
  const inp = { x, eps, momentum, groups: groups ?? defaultGroups(g.C) };
  inp.gamma = randomNormal(g.C, seed + 1, 1, 0.25);
  inp.beta = randomNormal(g.C, seed + 2, 0, 0.25);
  inp.runningMean = randomNormal(g.C, seed + 3, 0, 0.1);
  inp.runningVar = Float32Array.from(randomNormal(g.C, seed + 4, 0, 0.2), (v) => 1 + Math.abs(v));
  if (op === 'bn_backward') {
    inp.dy = randomNormal(g.size, seed + 5, 0, 1);
    const sum = new Float64Array(g.C), m2 = new Float64Array(g.C), m = g.N * g.S;
    const ch = g.cl ? (i) => i % g.C : (i) => Math.floor(i / g.S) % g.C;
    for (let i = 0; i < g.size; i++) sum[ch(i)] += x[i];
    const mean = sum.map((s) => s / m);
    for (let i = 0; i < g.size; i++) { const d = x[i] - mean[ch(i)]; m2[ch(i)] += d * d; }
    inp.saveMean = Float32Array.from(mean);
    inp.saveInvstd = Float32Array.from(m2, (v) => 1 / Math.sqrt(v / m + eps));
  }
  return inp;
}

/**
 * Bytes each op must move per value. stats/bn_* are the benchmark's figures (stats 4, inference 8,
 * training forward 12, backward 20); the other norms are assumed to be like training forward
 * (a statistics read, a normalize read, a write) — the runner may override.
 */
export const BYTES_PER_VALUE = { stats: 4, bn_train: 12, bn_infer: 8, bn_backward: 20, instance_norm: 12, group_norm: 12, layer_norm: 12 };

/** What every framework adapter supports: known ops, and a training batch of > 1 value per channel. */
export function baseSupport(op, shape, layout) {
  if (!OPS.includes(op)) return `unknown op ${op}`;
  const g = geometry(shape, layout);
  if (op === 'bn_train' && g.N * g.S < 2) return 'one value per channel: unbiased running variance undefined';
  return true;
}
