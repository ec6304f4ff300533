// Per-call cost on small tensors: a zero-copy call (Tensor in, `out` Tensor given) of each op at
// 256, 2048 and 16 K values, against the same kernels called directly on raw pointers (a second
// instance of build/simdnorm.wasm, data at fixed offsets, same sizes). The difference is the JS
// layer: option reading, validation, scope, dispatch, per-channel parameters and results. The
// layer objects (BatchNorm, GroupNorm, LayerNorm, RMSNorm in training mode) are timed the same
// way, forward alone and forward + backward, against the kernels of the calls they make.
// Calls are timed in batches (CPU time); the API, the baseline API (--base) and the raw kernels
// alternate batch by batch, so all three see the same machine load. Cases that return fresh
// result arrays of KBs (the row backwards without gradient outputs, wide C) measure the
// process's malloc state as much as the op: glibc may return the freed stores to the kernel
// after each GC and fault them in again (docs/performance.md, per-call cost, "Sixth pass").
//
//   node bench/percall.mjs [--rounds 40] [--calls 2000] [--only layerNorm] [--sizes 2048]
//                          [--shapes 1024x2,16x2] [--base /tmp/old/dist] [--dist DIR] [--json bench/results/percall.json]
// --shapes: batch norm and channel statistics also on NCHW (1, C, 1, S) tensors of these C × S
// (wide C, short rows; empty: none), against the data kernels those shapes run (channels-first,
// or channels-last pseudo-channels for rows of < 16 values while C·S ≤ 1024: js/ops/dispatch.ts).
// --base: another build's dist/ directory (e.g. a copy of dist/ taken before a change): its API
// and its own kernels (dist/simdnorm.wasm) are timed in the same rounds, interleaved, so "before"
// and "after" are measured in one process under the same load.
// --dist: time another build's dist/ (API and kernels) instead of this one, alone in its process
// (a build whose calls leave much garbage — maps, off-heap stores — slows the other in one process).
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { rounds: "40", calls: "2000", json: "", only: "", sizes: "256,2048,16384", shapes: "1024x2,16x2", base: "", dist: "" });
const ROUNDS = +opts.rounds, CALLS = +opts.calls;
const api = await import(opts.dist ? pathToFileURL(resolve(opts.dist, "index.js")).href : "../dist/index.js");
await api.init({ warmup: true });
const base = opts.base ? await import(pathToFileURL(resolve(opts.base, "index.js")).href) : null;
if (base) await base.init({ warmup: true });

// The raw kernels on their own memory: x, y (out), dy, skip, sum in regions of 1 MiB, then the
// per-channel / per-row parameters (gamma = 1.5, beta = 0.1, m = 0, a = 1), accumulators, scratch.
const MB = 1 << 20, X = 65536, Y = X + MB, D = Y + MB, K = D + MB, Z = K + MB, B8 = Z + MB, P = B8 + MB;
const at = (i) => P + i * 65536;
const pg = at(0), pb = at(1), pm = at(2), pa = at(3), pz = at(4), acc = at(5), p1 = at(6), p2 = at(7), p3 = at(8), cacc = at(10), scr = at(11), mh = at(13), ml = at(14), mi = at(15), mf = at(16);
/** An instance of a wasm build with the data above in its memory. */
function rawInstance(url) {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(url)), { env: { abort() { throw new Error("abort"); } } }).exports;
  raw.memory.grow(160);
  const F = new Float32Array(raw.memory.buffer);
  F.set(randomArray(1 << 16, 3), X >>> 2); F.set(randomArray(1 << 16, 4), D >>> 2); F.set(randomArray(1 << 16, 6), K >>> 2);
  F.fill(1.5, pg >>> 2, (pg >>> 2) + 16384); F.fill(0.1, pb >>> 2, (pb >>> 2) + 16384); F.fill(1, pa >>> 2, (pa >>> 2) + 16384);
  return raw;
}
const tensorOf = (A, shape, layout, seed) => A.tensor(shape, layout, seed === undefined ? undefined : randomArray(shape.reduce((a, b) => a * b, 1), seed));

/** The kernels each case runs, on raw pointers of instance raw (what the API call runs for these shapes). */
function rawCases(raw, V) {
  const zero64 = (p, n) => new Float64Array(raw.memory.buffer, p, n).fill(0);
  const C = 16, S = V / C, row = Math.min(V, 2048), R = V / row, side = pixelSide(V), px = side * side;
  const img = new Uint8Array(pixelBytes(side)), U8 = new Uint8Array(raw.memory.buffer);
  const stats = (Cs, Ss) => { zero64(acc, 3 * Cs); raw.bn_stats_f32_cf(1, Cs, Ss, X, acc, scr); };
  const groupNorm = (G) => {
    stats(G, (C / G) * S);
    raw.gn_params_finish_f32(G, acc, 1e-5, mh, ml, mi, mf);
    raw.gn_params_f32(1, C, G, mh, ml, mi, pg, pb, p1, p2, p3);
    raw.bn_normalize_f32_cf(1, C, S, X, p1, p2, p3, Y);
  };
  return {
    channelStats: () => stats(C, S),
    batchNormInfer: () => raw.bn_normalize_f32_cf(1, C, S, X, pm, pa, pb, Y),
    batchNormTrain: () => { stats(C, S); raw.bn_normalize_f32_cf(1, C, S, X, pm, pa, pb, Y); },
    batchNormBackward: () => { zero64(acc, 2 * C); raw.bn_backward_reduce_f32_cf(1, C, S, X, D, pm, acc); raw.bn_backward_dx_f32_cf(1, C, S, X, D, pm, pa, pb, pg, Y); },
    instanceNorm: () => groupNorm(C),
    groupNorm: () => groupNorm(4),
    layerNorm: () => raw.ln_forward_f32_cl(R, row, X, pg, pb, Y, p1, p2, 1e-5, 0),
    layerNormBackward: () => raw.ln_backward_rows_f32_cl(R, row, X, D, pz, pa, pz, pg, pb, Y, cacc, scr, 0),
    rmsNorm: () => raw.rms_forward_f32_cl(R, row, X, pg, Y, p2, 1e-6, 0),
    rmsNormBackward: () => raw.rms_backward_f32_cl(R, row, X, D, pa, pg, pz, Y, cacc, scr, 0),
    skipLayerNorm: () => raw.skip_forward_f32_cl(R, row, X, K, 0, pg, pb, Z, Y, p1, p2, 1e-5, 0, 0),
    skipRmsNorm: () => raw.skip_forward_f32_cl(R, row, X, K, 0, pg, 0, Z, Y, p2, p2, 1e-6, 1, 0),
    // (No bias: 0, as the API passes it; a build that reads a bias anyway reads C values at 0.)
    // Bytes from the JS heap are copied in by the API too (the stage), then one kernel pass.
    fromPixels: () => { U8.set(img, B8); raw.px_normalize_f32_cf(px, px, 4, B8, pa, pz, Y); },
  };
}

/**
 * raw, whose functions throw when called with another number of arguments than the export takes
 * (a wasm function ignores extra ones and reads missing ones as 0: a case passing another
 * kernel's argument list would time something else). Each case runs once through it at startup.
 */
function arityChecked(raw) {
  const out = {};
  for (const [name, f] of Object.entries(raw)) {
    out[name] = typeof f !== "function" ? f : (...a) => {
      if (a.length !== f.length) throw new Error(`bench: ${name} takes ${f.length} arguments, the case passes ${a.length}`);
      return f(...a);
    };
  }
  return out;
}

/** The layer objects' calls run the kernels of the functional calls they make. */
function withLayers(k) {
  const pair = (f, b) => () => { k[f](); k[b](); };
  return Object.assign(k, {
    "BatchNorm.forward": k.batchNormTrain, "BatchNorm.forward+backward": pair("batchNormTrain", "batchNormBackward"),
    "GroupNorm.forward": k.groupNorm, "LayerNorm.forward": k.layerNorm, "LayerNorm.forward+backward": pair("layerNorm", "layerNormBackward"),
    "RMSNorm.forward": k.rmsNorm, "RMSNorm.forward+backward": pair("rmsNorm", "rmsNormBackward"),
    "layerNorm → Tensor": k.layerNorm, "tensor": () => {},
  });
}

/** Image side for about V output values (3 per pixel), and its RGBA byte count. */
const pixelSide = (V) => Math.round(Math.sqrt(V / 3));
const pixelBytes = (side) => side * side * 4;

/** The API calls of each case on tensors of module A (x, dy, skip: Tensors; out given). */
function apiCases(A, V) {
  const C = 16, S = V / C, row = Math.min(V, 2048), side = pixelSide(V);
  const cf = [1, C, 1, S], rs = [V / row, row];
  const x = tensorOf(A, cf, "NCHW", 1), y = tensorOf(A, cf, "NCHW"), dy = tensorOf(A, cf, "NCHW", 2);
  const r = tensorOf(A, rs, "NC", 5), ry = tensorOf(A, rs, "NC"), rd = tensorOf(A, rs, "NC", 7), rk = tensorOf(A, rs, "NC", 8), rz = tensorOf(A, rs, "NC");
  const img = new Uint8ClampedArray(pixelBytes(side)).map((_, i) => (i * 37) & 255), py = tensorOf(A, [1, 3, side, side], "NCHW");
  const gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.1), runningMean = new Float32Array(C), runningVar = new Float32Array(C).fill(1);
  const lnG = new Float32Array(row).fill(1.5), lnB = new Float32Array(row).fill(0.1);
  const saveMean = new Float32Array(C), saveInvstd = new Float32Array(C).fill(1);
  const ln = A.layerNorm(r, { gamma: lnG, beta: lnB, out: ry }), rms = A.rmsNorm(r, { gamma: lnG, out: ry });
  const dgammaOut = new Float32Array(row), dbetaOut = new Float32Array(row); // (a build without these options ignores them)
  // Layer objects (training mode), as a model calls them: options built by the layer each call.
  const dx = tensorOf(A, cf, "NCHW"), rdx = tensorOf(A, rs, "NC");
  const bnL = new A.BatchNorm(C, { layout: "NCHW" }), gnL = new A.GroupNorm(C, { groups: 4, layout: "NCHW" });
  const lnL = new A.LayerNorm(row), rmsL = new A.RMSNorm(row);
  return {
    free: () => [x, y, dy, r, ry, rd, rk, rz, py, dx, rdx].forEach((z) => z.free()),
    list: [
      ["channelStats", "NCHW (1, 16, S)", () => A.channelStats(x)],
      ["batchNormInfer", "NCHW (1, 16, S)", () => A.batchNormInfer(x, { gamma, beta, runningMean, runningVar, out: y })],
      ["batchNormTrain", "NCHW (1, 16, S)", () => A.batchNormTrain(x, { gamma, beta, runningMean, runningVar, out: y })],
      ["batchNormBackward", "NCHW (1, 16, S)", () => A.batchNormBackward(x, dy, { gamma, saveMean, saveInvstd, out: y })],
      ["instanceNorm", "NCHW (1, 16, S)", () => A.instanceNorm(x, { gamma, beta, out: y })],
      ["groupNorm", "NCHW (1, 16, S), 4 groups", () => A.groupNorm(x, { groups: 4, gamma, beta, out: y })],
      ["layerNorm", `rows of ${row} (NC)`, () => A.layerNorm(r, { gamma: lnG, beta: lnB, out: ry })],
      ["layerNormBackward", `rows of ${row} (NC)`, () => A.layerNormBackward(r, rd, { gamma: lnG, beta: lnB, mean: ln.mean, invstd: ln.invstd, out: ry })],
      ["layerNormBackward", `rows of ${row} (NC), dgammaOut, dbetaOut`, () => A.layerNormBackward(r, rd, { gamma: lnG, beta: lnB, mean: ln.mean, invstd: ln.invstd, out: ry, dgammaOut, dbetaOut })],
      ["rmsNorm", `rows of ${row} (NC)`, () => A.rmsNorm(r, { gamma: lnG, out: ry })],
      ["rmsNormBackward", `rows of ${row} (NC)`, () => A.rmsNormBackward(r, rd, { gamma: lnG, invRms: rms.invRms, out: ry })],
      ["rmsNormBackward", `rows of ${row} (NC), dgammaOut`, () => A.rmsNormBackward(r, rd, { gamma: lnG, invRms: rms.invRms, out: ry, dgammaOut })],
      ["skipLayerNorm", `rows of ${row} (NC)`, () => A.skipLayerNorm(r, rk, { gamma: lnG, beta: lnB, out: ry, sumOut: rz })],
      ["skipRmsNorm", `rows of ${row} (NC)`, () => A.skipRmsNorm(r, rk, { gamma: lnG, out: ry, sumOut: rz })],
      ["fromPixels", `RGBA ${side}×${side} → NCHW`, () => A.fromPixels(img, { width: side, height: side, preset: "imagenet", out: py })],
      ["BatchNorm.forward", "NCHW (1, 16, S), training", () => bnL.forward(x, { out: y })],
      ["BatchNorm.forward+backward", "NCHW (1, 16, S), training", () => { bnL.forward(x, { out: y }); bnL.backward(dy, { out: dx }); }],
      ["GroupNorm.forward", "NCHW (1, 16, S), 4 groups", () => gnL.forward(x, { out: y })],
      ["LayerNorm.forward", `rows of ${row} (NC)`, () => lnL.forward(r, { out: ry })],
      ["LayerNorm.forward+backward", `rows of ${row} (NC)`, () => { lnL.forward(r, { out: ry }); lnL.backward(rd, { out: rdx }); }],
      ["RMSNorm.forward", `rows of ${row} (NC)`, () => rmsL.forward(r, { out: ry })],
      ["RMSNorm.forward+backward", `rows of ${row} (NC)`, () => { rmsL.forward(r, { out: ry }); rmsL.backward(rd, { out: rdx }); }],
      // A result Tensor (no `out`: allocated, constructed, freed) and tensor() alone.
      ["layerNorm → Tensor", `rows of ${row} (NC), freed`, () => A.layerNorm(r, { gamma: lnG, beta: lnB }).y.free()],
      ["tensor", `(${V / row}, ${row}) NC, freed`, () => A.tensor(rs, "NC").free()],
    ],
  };
}

/** The data kernels of the batch-norm ops on an NCHW (1, C, 1, S) tensor, as the API dispatches them. */
function rawShapeCases(raw, C, S) {
  const zero64 = (p, n) => new Float64Array(raw.memory.buffer, p, n).fill(0);
  if (S < 16 && C * S <= 1024) {
    const L = C * S; // one row of C·S pseudo-channels (parameters already expanded)
    const stats = () => { zero64(acc, 3 * L); raw.bn_stats_f32_cl(1, L, X, acc, scr); };
    const norm = () => raw.bn_normalize_f32_cl(1, L, X, pm, pa, pb, Y, scr);
    return {
      channelStats: stats, batchNormInfer: norm, batchNormTrain: () => { stats(); norm(); },
      batchNormBackward: () => { zero64(acc, 2 * L); raw.bn_backward_reduce_f32_cl(1, L, X, D, pm, acc, scr); raw.bn_backward_dx_f32_cl(1, L, X, D, pm, pa, pb, pg, Y, scr); },
    };
  }
  const stats = () => { zero64(acc, 3 * C); raw.bn_stats_f32_cf(1, C, S, X, acc, scr); };
  const norm = () => raw.bn_normalize_f32_cf(1, C, S, X, pm, pa, pb, Y);
  return {
    channelStats: stats, batchNormInfer: norm, batchNormTrain: () => { stats(); norm(); },
    batchNormBackward: () => { zero64(acc, 2 * C); raw.bn_backward_reduce_f32_cf(1, C, S, X, D, pm, acc); raw.bn_backward_dx_f32_cf(1, C, S, X, D, pm, pa, pb, pg, Y); },
  };
}

/** The batch-norm API calls on an NCHW (1, C, 1, S) tensor of module A (Tensors, out given). */
function apiShapeCases(A, C, S) {
  const shape = [1, C, 1, S], name = `NCHW (1, ${C}, 1, ${S})`;
  const x = tensorOf(A, shape, "NCHW", 11), y = tensorOf(A, shape, "NCHW"), dy = tensorOf(A, shape, "NCHW", 12);
  const gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.1), runningMean = new Float32Array(C), runningVar = new Float32Array(C).fill(1);
  const saveMean = new Float32Array(C), saveInvstd = new Float32Array(C).fill(1);
  return {
    free: () => [x, y, dy].forEach((z) => z.free()),
    list: [
      ["channelStats", name, () => A.channelStats(x)],
      ["batchNormInfer", name, () => A.batchNormInfer(x, { gamma, beta, runningMean, runningVar, out: y })],
      ["batchNormTrain", name, () => A.batchNormTrain(x, { gamma, beta, runningMean, runningVar, out: y })],
      ["batchNormBackward", name, () => A.batchNormBackward(x, dy, { gamma, saveMean, saveInvstd, out: y })],
    ],
  };
}

/**
 * Mean µs per call of fn over CALLS calls, in CPU time of this process (user + system): on a
 * shared machine wall time also counts the time the process waits for a core.
 */
function batch(fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / CALLS;
}

const only = opts.only ? opts.only.split(",") : null;
const rawNow = rawInstance(opts.dist ? pathToFileURL(resolve(opts.dist, "simdnorm.wasm")) : new URL("../build/simdnorm.wasm", import.meta.url));
const rawOld = base ? rawInstance(pathToFileURL(resolve(opts.base, "simdnorm.wasm"))) : null;
const rows = [];
/** Times every case of `now` (and `old`, the base build's) against its kernels, interleaved, into rows. */
function run(V, now, old, kern, kernOld) {
  for (const [i, [op, shape, call]] of now.list.entries()) {
    if (only && !only.includes(op)) continue;
    const before = old?.list[i][2], kernels = kern[op], kernelsBefore = kernOld?.[op];
    call(); before?.(); kernels(); kernelsBefore?.();
    const a = [], b = [], k = [], kb = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(batch(call)); k.push(batch(kernels));
      if (before) { b.push(batch(before)); kb.push(batch(kernelsBefore)); }
    }
    const total = median(a), kt = median(k), row = { values: V, op, shape, callUs: +total.toFixed(3), kernelsUs: +kt.toFixed(3), jsUs: +(total - kt).toFixed(3) };
    if (before) Object.assign(row, { baseCallUs: +median(b).toFixed(3), baseKernelsUs: +median(kb).toFixed(3), baseJsUs: +(median(b) - median(kb)).toFixed(3) });
    rows.push(row);
  }
  now.free(); old?.free();
}
for (const V of opts.sizes.split(",").map(Number)) {
  for (const f of Object.values(rawCases(arityChecked(rawNow), V))) f();
  for (const [C, S] of opts.shapes ? opts.shapes.split(",").map((t) => t.split("x").map(Number)) : []) for (const f of Object.values(rawShapeCases(arityChecked(rawNow), C, S))) f();
  run(V, apiCases(api, V), base ? apiCases(base, V) : null, withLayers(rawCases(rawNow, V)), rawOld ? withLayers(rawCases(rawOld, V)) : null);
}
for (const [C, S] of opts.shapes ? opts.shapes.split(",").map((t) => t.split("x").map(Number)) : []) {
  run(C * S, apiShapeCases(api, C, S), base ? apiShapeCases(base, C, S) : null, rawShapeCases(rawNow, C, S), rawOld ? rawShapeCases(rawOld, C, S) : null);
}
console.log(`per-call cost, zero-copy tensors, CPU time, median of ${ROUNDS} batches of ${CALLS} calls (Node ${process.versions.node}):`);
const f = (v) => v.toFixed(2);
if (base) {
  console.log("| values | op | shape | call µs before | call µs after | kernels alone µs before | after | JS layer µs before | JS layer µs after |\n|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.values} | ${r.op} | ${r.shape} | ${f(r.baseCallUs)} | ${f(r.callUs)} | ${f(r.baseKernelsUs)} | ${f(r.kernelsUs)} | ${f(r.baseJsUs)} | **${f(r.jsUs)}** |`);
} else {
  console.log("| values | op | shape | call µs | kernels alone µs | JS layer µs |\n|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.values} | ${r.op} | ${r.shape} | ${f(r.callUs)} | ${f(r.kernelsUs)} | ${f(r.jsUs)} |`);
}
if (opts.json) writeFileSync(opts.json, JSON.stringify({ node: process.versions.node, rounds: ROUNDS, calls: CALLS, base: !!base, rows }, null, 1));
