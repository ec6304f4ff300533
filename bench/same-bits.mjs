// Every op's outputs of this build against another build's, bit for bit: the check for a change
// meant to keep results exactly (a refactor of the JS layer, a kernel rewritten with the same
// arithmetic). Both builds run the same calls on the same inputs (plain Float32Arrays copied in,
// Float32Array views of wasm memory, and Tensor objects), over shapes that reach every dispatch path: channels-first rows of
// < 16 values (pseudo-channels), channels-first, channels-last, (N, C), wide C; with and without
// gamma / beta / bias / running statistics, an activation, synchronized sums; and the layer objects
// (training, accumulating and eval steps). Every typed array,
// Tensor and number of each result is compared (NaN payloads included).
//
//   node bench/same-bits.mjs --base /tmp/old/dist [--only batchNormBackward,skipRmsNorm]
// Exit status 1 when any result differs (the first differences are printed).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as now from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { parseArgs } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { base: "", only: "" });
if (!opts.base) { console.error("usage: node bench/same-bits.mjs --base DIST [--only op,op]"); process.exit(2); }
const base = await import(pathToFileURL(resolve(opts.base, "index.js")).href);
await now.init(); await base.init();
const only = opts.only ? opts.only.split(",") : null;

/** Shapes per layout that reach the dispatch paths (js/ops/dispatch.ts mode, norm-rows.ts rowsOf). */
const SHAPES = [
  [[2, 3, 1, 5], "NCHW"], [[1, 16, 1, 2], "NCHW"], [[3, 7, 2, 3], "NCHW"], [[2, 8, 4, 20], "NCHW"], [[1, 4, 1, 70], "NCHW"],
  [[2, 6, 9], "NCL"], [[2, 3, 4, 5], "NHWC"], [[1, 2, 3, 17], "NHWC"], [[2, 5, 16], "NLC"], [[4, 7], "NC"], [[3, 33], "NC"], [[1, 200, 1, 3], "NCHW"],
  // Channels-last tensors of whole super-rows: the column sweeps of normalize, dx and the sums.
  [[1, 4, 70, 64], "NHWC"], [[1, 1, 90, 96], "NHWC"], [[2, 40, 144], "NLC"], [[1, 9, 512], "NLC"],
  // 16-value patterns past 128 Ki values (the dx's m = 0 loop at every size).
  [[1, 1, 40001, 4], "NHWC"], [[2, 90, 100, 8], "NHWC"],
  // Wide rows past 128 Ki values: the two-row normalize (its m = 0 loop on data near zero).
  [[1, 1, 1101, 128], "NHWC"],
];

const prod = (s) => s.reduce((a, b) => a * b, 1);
const chans = (shape, layout) => (layout.endsWith("C") ? shape[shape.length - 1] : shape[1]);
const vec = (n, seed, offset = 0, scale = 1) => randomArray(n, seed, { offset, scale });
const pos = (n, seed) => vec(n, seed, 1.5, 0.5).map(Math.abs); // |·|: C ≥ 400 values reach 3σ below 0

/**
 * The calls of one shape, as functions of a module M and an input maker `a` (the array itself, or
 * the data view of a Tensor holding it: zero-copy): each returns the op's result.
 */
function calls(shape, layout) {
  const n = prod(shape), C = chans(shape, layout), S = n / C / shape[0];
  const x = vec(n, 1, 3, 2), dy = vec(n, 2), skip = vec(n, 3);
  const gamma = vec(C, 4, 1, 0.3), beta = vec(C, 5), bias = vec(C, 6), rm = vec(C, 7), rv = pos(C, 8);
  const G = C % 2 === 0 ? 2 : 1;
  const list = [];
  const add = (op, f) => { if (!only || only.includes(op)) list.push([op, f]); };
  const sh = { shape, layout };
  add("channelStats", (M, a) => M.channelStats(a(x), sh));
  add("partialStats", (M, a) => M.partialStats(a(x), sh));
  for (const conv of ["pytorch", "keras"]) {
    add("batchNormTrain", (M, a) => M.batchNormTrain(a(x), { ...sh, gamma, beta, runningMean: rm.slice(), runningVar: rv.slice(), convention: conv }));
    add("batchNormTrain", (M, a) => {
      const runningMean = Float64Array.from(rm), runningVar = Float64Array.from(rv);
      const r = M.batchNormTrain(a(x), { ...sh, runningMean, runningVar, convention: conv });
      return { r, runningMean, runningVar };
    });
  }
  add("batchNormTrain", (M, a) => {
    const runningMean = rm.slice(), runningVar = rv.slice();
    return { r: M.batchNormTrain(a(x), { ...sh, gamma, beta, runningMean, runningVar, activation: "silu" }), runningMean, runningVar };
  });
  add("batchNormInfer", (M, a) => M.batchNormInfer(a(x), { ...sh, gamma, beta, runningMean: rm, runningVar: rv }));
  add("batchNormInfer", (M, a) => M.batchNormInfer(a(x), { ...sh, runningMean: rm, runningVar: rv, activation: "relu" }));
  const fw = now.batchNormTrain(x, { ...sh, gamma, beta });
  const bw = { saveMean: fw.saveMean, saveInvstd: fw.saveInvstd };
  add("batchNormBackward", (M, a) => M.batchNormBackward(a(x), a(dy), { ...sh, gamma, ...bw }));
  add("batchNormBackward", (M, a) => M.batchNormBackward(a(x), a(dy), { ...sh, ...bw }));
  add("batchNormBackward", (M, a) => M.batchNormBackward(a(x), a(dy), { ...sh, gamma, beta, ...bw, activation: "silu" }));
  add("batchNormBackward", (M, a) => M.batchNormBackward(a(x), a(dy), { ...sh, gamma, ...bw, globalSums: Float64Array.from(vec(2 * C, 9)), count: 3 * (n / C) }));
  // Data near zero (|mean| ≤ std): the kernels get m = 0 (the channels-last dx's m = 0 sweeps).
  const z = vec(n, 10), fz = now.batchNormTrain(z, { ...sh, gamma, beta });
  add("batchNormBackward", (M, a) => M.batchNormBackward(a(z), a(dy), { ...sh, gamma, saveMean: fz.saveMean, saveInvstd: fz.saveInvstd }));
  add("backwardPartials", (M, a) => M.backwardPartials(a(x), a(dy), { ...sh, saveMean: fw.saveMean }));
  add("batchNormBackwardEval", (M, a) => M.batchNormBackwardEval(a(x), a(dy), { ...sh, gamma, runningMean: rm, runningVar: rv }));
  add("batchNormBackwardEval", (M, a) => M.batchNormBackwardEval(a(x), a(dy), { ...sh, gamma, beta, runningMean: rm, runningVar: rv, activation: "silu" }));
  if (S > 1) {
    const inst = now.instanceNorm(x, { ...sh, gamma, beta });
    add("instanceNorm", (M, a) => M.instanceNorm(a(x), { ...sh, gamma, beta }));
    add("instanceNorm", (M, a) => M.instanceNorm(a(x), { ...sh, activation: "silu" }));
    add("instanceNormBackward", (M, a) => M.instanceNormBackward(a(x), a(dy), { ...sh, gamma, mean: inst.mean, invstd: inst.invstd }));
  }
  const gn = now.groupNorm(x, { ...sh, groups: G, gamma, beta });
  add("groupNorm", (M, a) => M.groupNorm(a(x), { ...sh, groups: G, gamma, beta }));
  add("groupNorm", (M, a) => M.groupNorm(a(x), { ...sh, groups: G, beta, activation: "gelu" }));
  add("groupNormBackward", (M, a) => M.groupNormBackward(a(x), a(dy), { ...sh, groups: G, gamma, mean: gn.mean, invstd: gn.invstd }));
  add("groupNormBackward", (M, a) => M.groupNormBackward(a(x), a(dy), { ...sh, groups: G, gamma, beta, mean: gn.mean, invstd: gn.invstd, activation: "silu" }));
  const ln = now.layerNorm(x, { ...sh, gamma, beta }), rms = now.rmsNorm(x, { ...sh, gamma });
  add("layerNorm", (M, a) => M.layerNorm(a(x), { ...sh, gamma, beta }));
  add("layerNorm", (M, a) => M.layerNorm(a(x), { ...sh, gamma, activation: "silu" }));
  add("layerNormBackward", (M, a) => M.layerNormBackward(a(x), a(dy), { ...sh, gamma, beta, mean: ln.mean, invstd: ln.invstd }));
  add("layerNormBackward", (M, a) => M.layerNormBackward(a(x), a(dy), { ...sh, gamma, beta, mean: ln.mean, invstd: ln.invstd, activation: "gelu" }));
  add("rmsNorm", (M, a) => M.rmsNorm(a(x), { ...sh, gamma }));
  add("rmsNorm", (M, a) => M.rmsNorm(a(x), { ...sh, gamma, unitOffset: true, activation: "silu" }));
  add("rmsNorm", (M, a) => M.rmsNorm(a(x), sh));
  add("rmsNormBackward", (M, a) => M.rmsNormBackward(a(x), a(dy), { ...sh, gamma, invRms: rms.invRms }));
  for (const b of [undefined, bias]) {
    const sl = now.skipLayerNorm(x, skip, { ...sh, gamma, beta, bias: b }), sr = now.skipRmsNorm(x, skip, { ...sh, gamma, bias: b });
    add("skipLayerNorm", (M, a) => M.skipLayerNorm(a(x), a(skip), { ...sh, gamma, beta, bias: b }));
    add("skipLayerNorm", (M, a) => M.skipLayerNorm(a(x), a(skip), { ...sh, bias: b, activation: "relu" }));
    add("skipRmsNorm", (M, a) => M.skipRmsNorm(a(x), a(skip), { ...sh, gamma, bias: b }));
    add("skipRmsNorm", (M, a) => M.skipRmsNorm(a(x), a(skip), { ...sh, bias: b, activation: "silu" }));
    add("skipLayerNormBackward", (M, a) => M.skipLayerNormBackward(a(sl.sum instanceof Float32Array ? sl.sum : sl.sum.data), a(dy), { ...sh, gamma, beta, mean: sl.mean, invstd: sl.invstd, dsum: a(skip), bias: b ?? true }));
    add("skipRmsNormBackward", (M, a) => M.skipRmsNormBackward(a(sr.sum instanceof Float32Array ? sr.sum : sr.sum.data), a(dy), { ...sh, gamma, invRms: sr.invRms, bias: b }));
  }
  // The layer objects: training forward / backward, a second step accumulating, then eval; with
  // a Tensor input no shape or layout is passed (the tensor's own geometry), else the call's.
  const layers = [["BatchNorm", (M) => new M.BatchNorm(C, { layout })], ["BatchNorm", (M) => new M.BatchNorm(C, { layout, convention: "keras", activation: "silu" })],
    ["GroupNorm", (M) => new M.GroupNorm(C, { groups: G, layout })], ["LayerNorm", (M) => new M.LayerNorm(C, { layout })], ["RMSNorm", (M) => new M.RMSNorm(C, { layout })]];
  if (S > 1) layers.push(["InstanceNorm", (M) => new M.InstanceNorm(C, { layout, affine: true })]);
  for (const [name, make] of layers) {
    add(name, (M, a) => {
      const L = make(M), X = a(x), DY = a(dy), at = typeof X.free === "function" ? {} : sh;
      L.gamma.set(gamma); L.beta?.set(beta);
      const y1 = L.forward(X, at), dx1 = L.backward(DY), y2 = L.forward(X, at), dx2 = L.backward(DY, { accumulate: true });
      L.eval();
      const y3 = L.forward(X, at), dx3 = L.backward(DY);
      return { y1, dx1, y2, dx2, y3, dx3, dgamma: L.dgamma, dbeta: L.dbeta, runningMean: L.runningMean, runningVar: L.runningVar };
    });
  }
  return list;
}

/** Every number of a result, flattened in a fixed order (Tensors read through their data). */
function flatten(v, out = []) {
  if (v === null || v === undefined) return out;
  if (typeof v === "number") { out.push(v); return out; }
  if (ArrayBuffer.isView(v)) { for (const e of v) out.push(e); return out; } // (a spread of ≥ ~10⁵ values overflows the stack)
  if (typeof v.free === "function" && v.data) { for (const e of v.data) out.push(e); v.free(); return out; }
  for (const k of Object.keys(v).sort()) flatten(v[k], out);
  return out;
}

const bits = new Float64Array(1), u = new BigUint64Array(bits.buffer);
const same = (a, b) => { bits[0] = a; const x = u[0]; bits[0] = b; return x === u[0]; };
let results = 0, values = 0, bad = 0;
for (const [shape, layout] of SHAPES) {
  for (const [op, f] of calls(shape, layout)) {
    for (const mode of ["copied", "zero-copy", "Tensor"]) {
      const made = [];
      const maker = (M) => (arr) => {
        if (mode === "copied") return arr;
        // zero-copy: a Float32Array viewing wasm memory; Tensor: the Tensor object itself, of the
        // call's shape (the path that remembers tensors, and Tensor results).
        const t = mode === "Tensor" ? M.tensor(shape, layout, arr) : M.tensor([1, arr.length], "NC", arr);
        made.push(t);
        return mode === "Tensor" ? t : t.data;
      };
      const A = flatten(f(now, maker(now))), B = flatten(f(base, maker(base)));
      made.forEach((t) => t.free());
      results++; values += A.length;
      const i = A.length !== B.length ? -1 : A.findIndex((a, j) => !same(a, B[j]));
      if (A.length !== B.length || i >= 0) {
        bad++;
        if (bad <= 10) console.log(`DIFF ${op} ${layout} (${shape}) ${mode}: ${A.length !== B.length ? `${A.length} vs ${B.length} values` : `value ${i}: ${A[i]} vs ${B[i]}`}`);
      }
    }
  }
}
console.log(`${results} results (${values} values) compared with ${opts.base}: ${bad ? `${bad} differ` : "all bit for bit equal"}`);
process.exit(bad ? 1 : 0);
