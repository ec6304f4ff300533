// Group norm + activation, two or more simdnorm builds and onnxruntime in ONE process, interleaved:
// each round times every build's groupNorm(x, { groups: 32, activation }) and onnxruntime-node's
// GroupNormalization-21 + Sigmoid·Mul (NCHW; silu only) back to back, and the ratios printed are
// medians over rounds of that round's pair — the before/after comparison bench/transformer.mjs
// cannot make (one build per process, so a before and an after run see different loads).
//
//   (an older checkout built in /tmp/before)
// Every system's output is checked against the float64 reference (test/reference.mjs) before it
// is timed; a system that disagrees stops the run.
//
//   node bench/group-act-ab.mjs [--rounds 15] [--act silu] [--shapes 320x64,640x32,1280x8,1280x32] [--layout NHWC] [--no-ort] /tmp/before/dist/index.js dist/index.js
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { GraphBuilder, valueInfo } from "./peers/onnx-builder.mjs";
import { randomArray, refGroupNorm, refWithAct, compare } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";
import { rotatingRounds, pairRatio } from "./lib/rounds.mjs";

const { opts, rest } = parseArgs(process.argv.slice(2), { rounds: "15", act: "silu", shapes: "320x64,640x32,1280x8,1280x32", layout: "NCHW", "no-ort": false });
if (!rest.length) { console.error("usage: node bench/group-act-ab.mjs [--rounds R] [--act silu] [--shapes CxHW,…] a/dist/index.js [b/dist/index.js …]"); process.exit(2); }
const apis = [];
for (const f of rest) { const api = await import(pathToFileURL(resolve(f)).href); await api.init({ warmup: true }); apis.push(api); }
const ort = !opts["no-ort"] && opts.act === "silu" && opts.layout === "NCHW" ? await import("onnxruntime-node").catch(() => null) : null;

console.log(`group norm (32 groups) + ${opts.act}, ${opts.layout}, median of ${opts.rounds} interleaved rounds; ratios: this build's speed over the first's, onnxruntime-node's time over each build's`);
for (const sh of opts.shapes.split(",")) {
  const [C, HW] = sh.split("x").map(Number), n = C * HW * HW;
  const shape = opts.layout === "NCHW" ? [1, C, HW, HW] : [1, HW, HW, C];
  const xv = randomArray(n, 7), gamma = randomArray(C, 8, { offset: 1, scale: 0.1 }), beta = randomArray(C, 9, { scale: 0.1 });
  const sys = apis.map((api) => {
    const x = api.tensor(shape, opts.layout, xv), y = api.tensor(shape, opts.layout);
    return () => api.groupNorm(x, { groups: 32, gamma, beta, out: y, activation: opts.act });
  });
  if (ort) {
    const b = new GraphBuilder(), dims = [1, C, HW, HW];
    const g = b.op("GroupNormalization", ["x", "gamma", "beta"], { num_groups: 32, epsilon: 1e-5 });
    b.output(b.op("Mul", [g, b.op("Sigmoid", [g])]), "y");
    const sess = await ort.InferenceSession.create(b.build({ inputs: [valueInfo("x", dims), valueInfo("gamma", [C]), valueInfo("beta", [C])], opset: 21 }),
      { executionProviders: ["cpu"], logSeverityLevel: 3, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
    const feeds = { x: new ort.Tensor("float32", Float32Array.from(xv), dims), gamma: new ort.Tensor("float32", gamma, [C]), beta: new ort.Tensor("float32", beta, [C]) };
    const fetches = { y: new ort.Tensor("float32", new Float32Array(n), dims) };
    sys.push(() => sess.run(feeds, fetches));
  }
  // Outputs first: every build and onnxruntime against the float64 reference.
  const ref = refWithAct(refGroupNorm, xv, null, shape, opts.layout, { groups: 32, gamma, beta, eps: 1e-5, activation: opts.act }).y;
  for (let i = 0; i < sys.length; i++) {
    const r = await sys[i]();
    const bad = compare(r.y.data, ref, 1e-4, 1e-3); // a simdnorm result and an onnxruntime fetch both hold y.data
    if (bad) { console.error(`${i < apis.length ? rest[i] : "onnxruntime-node"} disagrees with the float64 reference at ${sh}: ${JSON.stringify(bad)}`); process.exit(1); }
  }
  const t = await rotatingRounds(sys, +opts.rounds), pair = (i, j) => pairRatio(t, i, j);
  const cols = apis.map((_, i) => `${rest[i]}: ${(1000 * median(t[i])).toFixed(0)} µs (${pair(0, i).toFixed(2)}×${ort ? `, ort-node ${pair(apis.length, i).toFixed(2)}×` : ""})`);
  console.log(`  ${C}×${HW}×${HW}  ${cols.join("   ")}${ort ? `   ort-node ${(1000 * median(t[apis.length])).toFixed(0)} µs` : ""}`);
}
