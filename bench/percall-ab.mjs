// Batch norm and channel statistics of two builds in one process, call samples alternated, lower
// quartile (wall time): robust where bench/percall.mjs's medians of batches swing on a loaded VM.
//
//   node bench/percall-ab.mjs --base /tmp/old/dist [--cells 1x16x1x128,1x1024x1x2] [--ops stats,infer]
//                             [--samples 61] [--calls 20]
// Cells are NCHW shapes; zero-copy Tensors, `out` given, gamma/beta and running statistics of C.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as now from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { base: "", cells: "1x16x1x128,1x16x1x2,1x1024x1x2,1x1024x1x128,1x64x1x1024", ops: "stats,infer,train,backward", samples: "61", calls: "20" });
if (!opts.base) { console.error("usage: node bench/percall-ab.mjs --base DIST [--cells …]"); process.exit(2); }
const base = await import(pathToFileURL(resolve(opts.base, "index.js")).href);
await now.init({ warmup: true }); await base.init({ warmup: true });

/** The op calls of module M on an NCHW tensor of this shape. */
function calls(M, shape) {
  const n = shape.reduce((a, b) => a * b), C = shape[1];
  const x = M.tensor(shape, "NCHW", randomArray(n, 3)), y = M.tensor(shape, "NCHW"), dy = M.tensor(shape, "NCHW", randomArray(n, 4));
  const gamma = new Float32Array(C).fill(1.1), beta = new Float32Array(C).fill(0.1), rm = new Float32Array(C), rv = new Float32Array(C).fill(1);
  const bn = M.batchNormTrain(x, { gamma, beta, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), out: y });
  return {
    stats: () => M.channelStats(x),
    infer: () => M.batchNormInfer(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y }),
    train: () => M.batchNormTrain(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y }),
    backward: () => M.batchNormBackward(x, dy, { gamma, saveMean: bn.saveMean, saveInvstd: bn.saveInvstd, out: y }),
  };
}
const k = +opts.calls;
function sample(f) { const t0 = performance.now(); for (let i = 0; i < k; i++) f(); return (performance.now() - t0) * 1000 / k; }
console.log(`| cell | op | base µs | this build µs | ratio |\n|---|---|---|---|---|`);
for (const cell of opts.cells.split(",")) {
  const shape = cell.split("x").map(Number), a = calls(now, shape), b = calls(base, shape);
  for (const op of opts.ops.split(",")) {
    const ta = [], tb = [];
    for (let i = 0; i < 10; i++) { a[op](); b[op](); }
    for (let r = 0; r < +opts.samples; r++) { tb.push(sample(b[op])); ta.push(sample(a[op])); }
    console.log(`| NCHW (${shape.join(", ")}) | ${op} | ${lowerQuartile(tb).toFixed(2)} | ${lowerQuartile(ta).toFixed(2)} | ${(lowerQuartile(ta) / lowerQuartile(tb)).toFixed(2)} |`);
  }
}
