// Skip layer / RMS norm, two or more simdnorm builds and onnxruntime (-node and -web, one thread)
// in ONE process, interleaved: each round times every build's skipLayerNorm(x, skip, { gamma,
// beta, bias, out, sumOut }) and each onnxruntime's Add(Add(x, skip), bias) → LayerNormalization
// (or the RMS decomposition) back to back, rotating the order (bench/lib/rounds.mjs); ratios are
// medians of per-round pairs — what bench/transformer.mjs (one build per process, runs minutes
// apart) cannot give on a loaded machine. Every system's y is checked against the float64
// reference (test/reference.mjs refSkipNorm) before it is timed.
//
//   node bench/skip-ab.mjs [--rounds 15] [--op skip_layer_norm|skip_rms_norm] [--shapes 512x2048,1x2048] [--no-bias] [--peers ort-node,ort-web] /tmp/before/dist/index.js dist/index.js
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { GraphBuilder, valueInfo } from "./peers/onnx-builder.mjs";
import { randomArray, refSkipNorm, compare } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";
import { rotatingRounds, pairRatio } from "./lib/rounds.mjs";

const { opts, rest } = parseArgs(process.argv.slice(2), { rounds: "15", op: "skip_layer_norm", shapes: "512x2048,1x2048", "no-bias": false, peers: "ort-node,ort-web" });
if (!rest.length) { console.error("usage: node bench/skip-ab.mjs [--rounds R] [--op skip_layer_norm|skip_rms_norm] [--shapes TxH,…] a/dist/index.js [b/dist/index.js …]"); process.exit(2); }
const rms = opts.op === "skip_rms_norm", withBias = !opts["no-bias"];
const apis = [];
for (const f of rest) { const api = await import(pathToFileURL(resolve(f)).href); await api.init({ warmup: true }); apis.push(api); }
const peers = [];
for (const kind of opts.peers.split(",").filter(Boolean)) {
  const ort = await import(kind === "ort-node" ? "onnxruntime-node" : "onnxruntime-web").catch(() => null);
  if (!ort) { console.error(`${kind} unavailable`); continue; }
  if (kind === "ort-web") { ort.env.wasm.numThreads = 1; ort.env.wasm.proxy = false; }
  peers.push({ kind, ort });
}

/** The ONNX graph of the op on (1, T, H): sum = x + skip (+ bias), y = norm(sum). */
function graph(T, H) {
  const b = new GraphBuilder(), s0 = b.op("Add", ["x", "skip"]), v = withBias ? b.op("Add", [s0, "bias"]) : s0;
  let y;
  if (rms) {
    const ms = b.op("ReduceMean", [b.op("Mul", [v, v]), b.i64([-1])], { keepdims: 1 });
    y = b.op("Mul", [b.op("Div", [v, b.op("Sqrt", [b.op("Add", [ms, b.f32([1e-6], [])])])]), "gamma"]);
  } else y = b.op("LayerNormalization", [v, "gamma", "beta"], { axis: -1, epsilon: 1e-5 });
  b.output(y, "y"); b.output(v, "sum");
  const inputs = [valueInfo("x", [1, T, H]), valueInfo("skip", [1, T, H]), valueInfo("gamma", [H])];
  if (withBias) inputs.push(valueInfo("bias", [H]));
  if (!rms) inputs.push(valueInfo("beta", [H]));
  return b.build({ inputs, opset: 21 });
}

console.log(`${opts.op}${withBias ? " with bias" : ""}, median of ${opts.rounds} rotating rounds; ratios: this build's speed over the first's, each peer's time over this build's`);
for (const sh of opts.shapes.split(",")) {
  const [T, H] = sh.split("x").map(Number), n = T * H, shape = [1, T, H];
  const xv = randomArray(n, 1), kv = randomArray(n, 2), gamma = randomArray(H, 3, { offset: 1, scale: 0.1 });
  const beta = rms ? undefined : randomArray(H, 4, { scale: 0.1 }), bias = withBias ? randomArray(H, 5, { scale: 0.1 }) : undefined;
  const names = rest.slice(), sys = apis.map((api) => {
    const x = api.tensor(shape, "NLC", xv), skip = api.tensor(shape, "NLC", kv), y = api.tensor(shape, "NLC"), sum = api.tensor(shape, "NLC");
    const f = rms ? api.skipRmsNorm : api.skipLayerNorm;
    return () => f(x, skip, { gamma, beta, bias, out: y, sumOut: sum });
  });
  for (const { kind, ort } of peers) {
    const so = kind === "ort-node" ? { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" } : { executionProviders: ["wasm"] };
    const sess = await ort.InferenceSession.create(graph(T, H), { ...so, logSeverityLevel: 3, graphOptimizationLevel: "all" });
    const feeds = { x: new ort.Tensor("float32", Float32Array.from(xv), shape), skip: new ort.Tensor("float32", Float32Array.from(kv), shape), gamma: new ort.Tensor("float32", gamma, [H]) };
    if (bias) feeds.bias = new ort.Tensor("float32", bias, [H]);
    if (beta) feeds.beta = new ort.Tensor("float32", beta, [H]);
    const fetches = kind === "ort-node" ? { y: new ort.Tensor("float32", new Float32Array(n), shape), sum: new ort.Tensor("float32", new Float32Array(n), shape) } : undefined;
    sys.push(() => (fetches ? sess.run(feeds, fetches) : sess.run(feeds)));
    names.push(kind);
  }
  const ref = refSkipNorm(xv, kv, null, shape, "NLC", { rms, gamma, beta, bias, eps: rms ? 1e-6 : 1e-5 }).y;
  for (let i = 0; i < sys.length; i++) {
    const bad = compare((await sys[i]()).y.data, ref, 1e-4, 1e-3);
    if (bad) { console.error(`${names[i]} disagrees with the float64 reference at ${sh}: ${JSON.stringify(bad)}`); process.exit(1); }
  }
  const t = await rotatingRounds(sys, +opts.rounds);
  const vs = (i) => peers.map((p, k) => `${p.kind} ${pairRatio(t, apis.length + k, i).toFixed(2)}×`).join(", ");
  const cols = apis.map((_, i) => `${names[i]}: ${(1000 * median(t[i])).toFixed(0)} µs (${pairRatio(t, 0, i).toFixed(2)}×${peers.length ? `; ${vs(i)}` : ""})`);
  const peerCols = peers.map((p, k) => `${p.kind} ${(1000 * median(t[apis.length + k])).toFixed(0)} µs`);
  console.log(`  ${T}×${H}  ${cols.join("   ")}   ${peerCols.join("   ")}`);
}
process.exit(0);
