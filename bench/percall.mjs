// Per-call cost on small tensors: a zero-copy call (Tensor in, Tensor out) of each op at 256,
// 2048 and 16 K values, against the same kernels called directly on raw pointers (a second
// instance of build/simdnorm.wasm, data at the same offsets and sizes). The difference is the
// JS layer: option reading, validation, scope, dispatch and the per-channel parameters.
// Calls are timed in batches (CPU time), the API and the raw kernels alternating batch by batch.
//
//   node bench/percall.mjs [--rounds 40] [--calls 2000] [--json bench/results/percall.json]
import { readFileSync, writeFileSync } from "node:fs";
import * as api from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { rounds: "40", calls: "2000", json: "" });
const ROUNDS = +opts.rounds, CALLS = +opts.calls;
await api.init({ warmup: true });

// The raw kernels on their own memory: x at 64 KiB, y/dy after it, small arrays at the end.
const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))), { env: { abort() { throw new Error("abort"); } } }).exports;
raw.memory.grow(64);
const X = 65536, Y = X + (1 << 20), P = Y + (1 << 20);
const RF = new Float32Array(raw.memory.buffer);
RF.set(randomArray(1 << 16, 3), X >>> 2); RF.set(randomArray(1 << 16, 4), Y >>> 2); RF.fill(1, P >>> 2, (P >>> 2) + (1 << 16));
const acc = P + (1 << 18), pm = acc + (1 << 16), pa = pm + 65536, pb = pa + 65536, pg = pb + 65536, pt = pg + 65536;
const zeroAcc = (n) => new Float64Array(raw.memory.buffer, acc, 3 * n).fill(0);

/** Each case: the API call on tensors, and the kernels that call runs, on raw pointers. */
function cases(V) {
  const C = 16, S = V / C, row = Math.min(V, 2048);
  const t = (shape, layout, seed) => api.tensor(shape, layout, randomArray(shape.reduce((a, b) => a * b, 1), seed));
  const cf = [1, C, 1, S], x = t(cf, "NCHW", 1), y = api.tensor(cf, "NCHW"), dy = t(cf, "NCHW", 2);
  const r = t([V / row, row], "NC", 5), ry = api.tensor([V / row, row], "NC");
  const gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.1), runningMean = new Float32Array(C), runningVar = new Float32Array(C).fill(1);
  const lnG = new Float32Array(row).fill(1.5), lnB = new Float32Array(row).fill(0.1);
  const saveMean = new Float32Array(C), saveInvstd = new Float32Array(C).fill(1);
  return {
    free: () => [x, y, dy, r, ry].forEach((z) => z.free()),
    list: [
      ["channelStats NCHW (1, 16, S)", () => api.channelStats(x), () => { zeroAcc(C); raw.bn_stats_f32_cf(1, C, S, X, acc); }],
      ["batchNormInfer NCHW (1, 16, S)", () => api.batchNormInfer(x, { gamma, beta, runningMean, runningVar, out: y }), () => raw.bn_normalize_f32_cf(1, C, S, X, pm, pa, pb, Y)],
      ["batchNormTrain NCHW (1, 16, S)", () => api.batchNormTrain(x, { gamma, beta, runningMean, runningVar, out: y }),
        () => { zeroAcc(C); raw.bn_stats_f32_cf(1, C, S, X, acc); raw.bn_normalize_f32_cf(1, C, S, X, pm, pa, pb, Y); }],
      ["batchNormBackward NCHW (1, 16, S)", () => api.batchNormBackward(x, dy, { gamma, saveMean, saveInvstd, out: y }),
        () => { new Float64Array(raw.memory.buffer, acc, 2 * C).fill(0); raw.bn_backward_reduce_f32_cf(1, C, S, X, Y, pm, acc); raw.bn_backward_dx_f32_cf(1, C, S, X, Y, pm, pa, pb, pg, Y + 4 * V); }],
      [`layerNorm rows of ${row} (NC)`, () => api.layerNorm(r, { gamma: lnG, beta: lnB, out: ry }),
        () => { zeroAcc(V / row); raw.bn_stats_f32_cf(1, V / row, row, X, acc); raw.ln_normalize_f32_cl(V / row, row, X, pm, pa, pb, pg, pt, Y); }],
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

const rows = [];
for (const V of [256, 2048, 16384]) {
  const c = cases(V);
  for (const [name, call, kernels] of c.list) {
    call(); kernels();
    const a = [], k = [];
    for (let r = 0; r < ROUNDS; r++) { a.push(batch(call)); k.push(batch(kernels)); }
    const total = median(a), kern = median(k);
    rows.push({ values: V, op: name, callUs: +total.toFixed(3), kernelsUs: +kern.toFixed(3), jsUs: +(total - kern).toFixed(3) });
  }
  c.free();
}
console.log(`per-call cost, zero-copy tensors, CPU time, median of ${ROUNDS} batches of ${CALLS} calls (Node ${process.versions.node}):`);
console.log("| values | op | call µs | kernels alone µs | JS layer µs |\n|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.values} | ${r.op} | ${r.callUs.toFixed(2)} | ${r.kernelsUs.toFixed(2)} | ${r.jsUs.toFixed(2)} |`);
if (opts.json) writeFileSync(opts.json, JSON.stringify({ node: process.versions.node, rounds: ROUNDS, calls: CALLS, rows }, null, 1));
