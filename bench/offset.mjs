// Data far from zero: the ops that compute statistics, on zero-mean data and on the same data
// moved away from zero (mean = offset standard deviations: raw pixels, probabilities, positive
// features; every other benchmark times zero-mean data), each cell's time and its ratio to the
// first offset's time. The offset `dead` makes every other channel all zero instead (the dead
// channels of a ReLU network), the rest zero-mean; on NLC cells (layer norm's rows) every other
// row (a padded sequence's zero rows). With --base DIST, the same calls of that build too, in the same process with the
// samples alternated, and this build's speed-up. Zero-copy Tensors with `out`, as the coverage
// matrix calls them; lower quartile of the samples.
//
//   node --no-liftoff bench/offset.mjs [--base /tmp/old/dist] [--offsets 0,1,3,1000,dead]
//        [--ops stats,bn_train,instance,group,layer] [--cells NCHW:64x64x7x7,NHWC:1x56x56x64,…] [--samples 15]
//
// Layer norm runs on NLC cells only (rows of the last axis); the other ops on NCHW and NHWC cells.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as now from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, quantile } from "./lib/cli.mjs";
import { rotatingRounds } from "./lib/rounds.mjs";
import { defaultGroups } from "./peers/common.mjs";

const CELLS = "NCHW:64x64x7x7,NCHW:1x1024x8x8,NCHW:8x64x28x28,NCHW:8x64x56x56,NHWC:1x56x56x64,NHWC:1x224x224x3,NLC:1x197x768,NLC:8x128x768";
const { opts } = parseArgs(process.argv.slice(2), { base: "", offsets: "0,1,3,1000,dead", ops: "stats,bn_train,instance,group,layer", cells: CELLS, samples: "15" });
const builds = [["this", now]];
if (opts.base) builds.push(["base", await import(pathToFileURL(resolve(opts.base, "index.js")).href)]);
for (const [, M] of builds) await M.init({ warmup: true });

const made = [];
/** The call of `op` by module M on this cell's data (null: the op does not run on this layout). */
function call(M, op, layout, shape, values) {
  const rows = layout === "NLC", C = layout === "NCHW" ? shape[1] : shape[shape.length - 1];
  if ((op === "layer") !== rows) return null;
  const x = M.tensor(shape, layout, values), y = M.tensor(shape, layout), N = shape[0], G = defaultGroups(C);
  made.push(x, y);
  const rm = new Float32Array(C), rv = new Float32Array(C).fill(1);
  const K = rows ? values.length / C : N * C;
  const mean = new Float32Array(Math.max(K, N * G)), invstd = new Float32Array(Math.max(K, N * G));
  switch (op) {
    case "stats": return () => M.channelStats(x);
    case "bn_train": return () => M.batchNormTrain(x, { runningMean: rm, runningVar: rv, out: y });
    case "instance": return () => M.instanceNorm(x, { out: y, meanOut: mean.subarray(0, N * C), invstdOut: invstd.subarray(0, N * C) });
    case "group": return () => M.groupNorm(x, { groups: G, out: y, meanOut: mean.subarray(0, N * G), invstdOut: invstd.subarray(0, N * G) });
    case "layer": return () => M.layerNorm(x, { out: y, meanOut: mean.subarray(0, K), invstdOut: invstd.subarray(0, K) });
    default: throw new Error(`unknown op ${op}: one of stats, bn_train, instance, group, layer`);
  }
}

/**
 * µs per call of each function: samples of ≥ 2 ms in rotating order (lib/rounds.mjs), lower
 * quartile of each; each is first called for 300 ms (V8 tiers JS and wasm up in the background:
 * with 5 calls of warm-up the first cells of a run read up to 5× slow).
 */
async function timeAll(fs) {
  for (const f of fs) { const t0 = performance.now(); while (performance.now() - t0 < 300) f(); }
  return (await rotatingRounds(fs, +opts.samples)).map((a) => quantile(a, 0.25) * 1000);
}

const offsets = opts.offsets.split(",").map((o) => (o === "dead" ? o : Number(o)));
/** The index `dead` zeroes for value i of a cell: its channel (NCHW, NHWC), its row (NLC). */
const deadIndex = (layout, shape, i) => (layout === "NCHW" ? Math.floor(i / (shape[2] * shape[3])) % shape[1] : layout === "NHWC" ? i % shape[3] : Math.floor(i / shape[2]));
const head = builds.length > 1 ? " | base µs | speed-up" : "";
console.log(`| cell | op | offset (σ) | µs | × the first${head} |\n|---|---|--:|--:|--:|${builds.length > 1 ? "--:|--:|" : ""}`);
for (const cell of opts.cells.split(",")) {
  const [layout, dims] = cell.split(":"), shape = dims.split("x").map(Number), n = shape.reduce((a, b) => a * b);
  if (!["NCHW", "NHWC", "NLC"].includes(layout) || shape.length !== (layout === "NLC" ? 3 : 4)) throw new Error(`cell ${cell}: NCHW:NxCxHxW, NHWC:NxHxWxC or NLC:NxLxC`);
  const noise = randomArray(n, 7);
  for (const op of opts.ops.split(",")) {
    let zero = 0;
    for (const off of offsets) {
      const values = off === "dead" ? noise.map((v, i) => (deadIndex(layout, shape, i) % 2 ? 0 : v)) : noise.map((v) => off + v);
      let us, baseUs;
      try {
        const fs = builds.map(([, M]) => call(M, op, layout, shape, values));
        if (!fs[0]) break;
        [us, baseUs] = await timeAll(fs);
      } finally {
        for (const t of made.splice(0)) t.free();
      }
      if (off === offsets[0]) zero = us;
      const extra = baseUs === undefined ? "" : ` | ${baseUs.toFixed(1)} | ${(baseUs / us).toFixed(2)}×`;
      console.log(`| ${layout} (${shape.join(", ")}) | ${op} | ${off} | ${us.toFixed(1)} | ${(us / zero).toFixed(2)}${extra} |`);
    }
  }
}
