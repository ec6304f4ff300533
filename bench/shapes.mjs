// Any shape, every op, against the copy of its bytes: for shapes the coverage matrix does not hold
// ((N, C) with few rows, wide or odd C, 3-D and 5-D layouts, short layer-norm rows). Each op's
// zero-copy call (Tensors, `out`, the statistics into given arrays where the op takes them) and
// the ceiling (bench/ceiling: a SIMD copy of x into y scaled to the op's bytes; statistics: the
// one-pass Σx, Σx² loop) timed in rotating rounds in one process; the figure is the median over
// rounds of that round's ceiling / op (bench/lib/rounds.mjs). An op the shape does not fit
// (instance norm of (N, C), training with one value a channel) prints its error instead.
//
//   node bench/shapes.mjs [LAYOUT:d0,d1,… …] [--ops stats,bn_infer,bn_train,bn_backward,instance,instance_backward,group,group_backward,layer,layer_backward,rms,rms_backward]
//                         [--rounds 15] [--base DIST]
// Without shapes: the survey of docs/performance.md ("Shapes outside the matrix"). With --base (a
// dist/ directory of another build): that build's call timed in the same rounds on its own
// tensors of the same data, and this build's speed-up over it (median of the per-round ratios).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as sn from "../dist/index.js";
import { loadCeilingOn } from "./ceiling/index.mjs";
import { parseArgs } from "./lib/cli.mjs";
import { rotatingRounds, pairRatio } from "./lib/rounds.mjs";
import { median } from "./lib/timing.mjs";
import { warmAllocator } from "./lib/alloc.mjs";
import { randomArray } from "../test/reference.mjs";

const { opts, rest } = parseArgs(process.argv.slice(2), { ops: "", rounds: "15", base: "" });
const base = opts.base ? await import(pathToFileURL(resolve(opts.base, "index.js")).href) : null;
const SURVEY = [
  "NC:2,99999", "NC:8,4096", "NC:32,4096", "NC:256,512", "NC:4096,13", "NC:32768,8",
  "NCL:8,13,4097", "NLC:8,4097,13", "NLC:1,50000,5", "NLC:16,1000,100",
  "NCDHW:2,16,9,17,19", "NDHWC:2,9,17,19,16", "NDHWC:1,16,32,32,7",
  "NHWC:3,57,57,5", "NHWC:1,223,223,3", "NHWC:2,3,3,1000", "NHWC:1,4,4,2047", "NCHW:2,1000,3,3", "NCHW:32,3,32,32",
];
const CHANNELS_LAST = new Set(["NC", "NLC", "NHWC", "NDHWC"]);

/** op → [bytes moved per value, ceiling kind, make(t, module) → the call]. */
const OPS = {
  stats: [4, "sumsq", (t, M) => () => M.channelStats(t.x)],
  bn_infer: [8, "copy", (t, M) => () => M.batchNormInfer(t.x, { gamma: t.g, beta: t.b, runningMean: t.rm0, runningVar: t.rv0, out: t.y })],
  bn_train: [12, "copy", (t, M) => () => M.batchNormTrain(t.x, { gamma: t.g, beta: t.b, runningMean: t.rm, runningVar: t.rv, out: t.y })],
  bn_backward: [20, "copy", (t, M) => { const f = M.batchNormTrain(t.x, { gamma: t.g, beta: t.b }); return () => M.batchNormBackward(t.x, t.dy, { gamma: t.g, saveMean: f.saveMean, saveInvstd: f.saveInvstd, out: t.y }); }],
  instance: [12, "copy", (t, M) => { const m = M.instanceNorm(t.x).mean, mo = new Float32Array(m.length), io = new Float32Array(m.length); return () => M.instanceNorm(t.x, { gamma: t.g, beta: t.b, out: t.y, meanOut: mo, invstdOut: io }); }],
  group: [12, "copy", (t, M) => { const m = M.groupNorm(t.x, { groups: t.G }).mean, mo = new Float32Array(m.length), io = new Float32Array(m.length); return () => M.groupNorm(t.x, { gamma: t.g, beta: t.b, groups: t.G, out: t.y, meanOut: mo, invstdOut: io }); }],
  instance_backward: [20, "copy", (t, M) => { const f = M.instanceNorm(t.x), C = t.g.length, dg = new Float32Array(C), db = new Float32Array(C); return () => M.instanceNormBackward(t.x, t.dy, { gamma: t.g, mean: f.mean, invstd: f.invstd, out: t.y, dgammaOut: dg, dbetaOut: db }); }],
  group_backward: [20, "copy", (t, M) => { const f = M.groupNorm(t.x, { groups: t.G }), C = t.g.length, dg = new Float32Array(C), db = new Float32Array(C); return () => M.groupNormBackward(t.x, t.dy, { gamma: t.g, groups: t.G, mean: f.mean, invstd: f.invstd, out: t.y, dgammaOut: dg, dbetaOut: db }); }],
  layer_backward: [20, "copy", (t, M) => { const f = M.layerNorm(t.x, { gamma: t.g, beta: t.b }), C = t.g.length, dg = new Float32Array(C), db = new Float32Array(C); return () => M.layerNormBackward(t.x, t.dy, { gamma: t.g, mean: f.mean, invstd: f.invstd, out: t.y, dgammaOut: dg, dbetaOut: db }); }],
  rms_backward: [20, "copy", (t, M) => { const f = M.rmsNorm(t.x, { gamma: t.g }), dg = new Float32Array(t.g.length); return () => M.rmsNormBackward(t.x, t.dy, { gamma: t.g, invRms: f.invRms, out: t.y, dgammaOut: dg }); }],
  rms: [12, "copy", (t, M) => { const o = new Float32Array(M.rmsNorm(t.x).invRms.length); return () => M.rmsNorm(t.x, { gamma: t.g, out: t.y, invRmsOut: o }); }],
  layer: [12, "copy", (t, M) => { const m = M.layerNorm(t.x).mean, mo = new Float32Array(m.length), io = new Float32Array(m.length); return () => M.layerNorm(t.x, { gamma: t.g, beta: t.b, out: t.y, meanOut: mo, invstdOut: io }); }],
};
const ops = opts.ops ? opts.ops.split(",") : Object.keys(OPS);
for (const o of ops) if (!OPS[o]) throw new Error(`unknown op ${o}: one of ${Object.keys(OPS)}`);

await sn.init({ warmup: true });
if (base) await base.init({ warmup: true });
warmAllocator();
const ceiling = await loadCeilingOn(sn.wasmMemory());
for (const spec of rest.length ? rest : SURVEY) {
  const [layout, dims] = spec.split(":");
  const shape = dims.split(",").map(Number), n = shape.reduce((a, b) => a * b);
  const C = CHANNELS_LAST.has(layout) ? shape.at(-1) : shape[1];
  /** The op's arguments as tensors of module M (the same data for either build). */
  const args = (M) => ({
    x: M.tensor(shape, layout, randomArray(n, 7, { offset: 0.5, scale: 1.5 })), dy: M.tensor(shape, layout, randomArray(n, 11)), y: M.tensor(shape, layout),
    G: C % 4 === 0 ? 4 : 1, g: new Float32Array(C).fill(1.1), b: new Float32Array(C).fill(0.1),
    rm0: new Float32Array(C), rv0: new Float32Array(C).fill(1), rm: new Float32Array(C), rv: new Float32Array(C).fill(1),
  });
  const t = args(sn), tb = base ? args(base) : null, { x, dy, y } = t;
  const cells = [];
  for (const o of ops) {
    const [bpv, kind, make] = OPS[o];
    let f, fb;
    try { f = make(t, sn); f(); if (tb) { fb = make(tb, base); fb(); } } catch (e) { cells.push(`${o} – (${e.message.split(":")[0]})`); continue; }
    const ceil = kind === "sumsq" ? () => ceiling.sumsqAt(n, x.ptr) : () => ceiling.copyAt(n, x.ptr, y.ptr);
    const tr = await rotatingRounds(fb ? [f, ceil, fb] : [f, ceil], +opts.rounds);
    const share = (kind === "sumsq" ? 1 : bpv / 8) / pairRatio(tr, 0, 1);
    const vs = fb ? `; base ${(1000 * median(tr[2])).toFixed(1)} µs, ${pairRatio(tr, 2, 0).toFixed(2)}×` : "";
    cells.push(`${o} ${Math.round(100 * share)}% (${(1000 * median(tr[0])).toFixed(1)} µs${vs})`);
  }
  console.log(`${layout} (${shape}) ${n} values: ${cells.join(", ")}`);
  for (const a of tb ? [t, tb] : [t]) { a.x.free(); a.dy.free(); a.y.free(); }
}
