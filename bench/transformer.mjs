// Transformer and diffusion norms: RMS norm, layer norm, the skip norms and group norm + SiLU,
// forward and backward, on LLaMA-style rows (hidden 576–4096, 1–512 tokens) and UNet blocks
// (320–1280 channels, 8×8–64×64, 32 groups) in both layouts. One thread, one process, systems
// interleaved in round robin; every ratio is the median over rounds of that round's ratio (the
// pair measured back to back: on this shared machine the load changes from second to second):
//
//   simdnorm   the fused op on Tensors in wasm memory (zero-copy, preallocated outputs)
//   unfused    what the op costs without fusion: simdnorm's plain norm plus the residual add and
//              the activation as plain JS loops over the same wasm-memory views
//   copy       the ceiling: a wasm SIMD copy of the bytes the op must move (8 B/value forward;
//              skip norms 16 B: x and skip read, y and sum written; backward 20 B copy-equivalent)
//   ort-node, ort-web  onnxruntime running the equivalent ONNX graph (built in code): RMS norm as
//              its decomposition (Mul, ReduceMean, Add, Sqrt, Div, Mul), layer norm as
//              LayerNormalization, skip norms with an Add first, group norm + SiLU as
//              GroupNormalization-21 + Sigmoid + Mul (ONNX's GroupNormalization is channels-first
//              only: for NHWC the graph transposes to NCHW and back, as an NHWC user would run it),
//              RMS norm + SiLU as the RMS decomposition + Sigmoid + Mul
//
//   node bench/transformer.mjs [--quick] [--rounds 11] [--ops group_norm_silu,rms_norm_silu] [--json out.json]
//   npm run bench:transformer
import * as api from "../dist/index.js";
import { loadCeiling } from "./ceiling/index.mjs";
import { GraphBuilder, valueInfo } from "./peers/onnx-builder.mjs";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";
import { writeFileSync } from "node:fs";

const { opts } = parseArgs(process.argv.slice(2), { rounds: "11", quick: false, json: "", peers: "ort-node,ort-web", ops: "" });
const ROUNDS = +opts.rounds;
await api.init({ warmup: true });
const ceiling = await loadCeiling({ maxValues: 1 << 21 });

const ROWS = opts.quick ? [[1, 2048], [512, 2048]] : [[1, 576], [1, 2048], [1, 4096], [64, 2048], [512, 576], [512, 2048], [512, 4096]];
const UNET = opts.quick ? [[320, 64]] : [[320, 8], [320, 64], [640, 32], [1280, 8], [1280, 32]];

/** A workload: name, values, bytes/value the op must move, and per-system closures. */
function rowCase(op, T, H) {
  const shape = [1, T, H], layout = "NLC", n = T * H;
  const t = (seed) => api.tensor(shape, layout, randomArray(n, seed));
  const x = t(1), skip = t(2), dy = t(3), y = api.tensor(shape, layout), sum = api.tensor(shape, layout), dx = api.tensor(shape, layout);
  const gamma = randomArray(H, 4, { offset: 1, scale: 0.1 }), beta = randomArray(H, 5, { scale: 0.1 }), bias = randomArray(H, 6, { scale: 0.1 });
  // Skip RMS norm runs LLaMA's residual stream (no bias); skip layer norm BERT's (with the dense bias).
  const jsAdd = (a, b, out, withBias) => { const A = a.data, B = b.data, O = out.data; for (let i = 0; i < n; i++) O[i] = A[i] + B[i] + (withBias ? bias[i % H] : 0); };
  const jsSilu = (v) => { const V = v.data; for (let i = 0; i < n; i++) V[i] = V[i] / (1 + Math.exp(-V[i])); };
  const cases = {
    rms_norm: { bpv: 8, fused: () => api.rmsNorm(x, { gamma, out: y }), unfused: null },
    rms_norm_silu: { bpv: 8, fused: () => api.rmsNorm(x, { gamma, out: y, activation: "silu" }), unfused: () => { api.rmsNorm(x, { gamma, out: y }); jsSilu(y); } },
    skip_rms_norm: { bpv: 16, fused: () => api.skipRmsNorm(x, skip, { gamma, out: y, sumOut: sum }), unfused: () => { jsAdd(x, skip, sum, false); api.rmsNorm(sum, { gamma, out: y }); } },
    layer_norm: { bpv: 8, fused: () => api.layerNorm(x, { gamma, beta, out: y }), unfused: null },
    skip_layer_norm: { bpv: 16, fused: () => api.skipLayerNorm(x, skip, { gamma, beta, bias, out: y, sumOut: sum }), unfused: () => { jsAdd(x, skip, sum, true); api.layerNorm(sum, { gamma, beta, out: y }); } },
  };
  const st = api.layerNorm(x, { gamma, beta }), rs = api.rmsNorm(x, { gamma });
  st.y.free(); rs.y.free();
  cases.layer_norm_backward = { bpv: 20, fused: () => api.layerNormBackward(x, dy, { gamma, mean: st.mean, invstd: st.invstd, out: dx }), unfused: null };
  cases.rms_norm_backward = { bpv: 20, fused: () => api.rmsNormBackward(x, dy, { gamma, invRms: rs.invRms, out: dx }), unfused: null };
  const c = cases[op];
  return { name: `${op} ${T}×${H}`, op, n, bpv: c.bpv, fused: c.fused, unfused: c.unfused, ort: () => ortRows(op, T, H, { x, skip, gamma, beta, bias }), free: () => [x, skip, dy, y, sum, dx].forEach((q) => q.free()) };
}

function unetCase(C, HW, layout) {
  const shape = layout === "NCHW" ? [1, C, HW, HW] : [1, HW, HW, C], n = C * HW * HW;
  const x = api.tensor(shape, layout, randomArray(n, 7)), y = api.tensor(shape, layout);
  const gamma = randomArray(C, 8, { offset: 1, scale: 0.1 }), beta = randomArray(C, 9, { scale: 0.1 });
  const jsSilu = (v) => { const V = v.data; for (let i = 0; i < n; i++) V[i] = V[i] / (1 + Math.exp(-V[i])); };
  return {
    name: `group_norm_silu ${layout} ${C}×${HW}×${HW}`, op: "group_norm_silu", n, bpv: 8,
    fused: () => api.groupNorm(x, { groups: 32, gamma, beta, out: y, activation: "silu" }),
    unfused: () => { api.groupNorm(x, { groups: 32, gamma, beta, out: y }); jsSilu(y); },
    ort: () => ortGroup(C, HW, layout, { x, gamma, beta }),
    free: () => [x, y].forEach((q) => q.free()),
  };
}

// ---- onnxruntime graphs -------------------------------------------------------------------
const runtimes = {};
for (const kind of opts.peers.split(",").filter(Boolean)) {
  try {
    const ort = await import(kind === "ort-node" ? "onnxruntime-node" : "onnxruntime-web");
    if (kind === "ort-web") { ort.env.wasm.numThreads = 1; ort.env.wasm.proxy = false; }
    ort.env.logLevel = "error";
    runtimes[kind] = ort;
  } catch (e) { console.error(`${kind} unavailable: ${e.message}`); }
}
const sessionOptions = (kind) => kind === "ort-node"
  ? { executionProviders: ["cpu"], logSeverityLevel: 3, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" }
  : { executionProviders: ["wasm"], logSeverityLevel: 3, graphOptimizationLevel: "all" };

/** RMS norm of value v over the last axis as basic ops. */
function rmsGraph(b, v, eps) {
  const ms = b.op("ReduceMean", [b.op("Mul", [v, v]), b.i64([-1])], { keepdims: 1 });
  return b.op("Mul", [b.op("Div", [v, b.op("Sqrt", [b.op("Add", [ms, b.f32([eps], [])])])]), "gamma"]);
}

function ortRows(op, T, H, d) {
  if (op.endsWith("backward")) return null;
  const b = new GraphBuilder(), skip = op.startsWith("skip"), bias = skip && !op.includes("rms");
  const v = skip ? (bias ? b.op("Add", [b.op("Add", ["x", "skip"]), "bias"]) : b.op("Add", ["x", "skip"])) : "x";
  const y = op.includes("rms") ? rmsGraph(b, v, 1e-6) : b.op("LayerNormalization", [v, "gamma", "beta"], { axis: -1, epsilon: 1e-5 });
  b.output(op.endsWith("_silu") ? silu(b, y) : y, "y");
  if (skip) b.output(v, "sum");
  const inputs = [valueInfo("x", [1, T, H]), valueInfo("gamma", [H])];
  const feeds = { x: [d.x.data, [1, T, H]], gamma: [d.gamma, [H]] };
  if (skip) { inputs.push(valueInfo("skip", [1, T, H])); feeds.skip = [d.skip.data, [1, T, H]]; }
  if (bias) { inputs.push(valueInfo("bias", [H])); feeds.bias = [d.bias, [H]]; }
  if (!op.includes("rms")) { inputs.push(valueInfo("beta", [H])); feeds.beta = [d.beta, [H]]; }
  return { bytes: b.build({ inputs, opset: 21 }), feeds, outputs: skip ? ["y", "sum"] : ["y"] };
}

/** SiLU of value v: v · sigmoid(v). */
const silu = (b, v) => b.op("Mul", [v, b.op("Sigmoid", [v])]);

function ortGroup(C, HW, layout, d) {
  const b = new GraphBuilder(), nhwc = layout === "NHWC";
  const x = nhwc ? b.op("Transpose", ["x"], { perm: [0, 3, 1, 2] }) : "x";
  const g = silu(b, b.op("GroupNormalization", [x, "gamma", "beta"], { num_groups: 32, epsilon: 1e-5 }));
  b.output(nhwc ? b.op("Transpose", [g], { perm: [0, 2, 3, 1] }) : g, "y");
  const dims = nhwc ? [1, HW, HW, C] : [1, C, HW, HW];
  return { bytes: b.build({ inputs: [valueInfo("x", dims), valueInfo("gamma", [C]), valueInfo("beta", [C])], opset: 21 }), feeds: { x: [d.x.data, dims], gamma: [d.gamma, [C]], beta: [d.beta, [C]] }, outputs: ["y"] };
}

/** A session for a graph on one runtime → a timed async closure (ort-node: outputs preallocated). */
async function ortRunner(kind, g) {
  const ort = runtimes[kind];
  const sess = await ort.InferenceSession.create(g.bytes, sessionOptions(kind));
  const feeds = Object.fromEntries(Object.entries(g.feeds).map(([k, [data, dims]]) => [k, new ort.Tensor("float32", Float32Array.from(data), dims)]));
  const first = await sess.run(feeds);
  if (kind === "ort-web") return () => sess.run(feeds);
  const fetches = Object.fromEntries(g.outputs.map((o) => [o, new ort.Tensor("float32", new Float32Array(first[o].data.length), first[o].dims)]));
  return () => sess.run(feeds, fetches);
}

// ---- timing -------------------------------------------------------------------------------
/** ms for reps calls of fn (awaiting promises). */
async function batch(fn, reps) {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { const p = fn(); if (p && p.then) await p; }
  return performance.now() - t0;
}

/** Median ms per call of each system, interleaved round robin (each round ≥ ~2 ms per system). */
async function time(systems) {
  const per = {};
  for (const [k, fn] of Object.entries(systems)) {
    let reps = 1;
    // First calls: compilation, allocation of outputs; then 30 ms of calls, so V8 has optimized
    // the JS layer and replaced the wasm's baseline code (3 calls left the first workload at 4×).
    await batch(fn, 3);
    for (const t0 = performance.now(); performance.now() - t0 < 30; ) await batch(fn, 1);
    while (reps < 1 << 16 && (await batch(fn, reps)) < 2) reps *= 2;
    per[k] = { fn, reps, samples: [] };
  }
  for (let r = 0; r < ROUNDS; r++) for (const s of Object.values(per)) s.samples.push((await batch(s.fn, s.reps)) / s.reps);
  return { ms: Object.fromEntries(Object.entries(per).map(([k, s]) => [k, median(s.samples)])), samples: Object.fromEntries(Object.entries(per).map(([k, s]) => [k, s.samples])) };
}

/** Median over rounds of other/simdnorm, each round's pair measured back to back (load changes by the second here). */
const ratioOf = (t, k) => (t.samples[k] ? median(t.samples[k].map((v, i) => v / t.samples.simdnorm[i])) : NaN);

const workloads = [];
for (const [T, H] of ROWS) for (const op of ["rms_norm", "rms_norm_silu", "skip_rms_norm", "layer_norm", "skip_layer_norm", "layer_norm_backward", "rms_norm_backward"]) workloads.push(() => rowCase(op, T, H));
for (const [C, HW] of UNET) for (const layout of ["NCHW", "NHWC"]) workloads.push(() => unetCase(C, HW, layout));

const only = opts.ops ? new Set(opts.ops.split(",")) : null;
const results = [];
const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(0)} %` : "–");
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(1)}×` : "–");
console.log(`| workload | simdnorm µs | % of copy | vs unfused | vs ort-node | vs ort-web |\n|---|---|---|---|---|---|`);
for (const make of workloads) {
  const w = make();
  if (only && !only.has(w.op)) { w.free(); continue; }
  const sys = { simdnorm: w.fused, copy: () => ceiling.copy(Math.round(w.n * w.bpv / 8)) };
  if (w.unfused) sys.unfused = w.unfused;
  const g = w.ort && w.ort();
  for (const kind of Object.keys(runtimes)) if (g) { try { sys[kind] = await ortRunner(kind, g); } catch (e) { console.error(`${kind} ${w.name}: ${e.message}`); } }
  const t = await time(sys);
  const r = { workload: w.name, op: w.op, values: w.n, bytesPerValue: w.bpv, ms: t.ms, ofCopy: ratioOf(t, "copy"), vsUnfused: ratioOf(t, "unfused"), vsOrtNode: ratioOf(t, "ort-node"), vsOrtWeb: ratioOf(t, "ort-web") };
  results.push(r);
  console.log(`| ${w.name} | ${(1000 * t.ms.simdnorm).toFixed(1)} | ${pct(r.ofCopy)} | ${ratio(r.vsUnfused)} | ${ratio(r.vsOrtNode)} | ${ratio(r.vsOrtWeb)} |`);
  w.free();
}
if (opts.json) writeFileSync(opts.json, JSON.stringify({ node: process.version, date: new Date().toISOString(), rounds: ROUNDS, results }, null, 1));
