// ConvNeXt's channels-first LayerNorm at the op level: api.layerNorm (and its backward) on NCHW
// Tensors (zero-copy, `out` given) against the wasm SIMD copy of the same bytes on simdnorm's
// own memory, interleaved sample by sample, lower quartiles (the matrix's method:
// bench/matrix.mjs). The forward moves 8 B/value (ceiling: one copy), the backward 20 (2.5).
//
//   node bench/convnext.mjs [--shapes 1x96x56x56,8x96x56x56] [--pairs 15] [--dist DIR]
//
// --dist: the package build to time (default ../dist), e.g. a copy of dist/ from before a change.
import { loadCeilingOn } from "./ceiling/index.mjs";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const { opts } = parseArgs(process.argv.slice(2), { shapes: "", pairs: "15", dist: "" });
const sn = await import(opts.dist ? pathToFileURL(resolve(opts.dist, "index.js")).href : "../dist/index.js");
const SHAPES = (opts.shapes || "1x96x56x56,1x192x28x28,1x384x14x14,1x768x7x7,8x96x56x56,8x768x7x7").split(",").map((s) => s.split("x").map(Number));
const PAIRS = +opts.pairs;

/** ms per call: the lower quartile of PAIRS samples of ≥ 0.3 ms of calls each (after ≥ 100 ms of calls: V8 tiers a function up only after some run time). */
function timer(f) {
  for (const t0 = performance.now(); performance.now() - t0 < 100;) f();
  const t = performance.now(); f(); const k = Math.ceil(0.3 / Math.max(performance.now() - t, 1e-4));
  return () => { const t0 = performance.now(); for (let i = 0; i < k; i++) f(); return (performance.now() - t0) / k; };
}

await sn.init({ warmup: true });
const ceiling = await loadCeilingOn(sn.wasmMemory());
console.log(`channels-first layer norm, × of the copy ceiling (forward 8 B/value, backward 20), lower quartile of ${PAIRS} interleaved sample pairs`);
for (const shape of SHAPES) {
  const [, C] = shape, n = shape.reduce((a, b) => a * b);
  const x = sn.tensor(shape, "NCHW"), dy = sn.tensor(shape, "NCHW"), y = sn.tensor(shape, "NCHW");
  for (let i = 0; i < n; i++) { x.data[i] = Math.sin(i * 0.37) * 1.5 + 0.2; dy.data[i] = Math.cos(i * 0.11); }
  const gamma = new Float32Array(C).fill(1.1), beta = new Float32Array(C).fill(0.1);
  const st = sn.layerNorm(x, { gamma, beta, out: y });
  const runs = {
    forward: [8, timer(() => sn.layerNorm(x, { gamma, beta, out: y }))],
    backward: [20, timer(() => sn.layerNormBackward(x, dy, { gamma, mean: st.mean, invstd: st.invstd, out: y }))],
  };
  const copy = timer(() => ceiling.copyAt(n, x.ptr, y.ptr));
  const line = [];
  for (const [name, [bpv, op]] of Object.entries(runs)) {
    const a = [], b = [];
    for (let r = 0; r < PAIRS; r++) { a.push(op()); b.push(copy()); }
    const ms = lowerQuartile(a), cms = (lowerQuartile(b) * bpv) / 8;
    line.push(`${name} ${(ms * 1e3).toFixed(1)} µs = ${(cms / ms).toFixed(2)}×`);
  }
  console.log(`  (${shape.join(", ")}): ${line.join(", ")}`);
  x.free(); dy.free(); y.free();
}
