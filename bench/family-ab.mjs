// Instance and group norm (forward and backward) of two builds in one process, as the coverage
// matrix calls them (zero-copy Tensors, `out`, preallocated `meanOut` / `invstdOut`, the matrix's
// groups), call samples alternated, lower quartile (wall time).
//
//   node bench/family-ab.mjs --base /tmp/old/dist [--cells 334x64x7x7,7134x3x7x7] [--ops group,instance]
//                            [--samples 41] [--calls 0: enough calls for ~2 ms a sample]
// Cells are NCHW shapes. Prints µs per call of each build and this build's speed-up.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as now from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";
import { defaultGroups } from "./peers/common.mjs";

const { opts } = parseArgs(process.argv.slice(2), { base: "", cells: "334x64x7x7,7134x3x7x7,41x512x7x7", ops: "group,instance,group_backward,instance_backward", samples: "41", calls: "0" });
if (!opts.base) { console.error("usage: node bench/family-ab.mjs --base DIST [--cells …]"); process.exit(2); }
const base = await import(pathToFileURL(resolve(opts.base, "index.js")).href);
await now.init({ warmup: true }); await base.init({ warmup: true });

/** The op calls of module M on an NCHW tensor of this shape. */
function calls(M, shape) {
  const n = shape.reduce((a, b) => a * b), C = shape[1], G = defaultGroups(C), N = shape[0];
  const x = M.tensor(shape, "NCHW", randomArray(n, 3, { offset: 0.5, scale: 1.5 })), y = M.tensor(shape, "NCHW"), dy = M.tensor(shape, "NCHW", randomArray(n, 4));
  const gamma = new Float32Array(C).fill(1.1), beta = new Float32Array(C).fill(0.1);
  const inst = M.instanceNorm(x, { out: y }), grp = M.groupNorm(x, { groups: G, out: y });
  const im = new Float32Array(N * C), ii = new Float32Array(N * C), gm = new Float32Array(N * G), gi = new Float32Array(N * G);
  return {
    instance: () => M.instanceNorm(x, { gamma, beta, out: y, meanOut: im, invstdOut: ii }),
    group: () => M.groupNorm(x, { gamma, beta, groups: G, out: y, meanOut: gm, invstdOut: gi }),
    instance_backward: () => M.instanceNormBackward(x, dy, { gamma, mean: inst.mean, invstd: inst.invstd, out: y }),
    group_backward: () => M.groupNormBackward(x, dy, { gamma, groups: G, mean: grp.mean, invstd: grp.invstd, out: y }),
  };
}
function sample(f, k) { const t0 = performance.now(); for (let i = 0; i < k; i++) f(); return (performance.now() - t0) * 1000 / k; }
console.log(`| cell | op | base µs | this build µs | speed-up |\n|---|---|---|---|---|`);
for (const cell of opts.cells.split(",")) {
  const shape = cell.split("x").map(Number), a = calls(now, shape), b = calls(base, shape);
  for (const op of opts.ops.split(",")) {
    for (let i = 0; i < 5; i++) { a[op](); b[op](); }
    const k = +opts.calls || Math.max(1, Math.round(2000 / sample(a[op], 3)));
    const ta = [], tb = [];
    for (let r = 0; r < +opts.samples; r++) { tb.push(sample(b[op], k)); ta.push(sample(a[op], k)); }
    console.log(`| NCHW (${shape.join(", ")}) | ${op} | ${lowerQuartile(tb).toFixed(1)} | ${lowerQuartile(ta).toFixed(1)} | ${(lowerQuartile(tb) / lowerQuartile(ta)).toFixed(2)} |`);
  }
}
