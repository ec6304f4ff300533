// channelStats of two or more builds in one process, each against the one-pass Σx, Σx² loop
// (the statistics ceiling, bench/ceiling) over the same bytes on its own memory, rounds rotated:
// the before/after of a statistics change at the API, as its target is stated (× the loop).
//
//   node --no-liftoff bench/stats-ab.mjs [--cells NCHW:8,64,56,56,NHWC:1,128,171,3] [--rounds 60]
//                                        [--calls K] [--op stats|partial] DIST_A [DIST_B …]
// Cells: LAYOUT:dims, several separated by commas (a new cell starts at each LAYOUT:). --calls
// (default: enough calls for ~0.5 ms a sample) calls per timed sample; each round times every
// build and its loop once (after an untimed pass of the loop over the same x), in an order
// rotated round by round; --warm MS (default 3000) of calls first: after 300 ms the JS layer of
// a 120 µs call was not yet in its optimized code. Two builds in one process run each other's JS
// between calls (its caches colder than with one build): for a figure against the target, also
// run each build alone. Prints per build the lower
// quartile of µs a call, of the loop's, their ratio, and the median of the rounds' own ratios.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadCeilingOn } from "./ceiling/index.mjs";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";

const { opts, rest: dists } = parseArgs(process.argv.slice(2), { cells: "NCHW:8,64,56,56", rounds: "60", calls: "0", op: "stats", warm: "3000" });
if (!dists.length) { console.error("usage: node bench/stats-ab.mjs [--cells NCHW:8,64,56,56] DIST_A [DIST_B …]"); process.exit(2); }
const builds = [];
for (const d of dists) {
  const M = await import(pathToFileURL(resolve(d, "index.js")).href);
  await M.init();
  builds.push({ name: d, M, ceiling: await loadCeilingOn(M.wasmMemory()) });
}
const cells = opts.cells.split(/,(?=[A-Z])/).map((c) => { const [layout, dims] = c.split(":"); return { layout, shape: dims.split(",").map(Number) }; });
const medianOf = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

for (const { layout, shape } of cells) {
  const n = shape.reduce((a, b) => a * b);
  const K = +opts.calls || Math.max(1, Math.round(2e5 / n));
  const runs = builds.map((b) => {
    const x = b.M.tensor(shape, layout, randomArray(n, 7));
    const op = opts.op === "partial" ? () => b.M.partialStats(x) : () => b.M.channelStats(x);
    return { b, x, op, loop: () => b.ceiling.sumsqAt(n, x.ptr), t: [], l: [], r: [] };
  });
  const sample = (f) => { const t0 = performance.now(); for (let i = 0; i < K; i++) f(); return (performance.now() - t0) * 1000 / K; };
  for (const t1 = performance.now() + +opts.warm; performance.now() < t1;) for (const r of runs) { r.op(); r.loop(); }
  for (let round = 0; round < +opts.rounds; round++) {
    for (let i = 0; i < runs.length; i++) {
      const r = runs[(i + round) % runs.length];
      r.loop(); // each timed call follows a pass over the same x (the previous build's ran on its own memory)
      const a = sample(r.op), l = sample(r.loop);
      r.t.push(a); r.l.push(l); r.r.push(l / a);
    }
  }
  console.log(`${layout} (${shape.join(", ")}), ${K} call(s) a sample, ${opts.rounds} rounds`);
  for (const r of runs) {
    const t = lowerQuartile(r.t), l = lowerQuartile(r.l);
    console.log(`  ${r.b.name.padEnd(28)} ${t.toFixed(2).padStart(9)} µs  loop ${l.toFixed(2).padStart(9)} µs  × loop ${(l / t).toFixed(3)}  (rounds' median ${medianOf(r.r).toFixed(3)})`);
    r.x.free();
  }
}
