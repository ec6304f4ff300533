// What bounds the channels-last kernels on cache-resident tensors: synthetic loops
// (bench/cl-bound/loops.ts) with the loads, stores and float operations per vector of normalize,
// dx and the backward sums, with their parameters in registers or read from L1, in memory order or
// in column sweeps, timed in turn with a SIMD copy on one memory, lower quartile. Each figure is
// the loop as a fraction of its ceiling: normalize and the sums against one copy of the n values
// (8 B/value: the sums read x and dy), dx against 1.5 copies (12 B/value). Also the statistics'
// Σx, Σx² loop (bench/ceiling sumsq_f32) against a copy of half the bytes (4 B/value).
//
//   node --no-liftoff bench/cl-bound.mjs [--sizes 65536,1048576] [--ls 64,128,256] [--rows 4,16,64]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";
import { loadCeilingOn } from "./ceiling/index.mjs";

const { opts } = parseArgs(process.argv.slice(2), { sizes: "65536,1048576", ls: "64,128,256", rows: "4,16,64", reps: "40", qoff: "0" });
const here = join(dirname(fileURLToPath(import.meta.url)), "cl-bound");
const asc = (await import("assemblyscript/asc")).default;
const out = join(here, "loops.wasm");
const { error } = await asc.main([join(here, "loops.ts"), "--config", join(here, "asconfig.json"), "--outFile", out, "--importMemory"]);
if (error) throw error;
const memory = new WebAssembly.Memory({ initial: 4096 });
const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(out)), { env: { memory, abort() {} } }).exports;
const ceil = await loadCeilingOn(memory);
const F = new Float32Array(memory.buffer);
const al = (b) => (b + 4095) & ~4095;

for (const n of opts.sizes.split(",").map(Number)) for (const L of opts.ls.split(",").map(Number)) {
  const x = 1 << 20, dy = al(x + 4 * n + 64), y = al(dy + 4 * n + 64), q = al(y + 4 * n + 64) + +opts.qoff, rows = Math.floor(n / L), stride = 4 * L;
  for (let i = 0; i < n; i++) { F[(x >> 2) + i] = Math.sin(i); F[(dy >> 2) + i] = Math.cos(i); }
  // Parameters at q (m, s, t … = 1.1); the sum loops read their m from, and store their sums to,
  // a block of their own at q2 (stored xor bit patterns in the parameters made the float loops
  // after them run on denormals).
  const q2 = q + 4 * L * 4 + 4096;
  F.fill(1.1, q >> 2, (q2 >> 2) + 128);
  // [label, loop, copies of the n values it is measured against]
  const loops = [
    ["copy", () => k.copy4(n, x, y), 1],
    ["normalize, parameters in registers", () => k.reg_sub(n, x, y, q), 1],
    ["  m = 0", () => k.reg_nosub(n, x, y, q), 1],
    ["  (x − m) + t, no multiply", () => k.reg_2add(n, x, y, q), 1],
    ["normalize, parameters from L1 (3 loads)", () => k.l1_sub(n, x, y, q, 3 * stride), 1],
    ["  m = 0 (2 loads)", () => k.l1_nosub(n, x, y, q, 2 * stride), 1],
    ["  its loads and stores, integer ops", () => k.l1_3ld_int(n, x, y, q, 3 * stride), 1],
    ["dx, parameters in registers", () => k.reg_dx(n, x, dy, y, q), 1.5],
    ["  m = 0", () => k.reg_dx0(n, x, dy, y, q), 1.5],
    ["  its loads and stores, integer ops", () => k.reg_dxmem(n, x, dy, y), 1.5],
    ["backward sums, period in registers", () => k.reg_sums(n, x, dy, q2), 1],
    ["  a read of x and dy", () => k.read2(n, x, dy, q2), 1],
    ["statistics' Σx, Σx² loop (4 B/value)", () => ceil.sumsqAt(n, x), 0.5],
  ];
  for (const B of opts.rows.split(",").map(Number)) {
    loops.push([`normalize, 16-lane sweeps of ${B} rows`, () => k.sweep16_sub(rows, stride, x, y, q, B), 1]);
    loops.push(["  m = 0", () => k.sweep16_nosub(rows, stride, x, y, q, B), 1]);
    loops.push([`normalize, 8-lane sweeps of ${B} rows`, () => k.sweep8_sub(rows, stride, x, y, q, B), 1]);
  }
  const t = loops.map(() => []), inner = Math.max(1, Math.round(2e6 / n));
  const end = performance.now() + 1000;
  while (performance.now() < end) for (const [, f] of loops) f();
  for (let r = 0; r < +opts.reps; r++) loops.forEach(([, f], i) => { const t0 = performance.now(); for (let j = 0; j < inner; j++) f(); t[i].push((performance.now() - t0) / inner); });
  const c = lowerQuartile(t[0]);
  console.log(`\n${n} values, L = ${L} (sweeps: ${rows} super-rows of ${stride} bytes); copy ${(c * 1e3).toFixed(2)} µs; × of the ceiling:`);
  loops.forEach(([label, , copies], i) => { if (i) console.log(`  ${label.padEnd(42)} ${(copies * c / lowerQuartile(t[i])).toFixed(2)}`); });
}
