// Where an op call's time goes: each op's zero-copy call (Tensors, `out` given) timed in batches,
// then the same calls with every wasm kernel wrapped in a timer, so each kernel's time *inside the
// call* (median of its calls) is set against the call's; the rest (call − kernels) is the JS layer.
// The public bundle does not expose the kernels: this one is built from js/ (bench/lib/bundle.mjs,
// the wasm of build/ read from disk): run `node build.mjs` first.
//
//   node bench/breakdown.mjs [--cells NHWC:1,1,85,768;NCHW:1,768,1,85] [--ops stats,infer,train,backward,instance,group]
//                            [--batches 15] [--calls 400]
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleOf } from "./lib/bundle.mjs";
import { parseArgs } from "./lib/cli.mjs";
import { randomArray } from "../test/reference.mjs";

const { opts } = parseArgs(process.argv.slice(2), { cells: "NHWC:1,1,85,768;NCHW:1,768,1,85;NHWC:1,1,64,1024;NHWC:1,1,2048,32", ops: "stats,infer,train,backward,instance,group", batches: "15", calls: "400" });
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sn = await bundleOf(root);
await sn.init({ warmup: true });

const K = sn.rt().kernels, plain = {}, times = {};
for (const k of Object.keys(K)) if (typeof K[k] === "function") plain[k] = K[k];
/** Every kernel call timed into times[name] (on), or the kernels as they were (off). */
function timed(on) {
  for (const k of Object.keys(plain)) {
    K[k] = on ? (...a) => { const t0 = performance.now(); const r = plain[k](...a); (times[k] ??= []).push(performance.now() - t0); return r; } : plain[k];
  }
}
const quantile = (a, q) => [...a].sort((x, y) => x - y)[Math.floor(q * a.length)];
const BATCHES = +opts.batches, CALLS = +opts.calls;

for (const cell of opts.cells.split(";")) {
  const [layout, dims] = cell.split(":"), shape = dims.split(",").map(Number);
  const C = layout.endsWith("C") ? shape[shape.length - 1] : shape[1], V = shape.reduce((a, b) => a * b);
  const x = sn.tensor(shape, layout, randomArray(V, 1, { offset: 0.5 })), dy = sn.tensor(shape, layout, randomArray(V, 2)), y = sn.tensor(shape, layout);
  const gamma = randomArray(C, 3, { offset: 1, scale: 0.2 }), beta = randomArray(C, 4), rm = new Float32Array(C), rv = new Float32Array(C).fill(1);
  const tr = sn.batchNormTrain(x, { gamma, beta, out: y });
  const groups = C % 32 === 0 ? 32 : 1;
  const ops = {
    stats: () => sn.channelStats(x),
    infer: () => sn.batchNormInfer(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y }),
    train: () => sn.batchNormTrain(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y }),
    backward: () => sn.batchNormBackward(x, dy, { gamma, saveMean: tr.saveMean, saveInvstd: tr.saveInvstd, out: y }),
    instance: () => sn.instanceNorm(x, { gamma, beta, out: y }),
    group: () => sn.groupNorm(x, { gamma, beta, groups, out: y }),
  };
  for (const name of opts.ops.split(",")) {
    const f = ops[name];
    if (!f) throw new Error(`unknown op ${name}: one of ${Object.keys(ops)}`);
    for (let i = 0; i < 200; i++) f();
    const per = Math.max(1, Math.round(CALLS / BATCHES)), batch = [];
    for (let r = 0; r < BATCHES; r++) { const t0 = performance.now(); for (let i = 0; i < per; i++) f(); batch.push((performance.now() - t0) / per * 1000); }
    for (const k of Object.keys(times)) delete times[k];
    timed(true);
    for (let i = 0; i < CALLS; i++) f();
    timed(false);
    // Per call: a kernel's median call time × its calls per op call (the kernel table's pattern_len is a helper, not a kernel run).
    const parts = Object.entries(times).filter(([k]) => k !== "pattern_len").map(([k, v]) => [k, quantile(v, 0.5) * (v.length / CALLS) * 1000]);
    const sum = parts.reduce((a, [, v]) => a + v, 0);
    console.log(`${layout} (${dims}) ${name.padEnd(9)} call ${quantile(batch, 0.25).toFixed(1)} µs | kernels ${sum.toFixed(1)}: ${parts.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`);
  }
  x.free(); dy.free(); y.free();
}
