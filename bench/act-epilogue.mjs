// Activation epilogues against a copy, on one memory, interleaved: for each wasm build given, the
// per-channel normalize + activation kernels (channels-first and channels-last), the gradient
// through the activation, and a row kernel (RMS norm) with each activation, timed call by call in
// turn with memory.copy of the same bytes. Prints ns/value and "× copy" (copy time of the bytes
// the kernel moves ÷ kernel time: 1 = memory speed), and for each build after the first its
// speed-up over the first as the median of the per-repetition ratios (the calls of one repetition
// run back to back, so they share the machine's load of the moment: on this shared VM the medians
// of two identical builds' times differed by up to 2×, their pair ratio stayed within ±5 %).
//
//   npx asc assembly/index.ts --target release --importMemory -o /tmp/a.wasm
//   node bench/act-epilogue.mjs [--values 1048576] [--reps 60] /tmp/a.wasm [/tmp/b.wasm …]
import { readFileSync } from "node:fs";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts, rest: files } = parseArgs(process.argv.slice(2), { values: "1048576", reps: "60", acts: "0,1,2,3,4,5" });
const V = +opts.values, reps = +opts.reps, acts = opts.acts.split(",").map(Number);
if (!files.length) { console.error("usage: node bench/act-epilogue.mjs [--values V] [--reps R] a.wasm [b.wasm …]"); process.exit(2); }
const NAMES = ["none", "relu", "relu6", "silu", "gelu", "gelu_tanh"];
const C = 64, S = V / C, P = 1 << 20, B = (4 * V + 4095) & ~4095;
const X = P, DY = X + B, Y = DY + B, M = Y + B, SC = M + 4096, SH = SC + 4096, R = SH + 4096, T = R + 4 * S + 4096;
const memory = new WebAssembly.Memory({ initial: Math.ceil((T + 65536 + (1 << 20)) / 65536) });
// Each instance's static data (the activation constants among it) is put back before its calls.
const statics = [];
const mods = files.map((f) => {
  const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), { env: { memory, abort() { throw new Error(`${f}: abort`); } } }).exports;
  statics.push(new Uint8Array(memory.buffer, 0, k.heap_base()).slice());
  return k;
});
const F = new Float32Array(memory.buffer);
F.set(randomArray(V, 1), X >>> 2); F.set(randomArray(V, 2), DY >>> 2);
F.fill(0.1, M >>> 2, (M + 4096) >>> 2); F.fill(1.7, SC >>> 2, (SC + 4096) >>> 2); F.fill(0.2, SH >>> 2, (SH + 4096) >>> 2);
const U8 = new Uint8Array(memory.buffer);
// [label, bytes moved per value, (exports, act) => call]
const cases = [
  ["normalize cf (N=1, C=64)", 8, (k, a) => k.act_normalize_f32_cf(1, C, S, X, M, SC, SH, Y, a)],
  ["normalize cl (R rows of 64)", 8, (k, a) => k.act_normalize_f32_cl(S, C, X, M, SC, SH, Y, a)],
  ["gradient cf", 12, (k, a) => k.act_normalize_grad_f32_cf(1, C, S, X, DY, M, SC, SH, Y, a, T)],
  ["rms_forward cl (rows of 1024)", 8, (k, a) => k.rms_forward_f32_cl(V / 1024, 1024, X, SC, Y, R, 1e-5, a)],
];
const copy = (bytes) => U8.copyWithin(Y, X, X + bytes);
for (const [label, bpv, fn] of cases) {
  console.log(`${label}: ns/value (× copy of ${bpv} B/value), median of ${reps}`);
  for (const a of acts) {
    const t = mods.map(() => []), tc = [];
    for (let r = 0; r < reps; r++) {
      let t0 = performance.now(); copy(V * bpv / 2); tc.push(performance.now() - t0);
      mods.forEach((k, i) => { U8.set(statics[i]); t0 = performance.now(); fn(k, a); t[i].push(performance.now() - t0); });
    }
    const c = median(tc), pair = (i) => median(t[i].map((v, r) => t[0][r] / v));
    console.log(`  ${NAMES[a].padEnd(10)} ${t.map((ti, i) => `${(median(ti) * 1e6 / V).toFixed(2)} (${(c / median(ti)).toFixed(2)}×${i ? `, ${pair(i).toFixed(2)}× the first` : ""})`).join("   ")}`);
  }
}
