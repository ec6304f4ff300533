// Same-memory A/B of kernel builds: two or more variants of the wasm, instantiated on ONE
// imported WebAssembly.Memory, so they read the same bytes at the same addresses with the same
// cache state, and are timed call by call in turn. On this shared VM, builds compared in separate
// processes (or on separate memories) differed by up to 2× for identical code; this is how the
// ±5 % decisions in assembly/ are made.
//
//   npx asc assembly/index.ts --target release --importMemory -o /tmp/a.wasm   # variant A
//   (edit assembly/, then)  npx asc assembly/index.ts --target release --importMemory -o /tmp/b.wasm
//   node bench/kernel-ab.mjs --kernel bn_backward_dx_f32_cl --shape 25088,96 /tmp/a.wasm /tmp/b.wasm
//   (--inner K: K calls per timed sample, less the accumulators' zeroing timed alone: for tensors
//   of ~64 Ki values, whose one call is near the timer's resolution. On a loaded machine run it as
//   `node --no-liftoff bench/kernel-ab.mjs …`: V8 tiers wasm up from Liftoff in the background,
//   and a kernel or the ceiling ran in Liftoff code for seconds here, up to 3× slower)
//
// Any kernel of the table (js/core/kernel-table.ts, built to build/kernel-table.mjs) works: its
// arguments are made from their kinds (dims from --shape in the kernel's argument order, data
// tensors random, parameters 1.1 / 0.2, accumulators zeroed before each call, scratch by the
// table's formula). --reps (200), --offset (0: data near zero; e.g. 100 takes the shifted paths;
// the mean parameter m is set to it), --act (activation id for kernels with an `act` argument:
// 0 none, 1 relu, 2 relu6, 3 silu, 4 gelu, 5 gelu_tanh; default 0), --copy K (also time the
// ceiling's SIMD copy of the n values, bench/ceiling copy_f32 on the same memory, in turn with the
// kernels, and print each variant as a multiple of K copies: K = 1 for a forward norm's 8 B/value,
// 2 for the skip norms' 16, 2.5 for a backward's 20; with --sumsq the ceiling is the one-pass Σx, Σx²
// loop over x instead, the statistics' ceiling: use --copy 1), --misalign B (each data tensor starts B
// bytes, a multiple of 16, past a page: tensors the API allocates sit 16-byte aligned, mid-page), --warm MS (call every variant and the ceiling for MS ms before timing; default 1000), --rms (the `rms` argument of the skip
// kernels: 1 RMS norm, the default; 0 layer norm), --null NAME[,NAME] (pass 0 for these pointer
// arguments, e.g. --null bias: the skip norms without a bias; a build without that path reads
// C values at address 0 instead, in L1 like a zero bias would be). Prints the median ms per variant and the
// largest relative difference of its first output from the first variant's.
import { readFileSync } from "node:fs";
import { randomArray } from "../test/reference.mjs";
import { KERNEL_TABLE, KERNEL_NAMES, ARG_KINDS, scratchBytes } from "../build/kernel-table.mjs";
import { parseArgs, median } from "./lib/cli.mjs";
import { ceilingExportsOn } from "./ceiling/index.mjs";

const { opts, rest: files } = parseArgs(process.argv.slice(2), { kernel: "bn_stats_f32_cf", reps: "200", offset: "0", shape: "", act: "0", copy: "0", rms: "1", sumsq: false, null: "", warm: "1000", inner: "1", misalign: "0" });
const misalign = +opts.misalign;
if (misalign % 16 !== 0 || misalign < 0) throw new Error("--misalign takes a multiple of 16 bytes");
const name = opts.kernel, reps = +opts.reps, offset = +opts.offset, inner = Math.max(1, +opts.inner);
const spec = KERNEL_TABLE[name];
if (!spec) { console.error(`unknown kernel ${name}: one of ${KERNEL_NAMES.join(", ")}`); process.exit(2); }
if (files.length < 1) { console.error("usage: node bench/kernel-ab.mjs --kernel NAME --shape DIMS a.wasm [b.wasm …]"); process.exit(2); }
const dimNames = spec.args.filter((a) => ARG_KINDS[a] === "dim");
const bytesIn = spec.args.some((a) => ARG_KINDS[a] === "bytes");
// Image kernels (px_*): R = S pixels of a 224×224 RGBA image by default.
const dflt = bytesIn ? { R: 50176, S: 50176, C: 4 } : { N: 8, C: 64, S: 3136, R: 25088, G: 32 };
const dimVals = opts.shape ? opts.shape.split(",").map(Number) : dimNames.map((d) => dflt[d]);
if (dimVals.length !== dimNames.length) throw new Error(`${name} takes ${dimNames.join(",")}, got ${dimVals}`);
const d = Object.fromEntries(dimNames.map((k, i) => [k, dimVals[i]]));
// Values of the data tensors: bytes read for px kernels (R pixels of C bytes; they write ≤ 3·R f32).
const n = bytesIn ? d.R * d.C : dimVals.reduce((a, b) => a * b) / (d.G ?? 1);
const small = 4 * Math.max(d.C * (d.N ?? 1), (d.R ?? 0), (d.N ?? 1) * (d.S ?? 1), 16) + 64;
// Accumulators: up to three f64 per (n, c) (statistics triples), all of them zeroed before each call.
const accBytes = Math.max(2 * small, 24 * d.C * (d.N ?? 1) + 64);

const al = (b) => (b + 4095) & ~4095;
const layout = {}; let top = 1 << 20;
const take = (key, bytes) => { layout[key] = top; top = al(top + bytes); };
for (const a of spec.args) {
  const kind = ARG_KINDS[a];
  if (kind === "in" || kind === "out" || kind === "bytes") { take(a, 4 * n + 64 + misalign); layout[a] += misalign; }
  else if (kind === "param" || kind === "param64") take(a, 2 * small);
  else if (kind === "acc") take(a, accBytes);
  else if (kind === "scratch") take(a, 0);
}
// Kernels with no tensor output (backward sums): the ceiling's copy goes to a buffer of its own.
const sumsOnly = !spec.args.some((a) => ARG_KINDS[a] === "out");
if (+opts.copy > 0 && sumsOnly) take("copyDst", 4 * n + 64);
const memory = new WebAssembly.Memory({ initial: Math.ceil((top + (8 << 20)) / 65536) });
// Each instance writes its static data (below heap_base: strings, the activation constants) at
// instantiation, over the previous one's at the same addresses: each variant's bytes are kept
// and put back before its calls (outside the timing).
const statics = [];
const mods = files.map((f) => {
  const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), { env: { memory, abort() { throw new Error(`${f}: abort`); } } }).exports;
  statics.push(new Uint8Array(memory.buffer, 0, k.heap_base()).slice());
  return k;
});
const own = (i) => new Uint8Array(memory.buffer).set(statics[i]);
if (layout.scratch !== undefined) {
  const need = scratchBytes(mods[0], name, d);
  const pages = Math.ceil((top + need + (8 << 20)) / 65536) - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
}
const F = new Float32Array(memory.buffer), F64 = new Float64Array(memory.buffer);
let seed = 1;
for (const a of spec.args) {
  const kind = ARG_KINDS[a], p = layout[a];
  if (kind === "in") F.set(randomArray(n, seed++, { offset: a === "x" ? offset : 0 }), p >>> 2);
  else if (kind === "bytes") new Uint8Array(memory.buffer, p, n).set(randomArray(n, seed++).map((v) => (v * 60 + 128) & 255));
  else if (kind === "param") F.fill(a === "m" || a === "hi" ? offset : a === "shift" || a.startsWith("c") || a === "b" || a === "beta" ? 0.2 : 1.1, p >>> 2, (p + small) >>> 2);
  else if (kind === "param64") F64.fill(a === "lo" ? 0 : 1.1, p >>> 3, (p + small) >>> 3);
}
const outArg = spec.args.find((a) => ARG_KINDS[a] === "out") ?? spec.args.find((a) => ARG_KINDS[a] === "acc");
const nulls = opts.null ? opts.null.split(",") : [];
const args = spec.args.map((a) => nulls.includes(a) ? 0 : ARG_KINDS[a] === "dim" ? d[a] : ARG_KINDS[a] === "scalar" ? (a === "eps" ? 1e-5 : a === "act" ? +opts.act : a === "rms" ? +opts.rms : n / d.C) : layout[a]);
// Accumulators are zeroed before each call, outside the timing: sized by the largest dims, the
// fill was up to 8 MB a call (N·S values' worth) and was timed with the kernel.
const zero = () => { for (const a of spec.args) if (ARG_KINDS[a] === "acc") F64.fill(0, layout[a] >>> 3, (layout[a] + accBytes) >>> 3); };
// Each variant's kernel called with its arguments as literals: a call through `k[name](...args)`
// (a spread) cost ~0.4 µs more than the kernel itself on a 2048-value row (one-row layer norm
// read 0.18 × copy that way, 0.28 × called directly).
const invoke = new Map(mods.map((k) => [k, new Function("f", `return () => f(${args.join(", ")})`)(k[name])]));
const call = (k) => { zero(); invoke.get(k)(); };
const read = () => (ARG_KINDS[outArg] === "out" ? new Float32Array(memory.buffer, layout[outArg], bytesIn ? 3 * d.R : n) : new Float64Array(memory.buffer, layout[outArg], small >>> 3)).slice();
const outs = mods.map((k, i) => { own(i); call(k); return read(); });
const t = mods.map(() => []);
// The copy ceiling: x (the first data input) copied into the first output's buffer, between the
// kernels' calls (each call sets its output again).
const copies = +opts.copy, tc = [];
let copy = null;
if (copies > 0) {
  const src = layout[spec.args.find((a) => ARG_KINDS[a] === "in")], dst = sumsOnly ? layout.copyDst : layout[outArg];
  const ceil = await ceilingExportsOn(memory);
  copy = opts.sumsq ? () => ceil.sumsq_f32(n, src) : () => ceil.copy_f32(n, src, dst);
}
// Warm-up: every variant and the ceiling called for --warm ms (default 1000) before timing. V8
// compiles a wasm function's optimized code on a background thread; on a loaded machine the
// ceiling's copy ran in baseline code for 300 ms and more and its time was up to 2× too long.
const warmUntil = performance.now() + +opts.warm;
while (performance.now() < warmUntil) { mods.forEach((k, i) => { own(i); call(k); }); if (copy) copy(); }
// --inner K: each sample times K calls in a row (small tensors: one call is near the timer's
// resolution), less K zeroings of the accumulators, timed alone in the same round.
const timeK = (f) => { const t0 = performance.now(); for (let j = 0; j < inner; j++) f(); return (performance.now() - t0) / inner; };
for (let r = 0; r < reps; r++) {
  if (inner > 1) {
    const tz = timeK(zero);
    mods.forEach((k, i) => { own(i); t[i].push(timeK(() => call(k)) - tz); });
  } else mods.forEach((k, i) => { own(i); zero(); const f = invoke.get(k), t0 = performance.now(); f(); t[i].push(performance.now() - t0); });
  if (copy) tc.push(timeK(copy));
  if (r % 50 === 49) process.stderr.write(`  ${r + 1}/${reps}\r`);
}
const diff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-6)); return m; };
console.log(`${name} [${dimNames.map((k) => `${k}=${d[k]}`).join(", ")}] offset ${offset}, median of ${reps}, all variants on one memory:`);
const ceilName = opts.sumsq ? "the sumsq loop" : `${copies} cop${copies === 1 ? "y" : "ies"}`;
// Ratios also as the median of each round's own ratio (robust when the machine's load swings
// between rounds: a loaded VM moved 16 Mi-value calls 2–8× from round to round here).
const perRound = (a, b) => median(a.map((v, r) => v / b[r]));
const ofCopy = (i) => (copy ? `  ${(copies * median(tc) / median(t[i])).toFixed(2)}× of ${ceilName} (per round ${(copies * perRound(tc, t[i])).toFixed(2)})` : "");
files.forEach((f, i) => console.log(`  ${f.padEnd(40)} ${median(t[i]).toFixed(4)} ms  ${(median(t[0]) / median(t[i])).toFixed(3)}× of the first (per round ${perRound(t[0], t[i]).toFixed(3)})  max rel diff ${diff(outs[i], outs[0]).toExponential(1)}${ofCopy(i)}`));
if (copy) console.log(`  ${opts.sumsq ? "sumsq_f32" : "copy_f32"} of ${n} values (ceiling)            ${median(tc).toFixed(4)} ms`);
