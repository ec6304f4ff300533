// Where a statistics call's time goes against the one-pass Σx, Σx² loop: channelStats,
// partialStats and the statistics kernel alone (raw pointers, accumulators zeroed outside the
// timing) of one or more source trees in one process, every sample right after a pass of the
// loop over the same x (as in the full benchmark's rounds, where other systems run in between:
// the call's JS then runs with cold caches). The trees are bundled with their kernels exposed
// (bench/lib/bundle.mjs): run `node build.mjs` in each first.
//
//   node --no-liftoff bench/stats-parts.mjs [--shape 8,64,56,56] [--layout NCHW] [--rounds 100]
//                                           [--calls K] [ROOT …]   (default ROOT: this tree)
// --calls K: K calls of each, loop and op, a sample (default 1 at ≥ 30 Ki values: each call
// cold; K = 40 times warm calls, as the coverage matrix does), each call timed alone. Prints lower
// quartiles of µs a call and × the loop.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleOf } from "./lib/bundle.mjs";
import { loadCeilingOn } from "./ceiling/index.mjs";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";

const { opts, rest } = parseArgs(process.argv.slice(2), { shape: "8,64,56,56", layout: "NCHW", rounds: "100", calls: "0" });
const roots = rest.length ? rest : [join(dirname(fileURLToPath(import.meta.url)), "..")];
const shape = opts.shape.split(",").map(Number), layout = opts.layout, n = shape.reduce((a, b) => a * b);
const last = layout.endsWith("C") && layout !== "NC", C = last ? shape[shape.length - 1] : shape[1];
if (last || layout === "NC" ? false : shape.length < 3) throw new Error("channels-first shapes need N, C and spatial axes");
const runs = [];
for (const root of roots) {
  const sn = await bundleOf(root);
  await sn.init();
  const x = sn.tensor(shape, layout, randomArray(n, 7)), K = sn.rt().kernels;
  const buf = sn.tensor([1, 16 * C + 8192], "NC"); // the kernel's accumulators and scratch
  const acc = (buf.ptr + 15) & ~15, scratch = acc + ((24 * C + 15) & ~15);
  const S = n / shape[0] / C;
  const raw = last || layout === "NC" ? () => K.bn_stats_f32_cl(n / C, C, x.ptr, acc, scratch) : () => K.bn_stats_f32_cf(shape[0], C, S, x.ptr, acc, scratch);
  const zero = () => new Float64Array(sn.wasmMemory().buffer, acc, 3 * C).fill(0);
  const ceil = await loadCeilingOn(sn.wasmMemory());
  runs.push({ root, loop: () => ceil.sumsqAt(n, x.ptr), zero, ops: { kernel: raw, channelStats: () => sn.channelStats(x), partialStats: () => sn.partialStats(x) }, t: {}, l: [] });
}
const calls = +opts.calls || (n >= 30000 ? 1 : Math.ceil(30000 / n));
/** µs a call of f over `calls` calls (the kernel's accumulators zeroed before each, outside the timing). */
function time(r, f, zero) {
  let t = 0;
  for (let i = 0; i < calls; i++) {
    if (zero) r.zero();
    const t0 = performance.now();
    f();
    t += performance.now() - t0;
  }
  return t / calls * 1000;
}
// Warm-up: 3000 rounds of every call (200 left the JS layer in unoptimized code: channelStats
// 10–12 µs a call instead of 6 at 64 Ki values).
for (let i = 0; i < 3000; i++) for (const r of runs) { r.loop(); for (const f of Object.values(r.ops)) f(); }
for (let round = 0; round < +opts.rounds; round++) {
  for (let j = 0; j < runs.length; j++) {
    const r = runs[(j + round) % runs.length];
    for (const [name, f] of Object.entries(r.ops)) {
      r.l.push(time(r, r.loop, false));
      (r.t[name] ??= []).push(time(r, f, name === "kernel"));
    }
  }
}
console.log(`${layout} (${shape}), ${calls} call(s) a sample, each after a pass of the loop over x, ${opts.rounds} rounds, lower quartiles`);
for (const r of runs) {
  const L = lowerQuartile(r.l);
  console.log(`  ${r.root}: loop ${L.toFixed(2)} µs | ` + Object.keys(r.ops).map((k) => `${k} ${lowerQuartile(r.t[k]).toFixed(2)} µs (${(L / lowerQuartile(r.t[k])).toFixed(3)} × loop)`).join(" | "));
}
