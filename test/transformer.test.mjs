// RMS norm, the skip norms and layer norm with activation epilogues against the float64
// reference (test/reference.mjs refRmsNorm, refSkipNorm, refWithAct): C and S around every
// SIMD tail in every layout, long rows, offsets, finite differences, in-place residual streams,
// tensors, and bad input (clear message, nothing modified — out and the residual stream included).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refRmsNorm, refSkipNorm, refWithAct, refLayerNorm, randomArray, geometry } from "./reference.mjs";
import { shapeFor, close, throwsWith } from "./helpers.mjs";

await api.init();
const LAYOUTS = ["NC", "NCL", "NCHW", "NCDHW", "NLC", "NHWC", "NDHWC"];
const EDGE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65];
const ACTS = [undefined, "relu", "relu6", "silu", "gelu", "gelu_tanh"];

function data(layout, N, C, S, seed, offset = 0) {
  const shape = shapeFor(layout, N, C, layout === "NC" ? 1 : S), g = geometry(shape, layout), n = g.N * g.C * g.S;
  return {
    shape, g, x: randomArray(n, seed, { offset, scale: 1 + (seed % 3) }), skip: randomArray(n, seed + 3), dy: randomArray(n, seed + 7), dsum: randomArray(n, seed + 8),
    gamma: randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta: randomArray(C, seed + 2, { scale: 0.5 }), bias: randomArray(C, seed + 4, { scale: 0.2 }),
  };
}

/** RMS norm forward + backward on one shape against the reference. */
function checkRms(layout, N, C, S, seed, { activation, unitOffset = false } = {}) {
  const d = data(layout, N, C, S, seed), { shape } = d, eps = 1e-6;
  const e = refRmsNorm(d.x, d.dy, shape, layout, { gamma: d.gamma, eps, unitOffset, activation });
  const r = api.rmsNorm(d.x, { shape, layout, gamma: d.gamma, eps, unitOffset, activation });
  const what = `rms ${activation ?? ""}${unitOffset ? " unitOffset" : ""}`;
  close(r.y, e.y, 2e-5 * (unitOffset ? 3 : 1), 2e-5, `${what} y`, shape, layout);
  close(r.invRms, e.invRms, 1e-6, 1e-5, `${what} invRms`, shape, layout);
  const b = api.rmsNormBackward(d.x, d.dy, { shape, layout, gamma: d.gamma, unitOffset, activation, invRms: r.invRms });
  const m = Math.sqrt(d.x.length / C);
  close(b.dx, e.dx, 1e-4, 1e-3, `${what} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 1e-4 * m, 1e-4, `${what} dgamma`, shape, layout);
}

/** Skip layer / RMS norm forward + backward (with or without bias and dsum) against the reference. */
function checkSkip(rms, layout, N, C, S, seed, { activation, withBias = true, withDsum = true, offset = 0 } = {}) {
  const d = data(layout, N, C, S, seed, offset), { shape } = d, eps = 1e-5;
  const bias = withBias ? d.bias : undefined, dsum = withDsum ? d.dsum : undefined;
  const p = { gamma: d.gamma, beta: rms ? undefined : d.beta, bias, eps, activation };
  const e = refSkipNorm(d.x, d.skip, d.dy, shape, layout, { ...p, rms, dsum });
  const r = (rms ? api.skipRmsNorm : api.skipLayerNorm)(d.x, d.skip, { shape, layout, ...p });
  const what = `skip ${rms ? "rms" : "layer"} ${activation ?? ""}`, tol = offset ? 1e-3 : 2e-5;
  close(r.sum, e.sum, 0, 0, `${what} sum`, shape, layout);
  close(r.y, e.y, tol, 1e-4, `${what} y`, shape, layout);
  const stats = rms ? { invRms: r.invRms } : { mean: r.mean, invstd: r.invstd };
  const b = (rms ? api.skipRmsNormBackward : api.skipLayerNormBackward)(r.sum, d.dy, { shape, layout, ...p, ...stats, dsum, bias: withBias });
  const m = Math.sqrt(d.x.length / C);
  close(b.dx, e.dx, 1e-4 + 10 * tol, 1e-3, `${what} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 1e-4 * m + 10 * tol * m, 1e-4, `${what} dgamma`, shape, layout);
  if (!rms) close(b.dbeta, e.dbeta, 1e-4 * m, 1e-4, `${what} dbeta`, shape, layout);
  if (withBias) close(b.dbias, e.dbias, 1e-4 * m, 1e-4, `${what} dbias`, shape, layout);
  else if (b.dbias !== undefined) throw new Error(`${what}: dbias without bias`);
}

/** Layer norm with an activation against the reference. */
function checkLayerAct(layout, N, C, S, seed, activation) {
  const d = data(layout, N, C, S, seed), { shape } = d, eps = 1e-5;
  const e = refWithAct(refLayerNorm, d.x, d.dy, shape, layout, { gamma: d.gamma, beta: d.beta, eps, activation });
  const r = api.layerNorm(d.x, { shape, layout, gamma: d.gamma, beta: d.beta, eps, activation });
  close(r.y, e.y, 2e-4, 1e-4, `layer ${activation} y`, shape, layout);
  const b = api.layerNormBackward(d.x, d.dy, { shape, layout, gamma: d.gamma, beta: d.beta, activation, mean: r.mean, invstd: r.invstd });
  const m = Math.sqrt(d.x.length / C);
  close(b.dx, e.dx, 1e-3, 1e-3, `layer ${activation} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 2e-4 * m, 1e-4, `layer ${activation} dgamma`, shape, layout);
  close(b.dbeta, e.dbeta, 2e-4 * m, 1e-4, `layer ${activation} dbeta`, shape, layout);
}

test("rms norm: every C × S around the SIMD edges (NCL, NLC), every activation, unitOffset", () => {
  for (const layout of ["NCL", "NLC"]) {
    for (const C of EDGE) for (const S of EDGE) checkRms(layout, 1 + ((C + S) % 3), C, S, C * 100 + S, { activation: ACTS[(C + S) % ACTS.length], unitOffset: (C * S) % 2 === 1 });
  }
});

test("rms norm and skip norms: every layout, C and S around the edges, N = 1…3", () => {
  for (const layout of LAYOUTS) {
    for (const C of EDGE) {
      const S = EDGE[(C * 7) % EDGE.length], a = ACTS[C % ACTS.length];
      checkRms(layout, 1 + (C % 3), C, S, C, { activation: a });
      checkSkip(false, layout, 1 + (C % 3), C, S, C + 1, { activation: a, withBias: C % 2 === 0, withDsum: C % 3 !== 0 });
      checkSkip(true, layout, 1 + (C % 3), C, S, C + 2, { activation: a, withBias: C % 2 === 1, withDsum: C % 3 === 0 });
    }
  }
});

test("layer norm with every activation, rows and strided channels", () => {
  for (const layout of LAYOUTS) for (const a of ACTS.slice(1)) for (const C of [1, 7, 16, 65]) checkLayerAct(layout, 2, C, 9, C + a.length, a);
});

test("long rows (4096-value blocks, 16384), many rows (column flushes after 64), offsets of 1e4", () => {
  checkRms("NLC", 1, 4100, 2, 1, { activation: "silu" });
  checkRms("NC", 1, 16384, 1, 2);
  checkSkip(false, "NLC", 2, 70, 70, 3, { activation: "gelu" });
  checkSkip(true, "NLC", 1, 9000, 2, 4);
  checkLayerAct("NLC", 1, 16384, 3, 5, "gelu_tanh");
  for (const layout of ["NLC", "NCHW"]) checkSkip(false, layout, 2, 24, 9, 6, { offset: 1e4 });
  // Channels-first layer norm: more than 512 channel rows (f64 flushes), positions in two tiles.
  checkLayerAct("NCL", 1, 600, 7, 7, "relu");
  checkLayerAct("NCHW", 2, 9, 1030, 8, "gelu");
});

test("rows switching between near zero and far offsets (each row's shift chosen from the row before)", () => {
  // Row offsets 0, 1e4, 1e4, 0, −3e3, 0.5·std, 0: unshifted sums, a redo around the mean, shifted
  // sums, back to unshifted; the normalize with and without the mean's residue.
  const offs = [0, 1e4, 1e4, 0, -3e3, 0.5, 0];
  for (const C of [5, 37, 70, 4100]) {
    const R = offs.length, shape = [R, C], eps = 1e-5;
    const x = randomArray(R * C, C), gamma = randomArray(C, C + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, C + 2, { scale: 0.5 });
    for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) x[r * C + j] = Math.fround(x[r * C + j] + offs[r]);
    const e = refLayerNorm(x, null, shape, "NC", { gamma, beta, eps });
    const r = api.layerNorm(x, { shape, layout: "NC", gamma, beta, eps });
    close(r.y, e.y, 2e-5, 1e-4, `layer y, C = ${C}`, shape, "NC");
    close(r.mean, e.mean, 1e-6, 1e-6, `layer mean, C = ${C}`, shape, "NC");
    close(r.invstd, e.invstd, 0, 1e-5, `layer invstd, C = ${C}`, shape, "NC");
    const skip = new Float32Array(R * C);
    const s = api.skipLayerNorm(x, skip, { shape, layout: "NC", gamma, beta, eps });
    close(s.y, e.y, 2e-5, 1e-4, `skip layer y, C = ${C}`, shape, "NC");
  }
});

test("wide skip layer-norm rows (tiles of 16 rows, column blocks of 1024): tails, bias or none, offsets, in place", () => {
  for (const [R, C] of [[1, 1024], [17, 1025], [33, 2063], [16, 1039]]) {
    for (const withBias of [true, false]) checkSkip(false, "NLC", 1, C, R, R + C, { withBias, withDsum: false, activation: R === 17 ? "silu" : undefined });
    // Rows far from zero between near ones (the mean's residue b kept for the column blocks), y over x and sum over skip.
    const shape = [R, C], eps = 1e-5, x = randomArray(R * C, C), skip = randomArray(R * C, C + 5);
    for (let r = 0; r < R; r++) for (let j = 0; j < C; j++) x[r * C + j] = Math.fround(x[r * C + j] + (r % 3 === 1 ? 1e4 : 0));
    const gamma = randomArray(C, 3, { offset: 1, scale: 0.3 }), beta = randomArray(C, 4, { scale: 0.5 }), bias = randomArray(C, 5, { scale: 0.2 });
    const e = refSkipNorm(x, skip, null, shape, "NC", { gamma, beta, bias, eps });
    const xs = x.slice(), ks = skip.slice();
    api.skipLayerNorm(xs, ks, { shape, layout: "NC", gamma, beta, bias, eps, out: xs, sumOut: ks });
    close(ks, e.sum, 0, 0, `sum over skip, ${R} × ${C}`, shape, "NC");
    close(xs, e.y, 1e-3, 1e-4, `y over x, ${R} × ${C}`, shape, "NC");
  }
});

test("backward equals finite differences (skip RMS with silu, skip layer with gelu, bias and dsum)", () => {
  for (const [rms, activation, layout] of [[true, "silu", "NLC"], [false, "gelu", "NLC"], [false, "gelu_tanh", "NCL"], [true, "silu", "NCHW"]]) { // not relu6: a pre-activation of 1e-4 sits on its kink here
    const shape = shapeFor(layout, 2, 4, 3), n = 24;
    const x = Float64Array.from(randomArray(n, 51)), skip = Float64Array.from(randomArray(n, 52));
    const w = Float64Array.from(randomArray(n, 53)), ws = Float64Array.from(randomArray(n, 54)); // loss = Σ w·y + Σ ws·sum
    const gamma = [1.5, 0.7, -1.1, 0.9], beta = rms ? undefined : [0.1, -0.2, 0.3, 0], bias = [0.05, 0, -0.1, 0.2];
    const loss = (xx, gg = gamma, bb = bias) => {
      const e = refSkipNorm(xx.map(Math.fround), skip, null, shape, layout, { rms, gamma: gg, beta, bias: bb, eps: 1e-5, activation });
      let s = 0; for (let i = 0; i < n; i++) s += w[i] * e.y[i] + ws[i] * e.sum[i];
      return s;
    };
    const p = { shape, layout, gamma, beta, bias, eps: 1e-5, activation };
    const r = (rms ? api.skipRmsNorm : api.skipLayerNorm)(Float32Array.from(x), Float32Array.from(skip), p);
    const b = (rms ? api.skipRmsNormBackward : api.skipLayerNormBackward)(r.sum, Float32Array.from(w), { ...p, invRms: r.invRms, mean: r.mean, invstd: r.invstd, dsum: Float32Array.from(ws) });
    const h = 1e-3;
    const near = (got, fd, what) => { if (Math.abs(fd - got) > 3e-3 + 3e-3 * Math.abs(fd)) throw new Error(`${rms ? "rms" : "layer"} ${activation} ${what} = ${got}, finite difference ${fd}`); };
    for (let i = 0; i < n; i++) {
      const xp = x.slice(), xm = x.slice(); xp[i] += h; xm[i] -= h;
      near(b.dx[i], (loss(xp) - loss(xm)) / (2 * h), `dx[${i}]`);
    }
    for (let c = 0; c < 4; c++) {
      const gp = gamma.slice(), gm = gamma.slice(); gp[c] += h; gm[c] -= h;
      const bp = bias.slice(), bm = bias.slice(); bp[c] += h; bm[c] -= h;
      near(b.dgamma[c], (loss(x, gp) - loss(x, gm)) / (2 * h), `dgamma[${c}]`);
      near(b.dbias[c], (loss(x, gamma, bp) - loss(x, gamma, bm)) / (2 * h), `dbias[${c}]`);
    }
  }
});

test("residual stream in place: sum over x or over skip, y over x, dx over dy; tensors zero-copy; no leak", () => {
  const before = api.memoryStats().allocatedBytes;
  for (const layout of ["NLC", "NCHW"]) {
    const d = data(layout, 2, 12, 5, 71), { shape } = d, p = { shape, layout, gamma: d.gamma, beta: d.beta, bias: d.bias };
    const e = refSkipNorm(d.x, d.skip, d.dy, shape, layout, { ...p, eps: 1e-5 });
    const skip = d.skip.slice(), x = d.x.slice();
    const r = api.skipLayerNorm(x, skip, { ...p, sumOut: skip, out: x });
    if (r.sum !== skip || r.y !== x) throw new Error("sum and y must be the arrays given");
    close(skip, e.sum, 0, 0, `${layout} sum over skip`);
    close(x, e.y, 2e-5, 1e-4, `${layout} y over x`);
    const x2 = d.x.slice(), r2 = api.skipRmsNorm(x2, d.skip, { shape, layout, sumOut: x2 });
    const e2 = refSkipNorm(d.x, d.skip, null, shape, layout, { rms: true, eps: 1e-6 });
    close(x2, e2.sum, 0, 0, `${layout} sum over x`);
    close(r2.y, e2.y, 2e-5, 1e-4, `${layout} rms y`);
    // Tensors: zero-copy in and out; dx written over dy.
    const tx = api.tensor(shape, layout, d.x), tk = api.tensor(shape, layout, d.skip), tdy = api.tensor(shape, layout, d.dy);
    const t = api.skipLayerNorm(tx, tk, { gamma: d.gamma, beta: d.beta, bias: d.bias, sumOut: tk });
    if (!(t.y instanceof api.Tensor) || t.sum !== tk) throw new Error("tensor results");
    close(t.y.data, e.y, 2e-5, 1e-4, `${layout} tensor y`);
    const b = api.skipLayerNormBackward(tk, tdy, { gamma: d.gamma, beta: d.beta, mean: t.mean, invstd: t.invstd, out: tdy, bias: true });
    if (b.dx !== tdy) throw new Error("dx must be the caller's tensor");
    close(tdy.data, e.dx.map((v, i) => v - 0), 2e-4, 1e-3, `${layout} dx over dy`);
    const rr = api.rmsNorm(tx, { out: tx, activation: "silu" });
    if (rr.y !== tx) throw new Error("rms in place");
    for (const q of [tx, tk, tdy, t.y]) q.free();
  }
  const after = api.memoryStats().allocatedBytes;
  if (after !== before) throw new Error(`allocated bytes ${before} → ${after}: something leaked`);
});

const bad = { shape: [2, 5, 8], layout: "NLC" };
const fresh = () => ({
  x: randomArray(80, 1), skip: randomArray(80, 2), dy: randomArray(80, 3), out: new Float32Array(80).fill(7), sumOut: new Float32Array(80).fill(9),
  gamma: randomArray(8, 4), beta: randomArray(8, 5), inv: new Float32Array(10).fill(2), mean: new Float32Array(10),
});
function rejects(fn, ...fragments) {
  const a = fresh();
  const before = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));
  throwsWith(() => fn(a), ...fragments);
  for (const k of Object.keys(a)) if (a[k].some((v, i) => !Object.is(v, before[k][i]))) throw new Error(`${k} was modified by a call that threw`);
}

test("skip norm backward with dx over dsum (and dsum over dy): every layout, with and without an activation, tensors", () => {
  for (const layout of ["NCL", "NLC", "NCHW"]) {
    const shape = layout === "NCHW" ? [2, 5, 3, 2] : layout === "NLC" ? [2, 3, 5] : [2, 5, 3], C = 5, n = shape.reduce((a, b) => a * b);
    const x = randomArray(n, 1), skip = randomArray(n, 2), dy = randomArray(n, 3), dsum = randomArray(n, 4);
    const gamma = randomArray(C, 5, { offset: 1 }), beta = randomArray(C, 6);
    for (const rms of [false, true]) for (const activation of [undefined, "silu"]) for (const sameDy of [false, true]) {
      const p = { shape, layout, gamma, beta: rms ? undefined : beta, activation };
      const f = (rms ? api.skipRmsNorm : api.skipLayerNorm)(x, skip, p);
      const e = refSkipNorm(x, skip, dy, shape, layout, { ...p, rms, eps: rms ? 1e-6 : 1e-5, dsum: sameDy ? dy : dsum });
      const S = api.tensor(shape, layout, f.sum), D = api.tensor(shape, layout, dy), Q = sameDy ? D : api.tensor(shape, layout, dsum);
      const b = (rms ? api.skipRmsNormBackward : api.skipLayerNormBackward)(S, D, { gamma, beta: p.beta, activation, invRms: f.invRms, mean: f.mean, invstd: f.invstd, dsum: Q, out: Q, bias: true });
      const what = `${rms ? "skipRmsNormBackward" : "skipLayerNormBackward"} ${layout}${activation ? ` ${activation}` : ""}, out = dsum${sameDy ? " = dy" : ""}`;
      assert.is(b.dx, Q, `${what}: dx is out`);
      close(Q.data, e.dx, 1e-5, 1e-4, `${what} dx`, shape, layout);
      close(b.dbias, e.dbias, 1e-5, 1e-4, `${what} dbias`, shape, layout);
      S.free(); D.free(); if (!sameDy) Q.free();
    }
  }
});

test("RMS norm has no beta: rmsNorm and rmsNormBackward refuse beta and dbetaOut, as the skip RMS norms do", () => {
  const x = randomArray(24, 1), shape = [4, 6], layout = "NC", beta = new Float32Array(6);
  throwsWith(() => api.rmsNorm(x, { shape, layout, beta }), "beta is not a parameter of RMS norm");
  const f = api.rmsNorm(x, { shape, layout });
  throwsWith(() => api.rmsNormBackward(x, x, { shape, layout, invRms: f.invRms, beta }), "beta is not a parameter of RMS norm");
  throwsWith(() => api.rmsNormBackward(x, x, { shape, layout, invRms: f.invRms, dbetaOut: new Float32Array(6) }), "dbetaOut: RMS norm has no beta");
  api.rmsNorm(x, { shape, layout, beta: null });
});

test("bad input: names the argument, writes nothing (out, sumOut, skip, x included)", () => {
  const allowed = "activation must be one of relu, relu6, silu, gelu, gelu_tanh";
  for (const activation of ["swish", "toString", "__proto__", "constructor", 3, "RELU"]) {
    rejects((a) => api.rmsNorm(a.x, { ...bad, activation, out: a.out }), allowed);
    rejects((a) => api.skipLayerNorm(a.x, a.skip, { ...bad, activation, out: a.out, sumOut: a.sumOut }), allowed);
    rejects((a) => api.layerNorm(a.x, { ...bad, activation, out: a.out }), allowed);
    rejects((a) => api.groupNorm(a.x, { ...bad, groups: 2, activation, out: a.out }), allowed);
    rejects((a) => api.batchNormInfer(a.x, { ...bad, runningMean: a.gamma, runningVar: [1, 1, 1, 1, 1, 1, 1, 1], activation, out: a.out }), allowed);
    rejects((a) => api.rmsNormBackward(a.x, a.dy, { ...bad, invRms: a.inv, activation, out: a.out }), allowed);
  }
  rejects((a) => api.rmsNorm(a.x, { ...bad, gamma: [1, 2, 3, 4, 5], out: a.out }), "gamma has 5 values, the tensor has 8 channels");
  rejects((a) => api.rmsNorm(a.x, { ...bad, unitOffset: "yes", out: a.out }), "unitOffset must be true or false");
  rejects((a) => api.rmsNorm(a.x, { ...bad, eps: -1, out: a.out }), "eps must be a finite number ≥ 0");
  rejects((a) => api.skipLayerNorm(a.x, a.skip.subarray(10), { ...bad, out: a.out, sumOut: a.sumOut }), "skip holds 70 values, x holds 80");
  rejects((a) => api.skipLayerNorm(a.x, Array.from(a.skip), { ...bad, sumOut: a.sumOut }), "skip must be a Float32Array or a simdnorm Tensor");
  rejects((a) => api.skipRmsNorm(a.x, a.skip, { ...bad, bias: [1], sumOut: a.sumOut }), "bias has 1 values, the tensor has 8 channels");
  rejects((a) => api.skipRmsNorm(a.x, a.skip, { ...bad, beta: a.beta, sumOut: a.sumOut }), "beta is not a parameter of RMS norm");
  rejects((a) => api.skipLayerNorm(a.x, a.skip, { ...bad, out: a.sumOut, sumOut: a.sumOut }), "out and sumOut must be different arrays");
  rejects((a) => api.skipLayerNorm(a.x, a.skip, { ...bad, sumOut: new Float32Array(3) }), "sumOut holds 3 values");
  rejects((a) => api.rmsNormBackward(a.x, a.dy, { ...bad, invRms: a.inv.subarray(1), out: a.out }), "invRms has 9 values, the tensor has 10 (sample, position) statistics");
  rejects((a) => api.skipRmsNormBackward(a.x, a.dy, { ...bad, invRms: a.inv, dsum: a.skip.subarray(1), out: a.out }), "dsum holds 79 values, sum holds 80");
  rejects((a) => api.skipLayerNormBackward(a.x, a.dy, { ...bad, invstd: a.inv, out: a.out }), "mean must be a Float32Array");
  rejects((a) => api.skipLayerNormBackward(a.x, a.dy.subarray(2), { ...bad, mean: a.mean, invstd: a.inv, out: a.out }), "dy holds 78 values, sum holds 80");
  rejects((a) => api.layerNormBackward(a.x, a.dy, { ...bad, mean: a.mean, invstd: a.inv, beta: [1], activation: "silu", out: a.out }), "beta has 1 values, the tensor has 8 channels");
});

test("out and sumOut in the same memory (two arrays over it, or overlapping in part) are refused, nothing written", () => {
  // Wide rows (C ≥ 1024) take the tiled layer-norm path, which keeps a per-row term in y's memory:
  // y over sum's memory gave a wrong y and a wrong sum.
  const R = 3, C = 1024, n = R * C, o = { shape: [R, C], layout: "NC" };
  const x = randomArray(n, 1), skip = randomArray(n, 2), fresh = api.skipLayerNorm(x, skip, o);
  const t = api.tensor([1, 2 * n], "NC", new Float32Array(2 * n).fill(5)), view = (a, b) => new Float32Array(api.wasmMemory().buffer, t.ptr + 4 * a, b - a);
  const heap = new Float32Array(2 * n).fill(6), hv = (a, b) => new Float32Array(heap.buffer, 4 * a, b - a);
  for (const [what, out, sumOut] of [
    ["wasm, whole", () => view(0, n), () => view(0, n)],
    ["wasm, in part", () => view(0, n), () => view(4, n + 4)],
    ["JS heap, whole", () => hv(0, n), () => hv(0, n)],
    ["JS heap, in part", () => hv(8, n + 8), () => hv(0, n)],
  ]) {
    for (const call of [(a, b) => api.skipLayerNorm(x, skip, { ...o, out: a, sumOut: b }), (a, b) => api.skipRmsNorm(x, skip, { ...o, out: a, sumOut: b })]) {
      throwsWith(() => call(out(), sumOut()), "out and sumOut must be different arrays");
      if (!t.toArray().every((v) => v === 5) || !heap.every((v) => v === 6)) throw new Error(`${what}: written by a call that threw`);
    }
  }
  // Side by side in one buffer: fine.
  const r = api.skipLayerNorm(x, skip, { ...o, out: view(0, n), sumOut: view(n, 2 * n) });
  close(r.y, fresh.y, 0, 0, "y next to sum");
  close(view(n, 2 * n), fresh.sum, 0, 0, "sum next to y");
  const h = api.skipLayerNorm(x, skip, { ...o, out: hv(n, 2 * n), sumOut: hv(0, n) });
  close(h.y, fresh.y, 0, 0, "y next to sum (JS heap)");
  close(hv(0, n), fresh.sum, 0, 0, "sum next to y (JS heap)");
  t.free();
});

test("options are read once, per-channel values must be finite, options must be an object", () => {
  for (const [name, call] of [["rmsNorm", (x, o) => api.rmsNorm(x, o)], ["skipLayerNorm", (x, o) => api.skipLayerNorm(x, x.slice(), o)], ["skipRmsNorm", (x, o) => api.skipRmsNorm(x, x.slice(), o)]]) {
    let reads = 0;
    const x = randomArray(80, 5), opts = { shape: [2, 5, 8], layout: "NLC", get gamma() { reads++; return new Float32Array(8).fill(2); } };
    call(x, opts);
    if (reads !== 1) throw new Error(`${name} read gamma ${reads} times`);
  }
  rejects((a) => api.rmsNorm(a.x, { ...bad, gamma: [1, 2, 3, 4, 5, 6, 7, NaN], out: a.out }), "gamma[7] is NaN");
  rejects((a) => api.skipRmsNorm(a.x, a.skip, { ...bad, bias: [1, 2, 3, 4, 5, 6, 7, Infinity], sumOut: a.sumOut }), "bias[7] is Infinity");
  rejects((a) => api.rmsNorm(a.x, 5), "options must be an object");
});

test("RMS norm backward: sums that overflow give NaN in every dx, as the skip RMS backward does", () => {
  for (const C of [8, 19]) {
    const x = new Float32Array(C).fill(1), dy = new Float32Array(C).fill(2e19), gamma = new Float32Array(C).fill(1e19), invRms = Float32Array.of(1);
    const r = api.rmsNormBackward(x, dy, { shape: [1, C], layout: "NC", gamma, invRms });
    const s = api.skipRmsNormBackward(x, dy, { shape: [1, C], layout: "NC", gamma, invRms });
    for (let i = 0; i < C; i++) {
      if (!Number.isNaN(r.dx[i])) throw new Error(`C = ${C}: rmsNormBackward dx[${i}] = ${r.dx[i]}, expected NaN`);
      if (!Number.isNaN(s.dx[i])) throw new Error(`C = ${C}: skipRmsNormBackward dx[${i}] = ${s.dx[i]}, expected NaN`);
    }
  }
});

test.run();
