// What bounds the row kernels (layer norm, RMS norm, the skip norms, their backwards) on this
// CPU, by experiment: synthetic wasm loops on one memory that move the same bytes as a copy and
// do k float adds or k float multiplies per vector (f32x4) on the way, at sizes resident in L1,
// L2 and L3 (and beyond), timed in turn with the copy; plus the clock, from a chain of dependent
// integer ops (1 cycle each). Each loop is the copy's loop (16 values per iteration, one address
// per stream, immediate offsets) with the arithmetic added, compiled by asc with the package's
// settings (SIMD, -O3). Prints ns and cycles per vector (16 bytes read + 16 written), and each
// loop as a multiple of the copy's speed.
//
//   node bench/rows-bound.mjs [--sizes 2048,16384,262144,4194304] [--reps 60] [--loops copy,a4m3]
//   node bench/rows-bound.mjs BUILD.wasm [--shapes 1x2048,512x2048] [--kreps 40]
//     (a build made with `npx asc assembly/index.ts --target release --importMemory -o BUILD.wasm`:
//     then each row kernel also runs against its twin below and the copy, R × C shapes)
//
// Loops (one per exported function, generated below):
//   aK  y = x + c + c … (K dependent adds per vector: the four vectors of an iteration and the
//       iterations are independent), stored;  mK  the same with K multiplies;  aKmJ  both;
//   aKl2 K adds of which two take their operand from two per-column vectors (gamma, beta: a
//       window of ≤ 64 KB, so in L2 at the larger sizes);
//   sum2m1  Σx, Σx² (two carried adds and a multiply per vector, eight accumulators), no store;
//   reg_*  register-only chains (no memory), for the float pipes alone; t_*  the kernels' twins.
import { parseArgs, median } from "./lib/cli.mjs";
import { measureClock, SPIN_SOURCE } from "./lib/clock.mjs";
import { writeFileSync, readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { opts, rest } = parseArgs(process.argv.slice(2), { sizes: "2048,16384,262144,4194304", reps: "60", loops: "", shapes: "1x2048,64x2048,512x576,512x2048,512x8192", kreps: "40" });

// One loop body per vector i (offset 16·i): ops in the order add, mul, add, mul … (adds first
// when there are more of them).
function vecOps(i, A, M, L, IN = 1, OUT = 1) {
  const ops = [];
  let a = A - (IN - 1), m = M;
  while (a + m > 0) { if (a >= m && a > 0) { ops.push("add"); a--; } else { ops.push("mul"); m--; } }
  let t = `v128.load(x, ${16 * i})`, l = 0;
  for (let s = 1; s < IN; s++) t = `f32x4.add(${t}, v128.load(x${s}, ${16 * i}))`;
  for (const op of ops) {
    const rhs = l < L ? `v128.load(g${l++}, ${16 * i})` : op === "add" ? "cv" : "kv";
    t = `f32x4.${op}(${t}, ${rhs})`;
  }
  if (OUT === 1) return `v128.store(y, ${t}, ${16 * i});`;
  return `{ const t = ${t}; ${[...Array(OUT).keys()].map((s) => `v128.store(${s ? `y${s}` : "y"}, t, ${16 * i});`).join(" ")} }`;
}
// Streams 1… of a loop sit 4·n + 4096 bytes after stream 0 (x1 after x, y1 after y).
function stream(name, A, M, L = 0, IN = 1, OUT = 1) {
  return `export function ${name}(n: i32, src: usize, dst: usize, g: usize, mask: usize, c: f32, k: f32): void {
  const cv = f32x4.splat(c), kv = f32x4.splat(k);
  for (let i = 0; i < n; i += 16) {
    const o = <usize>i << 2, x = src + o, y = dst + o, g0 = g + (o & mask), g1 = g0 + 65536, g2 = g1 + 65536, gap = (<usize>n << 2) + 4096;
    const x1 = x + gap, x2 = x1 + gap, y1 = y + gap;
    ${[0, 1, 2, 3].map((i) => vecOps(i, A, M, L, IN, OUT)).join("\n    ")}
  }
}`;
}
const src = [
  SPIN_SOURCE,
  `export function sum2m1(n: i32, src: usize, dst: usize, g: usize, mask: usize, c: f32, k: f32): f32 {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  for (let i = 0; i < n; i += 16) {
    const p = src + (<usize>i << 2);
    const d0 = v128.load(p), d1 = v128.load(p, 16), d2 = v128.load(p, 32), d3 = v128.load(p, 48);
    s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0)); s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
    s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2)); s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  return f32x4.extract_lane(s, 0);
}`,
];
// Register-only throughput: six independent chains of adds and/or six of multiplies per iteration.
for (const [nm, A, M] of [["reg_a6", 6, 0], ["reg_m6", 0, 6], ["reg_a6m6", 6, 6], ["reg_a6m3", 6, 3]]) {
  const vs = [...Array(A).keys()].map((i) => `a${i}`).concat([...Array(M).keys()].map((i) => `m${i}`));
  src.push(`export function ${nm}(n: i32, c: f32, k: f32): f32 {
  const cv = f32x4.splat(c), kv = f32x4.splat(k);
  let ${vs.map((v) => `${v} = f32x4.splat(${v[0] === "a" ? "c" : "k"})`).join(", ")};
  for (let i = 0; i < n; i++) { ${vs.map((v) => `${v} = f32x4.${v[0] === "a" ? "add" : "mul"}(${v}, ${v[0] === "a" ? "cv" : "kv"});`).join(" ")} }
  return f32x4.extract_lane(${vs.reduce((a, v) => `f32x4.add(${a}, ${v})`, "cv")}, 0);
}`);
}
// Twins of the row kernels: the float adds (A) and multiplies (M) per vector of each kernel's
// loops, summed over its passes, with its memory streams (IN read, OUT written) and its
// per-column vectors (L loads from an L1/L2-resident window), all in one streaming pass.
//   ln forward: Σx, Σx² (2 adds, 1 mul) + (x − m)·a·γ + β (2 adds, 2 muls)
//   RMS forward: Σx² (1 add, 1 mul) + x·a·γ (2 muls)
//   skip RMS (with bias): x + skip + bias, − 0 (the shift), Σs² (4 adds, 1 mul) + s·a·γ (2 muls)
//   skip layer norm (with bias): x + skip + bias − h, Σ, Σ² (5 adds, 1 mul) + the normalize (2, 2)
//   ln backward: x̂ = (x − m)·a + b, Σγg, Σγg·x̂, the column sums Σg, Σg·x̂ (6 adds, 4 muls)
//     + dx = γg·a + (x − m)·k1 + k0 (3 adds, 3 muls); skip backward + dsum and Σdx (2 adds);
//     RMS backward x̂ = x·a, dx = γg·a + x·k1 (4 adds fewer)
const twins = { t_ln: [4, 3, 2], t_rms: [1, 3, 1], t_skiprms: [4, 3, 2, 2, 2], t_skipln: [7, 3, 3, 2, 2], t_bwd: [9, 7, 3, 2, 1], t_rmsbwd: [5, 7, 3, 2, 1], t_skipbwd: [11, 7, 3, 3, 1] };
for (const [k, v] of Object.entries(twins)) src.push(stream(k, ...v));
const loops = { copy: [0, 0], a1: [1, 0], a2: [2, 0], a3: [3, 0], a4: [4, 0], a6: [6, 0], m1: [0, 1], m2: [0, 2], m3: [0, 3], m4: [0, 4], m6: [0, 6], a2m2: [2, 2], a4m3: [4, 3], a6m3: [6, 3], a4m3l2: [4, 3, 2] };
for (const [k, v] of Object.entries(loops)) src.push(stream(k, ...v));

const dir = mkdtempSync(join(tmpdir(), "rows-bound-"));
writeFileSync(join(dir, "b.ts"), src.join("\n\n") + "\n");
const asc = (await import("assemblyscript/asc")).default;
const { error } = await asc.main([join(dir, "b.ts"), "-o", join(dir, "b.wasm"), "--importMemory", "--enable", "simd", "-O3", "--runtime", "stub", "--noAssert"], { stdout: process.stdout, stderr: process.stderr });
if (error) throw error;

const sizes = opts.sizes.split(",").map(Number), shapes = opts.shapes.split(",").map((sh) => sh.split("x").map(Number));
const maxN = Math.max(...sizes, ...shapes.map(([R, C]) => R * C)), span = 4 * maxN + 4096;
const memory = new WebAssembly.Memory({ initial: Math.ceil(((1 << 20) + 5 * span) / 65536) + 8 });
const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(dir, "b.wasm"))), { env: { memory, abort() { throw new Error("abort"); } } }).exports;
const gBase = 1 << 16, xBase = 1 << 19, yBase = xBase + 3 * span;
let F = new Float32Array(memory.buffer);
for (let i = 0; i < 3 * span >>> 2; i++) F[(xBase >>> 2) + i] = Math.sin(i) + 1.5;
F.fill(0.5, gBase >>> 2, (gBase >>> 2) + (3 * 65536 >>> 2));

// The clock: 16 dependent one-cycle integer ops per iteration of spin.
const ghz = measureClock(k.spin);

for (const nm of ["reg_a6", "reg_m6", "reg_a6m6", "reg_a6m3"]) {
  const it = 1e6;
  for (let w = 0; w < 3; w++) k[nm](it, 0, 1);
  const tr = [];
  for (let r = 0; r < 30; r++) { const t0 = performance.now(); k[nm](it, 0, 1); tr.push(performance.now() - t0); }
  const ops = nm.match(/\d+/g).reduce((a, b) => a + +b, 0);
  console.log(`${nm}: ${((Math.min(...tr) * 1e6 * ghz) / it).toFixed(2)} cycles per iteration of ${ops} f32x4 ops (best of 30)`);
}

const names = opts.loops ? opts.loops.split(",") : ["copy", ...Object.keys(loops).filter((l) => l !== "copy"), "sum2m1"];
// The window of the L per-column loads: the largest power of two ≤ 4·C bytes (L1 for a row of C).
const windowMask = (bytes) => (2 ** Math.floor(Math.log2(Math.min(bytes, 65536))) - 1) & ~15;
const reps = +opts.reps;
for (const n of sizes) {
  const mask = windowMask(4 * n);
  const run = (nm) => k[nm](n, xBase, yBase, gBase, mask, 0, 1);
  const inner = Math.max(1, Math.round(2e6 / n));
  for (const nm of names) for (let w = 0; w < 3; w++) run(nm);
  const t = names.map(() => []);
  for (let r = 0; r < reps; r++) names.forEach((nm, i) => { const t0 = performance.now(); for (let j = 0; j < inner; j++) run(nm); t[i].push((performance.now() - t0) / inner); });
  const cp = median(t[0]);
  console.log(`\nn = ${n} values (${(8 * n / 1024).toFixed(0)} KB read + written), median of ${reps} × ${inner} calls in turn:`);
  console.log(`  loop      ns/vector  cycles/vector  × copy speed`);
  names.forEach((nm, i) => {
    const v = (median(t[i]) * 1e6) / (n / 4);
    console.log(`  ${nm.padEnd(9)} ${v.toFixed(3).padStart(9)}  ${(v * ghz).toFixed(2).padStart(13)}  ${(cp / median(t[i])).toFixed(2).padStart(11)}`);
  });
}

// The kernels of a build (positional argument, built with --importMemory) against their twins
// and the copy, R × C shapes, on the same memory, in turn: "of twin" = twin time / kernel time.
if (rest.length) {
  const kb = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(rest[0])), { env: { memory, abort() { throw new Error("abort"); } } }).exports;
  let top = ((yBase + 2 * span + 65535) & ~65535) >>> 0;
  const need = top + 7 * span + (1 << 20);
  if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  F = new Float32Array(memory.buffer);
  const al = (b) => { const p = top; top = (top + b + 4095) & ~4095; return p; };
  const x = al(span), dy = al(span), ds = al(span), y = al(span), sm = al(span);
  const g = al(65536), be = al(65536), bi = al(65536), mu = al(65536), rs = al(65536), bb = al(65536), cacc = al(3 * 65536), scr = al(10 * 65536);
  for (let i = 0; i < maxN; i++) { F[(x >>> 2) + i] = Math.sin(i) * 2 + 0.1; F[(dy >>> 2) + i] = Math.cos(i); F[(ds >>> 2) + i] = Math.sin(3 * i); }
  F.fill(1.1, g >>> 2, (g + 65536) >>> 2); F.fill(0.2, be >>> 2, (be + 65536) >>> 2); F.fill(0.1, bi >>> 2, (bi + 65536) >>> 2); F.fill(0, bb >>> 2, (bb + 65536) >>> 2);
  const kr = +opts.kreps;
  for (const [R, C] of shapes) {
    const n = R * C, mask = windowMask(4 * C);
    kb.ln_forward_f32_cl(R, C, x, g, be, y, mu, rs, 1e-5, 0); // statistics for the backwards
    const tw = (nm) => () => k[nm](n, xBase, yBase, gBase, mask, 0, 1);
    // [label, kernel, its twin, copies in its ceiling]
    const rows = [
      ["layer norm", () => kb.ln_forward_f32_cl(R, C, x, g, be, y, mu, rs, 1e-5, 0), "t_ln", 1],
      ["RMS norm", () => kb.rms_forward_f32_cl(R, C, x, g, y, rs, 1e-5, 0), "t_rms", 1],
      ["skip RMS (bias)", () => kb.skip_forward_f32_cl(R, C, x, dy, bi, g, be, sm, y, mu, rs, 1e-5, 1, 0), "t_skiprms", 2],
      ["skip layer norm (bias)", () => kb.skip_forward_f32_cl(R, C, x, dy, bi, g, be, sm, y, mu + 32768, rs + 32768, 1e-5, 0, 0), "t_skipln", 2],
      ["layer-norm backward", () => kb.ln_backward_rows_f32_cl(R, C, x, dy, mu, rs, bb, g, be, y, cacc, scr, 0), "t_bwd", 2.5],
      ["RMS backward", () => kb.rms_backward_f32_cl(R, C, x, dy, rs, g, be, y, cacc, scr, 0), "t_rmsbwd", 2.5],
      ["skip LN backward (dsum)", () => kb.skip_backward_f32_cl(R, C, x, dy, ds, mu, rs, bb, g, be, y, cacc, scr, 0, 0), "t_skipbwd", 2.5],
    ];
    const fs = [() => k.copy(n, xBase, yBase, gBase, mask, 0, 1), ...rows.flatMap(([, kf, t]) => [kf, tw(t)])];
    const inner = Math.max(1, Math.round(5e5 / n));
    for (let w = 0; w < 20; w++) fs.forEach((f) => f());
    const t = fs.map(() => []);
    for (let r = 0; r < kr; r++) fs.forEach((f, i) => { const t0 = performance.now(); for (let j = 0; j < inner; j++) f(); t[i].push((performance.now() - t0) / inner); });
    const m = t.map(median), cp = m[0];
    console.log(`\n${R} × ${C} (${n} values), median of ${kr} × ${inner} calls in turn; copy ${(cp * 1e6 / (n / 4) * ghz).toFixed(2)} cycles/vector`);
    console.log(`  kernel                     cycles/vector  × its copies   twin: cycles/vector  × copies   kernel of twin`);
    rows.forEach(([label, , tn, cps], i) => {
      const tk = m[1 + 2 * i], tt = m[2 + 2 * i], cyc = (v) => ((v * 1e6) / (n / 4)) * ghz;
      console.log(`  ${label.padEnd(26)} ${cyc(tk).toFixed(2).padStart(13)}  ${((cps * cp) / tk).toFixed(2).padStart(12)}   ${(tn + " " + cyc(tt).toFixed(2)).padStart(19)}  ${((cps * cp) / tt).toFixed(2).padStart(9)}   ${(tt / tk).toFixed(2).padStart(14)}`);
    });
  }
}
