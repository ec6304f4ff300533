// Speed check: simdnorm's batch-norm kernels against a wasm SIMD copy/read of the
// same bytes (statistics: against the one-pass Σx, Σx² loop over x) (x, and x → y, in simdnorm's memory), measured interleaved in one process (ratios, not absolute times, are the point
// on a shared machine). Zero-copy path: tensors live in wasm memory.
//
//   node bench/core.mjs [--shape 8,64,56,56] [--layout NCHW] [--reps 40] [--json FILE]
import * as api from "../dist/index.js";
import { loadCeilingOn } from "./ceiling/index.mjs";
import { randomArray } from "../test/reference.mjs";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { layout: "NCHW", shape: "", reps: "40", json: "" });
const layout = opts.layout;
const shape = (opts.shape || (layout.endsWith("C") && layout !== "NC" ? "8,56,56,64" : "8,64,56,56")).split(",").map(Number);
const reps = +opts.reps;
const n = shape.reduce((a, b) => a * b);

await api.init();
const C = layout.endsWith("C") && layout !== "NC" ? shape[shape.length - 1] : shape[1];
const x = api.tensor(shape, layout, randomArray(n, 1)), dy = api.tensor(shape, layout, randomArray(n, 2)), y = api.tensor(shape, layout);
const rm = new Float32Array(C), rv = new Float32Array(C).fill(1), gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.1);
const saved = api.batchNormTrain(x, { gamma, beta, runningMean: rm.slice(), runningVar: rv.slice() });
saved.y.free();
// The ceiling moves the SAME bytes (x, and x → y) in simdnorm's own memory, so kernel and
// ceiling see the same cache state.
const ceiling = await loadCeilingOn(api.wasmMemory());

const systems = {
  copy: [8, () => ceiling.copyAt(n, x.ptr, y.ptr)],
  read: [4, () => ceiling.readAt(n, x.ptr)],
  sumsq: [4, () => ceiling.sumsqAt(n, x.ptr)],
  stats: [4, () => api.channelStats(x)],
  bn_infer: [8, () => api.batchNormInfer(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y })],
  bn_train: [12, () => api.batchNormTrain(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y })],
  bn_backward: [20, () => api.batchNormBackward(x, dy, { gamma, saveMean: saved.saveMean, saveInvstd: saved.saveInvstd, out: y })],
};
const times = Object.fromEntries(Object.keys(systems).map((k) => [k, []]));
for (const [, f] of Object.values(systems)) for (let i = 0; i < 5; i++) f(); // warm
for (let r = 0; r < reps; r++) {
  for (const [k, [, f]] of Object.entries(systems)) { const t0 = performance.now(); f(); times[k].push(performance.now() - t0); }
  if (r % 10 === 9) process.stderr.write(`  rep ${r + 1}/${reps}\r`);
}
const res = {};
for (const [k, [bpv]] of Object.entries(systems)) { const ms = median(times[k]); res[k] = { ms, gbps: (bpv * n) / ms / 1e6 }; }
const target = { stats: ["sumsq", 0.95], bn_infer: ["copy", 0.85], bn_train: ["copy", 0.6], bn_backward: ["copy", 0.7] };
console.log(`simdnorm core kernels, ${layout} [${shape}] (${(n / 1e6).toFixed(2)}M values), median of ${reps}, node ${process.version}, ${os.cpus()[0].model}`);
console.log("op            ms      GB/s   vs ceiling   target");
for (const [k, r] of Object.entries(res)) {
  const t = target[k];
  const ratio = t ? r.gbps / res[t[0]].gbps : null;
  console.log(`${k.padEnd(12)} ${r.ms.toFixed(3).padStart(7)} ${r.gbps.toFixed(1).padStart(8)}   ${ratio ? `${(100 * ratio).toFixed(0)}% of ${t[0]}`.padEnd(12) : "".padEnd(12)} ${t ? `${ratio >= t[1] ? "met" : "MISSED"} (≥ ${100 * t[1]}%)` : ""}`);
}
const jf = opts.json;
if (jf) writeFileSync(jf, JSON.stringify({ layout, shape, reps, node: process.version, cpu: os.cpus()[0].model, results: res }, null, 2));
