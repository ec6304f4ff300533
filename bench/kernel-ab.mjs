// Same-memory A/B of kernel builds: two or more variants of the wasm, instantiated on ONE
// imported WebAssembly.Memory, so they read the same bytes at the same addresses with the same
// cache state, and are timed call by call in turn. On this shared VM, builds compared in separate
// processes (or on separate memories) differed by up to 2× for identical code; this is how the
// ±5 % decisions in assembly/ were made.
//
//   npx asc assembly/index.ts --target release --importMemory -o /tmp/a.wasm   # variant A
//   (edit assembly/, then)  npx asc assembly/index.ts --target release --importMemory -o /tmp/b.wasm
//   node bench/kernel-ab.mjs --op dx_cl --shape 25088,96 /tmp/a.wasm /tmp/b.wasm
//
// Ops and shapes: stats_cf, normalize_cf, reduce_cf, dx_cf take N,C,S (channels-first);
// stats_cl, normalize_cl, reduce_cl, dx_cl take R,C (R rows of C channels). --reps (200),
// --offset (0: data near zero; e.g. 100 takes the shifted paths). Prints the median ms per
// variant and the largest relative difference of its output from the first variant's.
import { readFileSync } from "node:fs";
import { randomArray } from "../test/reference.mjs";

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1] : d; };
const op = opt("op", "stats_cf"), reps = +opt("reps", 200), offset = +opt("offset", 0);
const dims = opt("shape", op.endsWith("_cf") ? "8,64,3136" : "25088,64").split(",").map(Number);
const files = args;
if (files.length < 1) { console.error("usage: node bench/kernel-ab.mjs --op OP --shape DIMS a.wasm [b.wasm …]"); process.exit(2); }
const cf = op.endsWith("_cf");
if (dims.length !== (cf ? 3 : 2)) throw new Error(`${op} takes ${cf ? "N,C,S" : "R,C"}, got ${dims}`);
const C = dims[1], n = dims.reduce((a, b) => a * b);

const pages = Math.ceil((3 * n * 4 + (8 << 20)) / 65536);
const memory = new WebAssembly.Memory({ initial: pages });
const mods = files.map((f) => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)),
  { env: { memory, abort() { throw new Error(`${f}: abort`); } } }).exports);
const al = (b) => (b + 4095) & ~4095;
const px = 1 << 20, pd = al(px + n * 4 + 64), po = al(pd + n * 4 + 64), acc = al(po + n * 4 + 64);
const pm = al(acc + 24 * C + 64), scratch = al(pm + 16 * C + 64);
const F = new Float32Array(memory.buffer);
F.set(randomArray(n, 1, { offset }), px >> 2);
F.set(randomArray(n, 2), pd >> 2);
F.fill(0, pm >> 2, (pm >> 2) + C);               // m = 0 (data near zero), or the offset:
if (offset) F.fill(offset, pm >> 2, (pm >> 2) + C);
F.fill(1.1, (pm >> 2) + C, (pm >> 2) + 2 * C);   // scale / k
F.fill(0.2, (pm >> 2) + 2 * C, (pm >> 2) + 4 * C); // shift / c1, c0

const [N, , S] = dims, R = dims[0];
const zero = (len) => new Float64Array(memory.buffer, acc, len).fill(0);
const CALLS = {
  stats_cf: (k) => { zero(3 * C); k.stats_f32_cf(N, C, S, px, acc); return [acc, 3 * C, 8]; },
  stats_cl: (k) => { zero(3 * C); k.stats_f32_cl(R, C, px, acc, scratch); return [acc, 3 * C, 8]; },
  reduce_cf: (k) => { zero(2 * C); k.backward_reduce_f32_cf(N, C, S, px, pd, pm, acc); return [acc, 2 * C, 8]; },
  reduce_cl: (k) => { zero(2 * C); k.backward_reduce_f32_cl(R, C, px, pd, pm, acc, scratch); return [acc, 2 * C, 8]; },
  normalize_cf: (k) => { k.normalize_f32_cf(N, C, S, px, pm, pm + 4 * C, pm + 8 * C, po); return [po, n, 4]; },
  normalize_cl: (k) => { k.normalize_f32_cl(R, C, px, pm, pm + 4 * C, pm + 8 * C, po, scratch); return [po, n, 4]; },
  dx_cf: (k) => { k.backward_dx_f32_cf(N, C, S, px, pd, pm, pm + 4 * C, pm + 8 * C, pm + 12 * C, po); return [po, n, 4]; },
  dx_cl: (k) => { k.backward_dx_f32_cl(R, C, px, pd, pm, pm + 4 * C, pm + 8 * C, pm + 12 * C, po, scratch); return [po, n, 4]; },
};
const call = CALLS[op];
if (!call) throw new Error(`unknown op ${op}: one of ${Object.keys(CALLS).join(", ")}`);

const read = ([p, len, w]) => (w === 8 ? new Float64Array(memory.buffer, p, len) : new Float32Array(memory.buffer, p, len)).slice();
const outs = mods.map((k) => read(call(k)));
const t = mods.map(() => []);
for (let r = 0; r < reps; r++) {
  mods.forEach((k, i) => { const t0 = performance.now(); call(k); t[i].push(performance.now() - t0); });
  if (r % 50 === 49) process.stderr.write(`  ${r + 1}/${reps}\r`);
}
const med = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };
const diff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-6)); return m; };
console.log(`${op} [${dims}] offset ${offset}, median of ${reps}, all variants on one memory:`);
files.forEach((f, i) => console.log(`  ${f.padEnd(40)} ${med(t[i]).toFixed(4)} ms  ${(med(t[0]) / med(t[i])).toFixed(3)}× of the first  max rel diff ${diff(outs[i], outs[0]).toExponential(1)}`));
