// What bounds the exp-based activation epilogues (silu, gelu, gelu_tanh) on this CPU, by
// experiment: synthetic wasm loops on one memory over an L1-resident block, each applying one
// piece of the epilogue to every vector on its way from x to y, with 1, 2 or 4 independent
// vectors per iteration; plus register-only chains for latencies and the divider's throughput,
// and the clock from a chain of dependent integer ops (1 cycle each). The loops are generated
// around assembly/act.ts itself (its text is the module's head), so each piece is the exact op
// sequence the kernels inline, compiled by asc with the package's settings (SIMD, -O3).
//
//   node bench/act-bound.mjs [--n 2048] [--reps 40] [--loops copy1,silu1,silu2] [--src assembly/act.ts]
//
// Loops (name + vectors per iteration, e.g. silu2):
//   copy   y = x                           exp    y = e^−x (expn4, the constants in locals)
//   silu   y = silu(x) (act4, as exp_loop)  nodiv  silu with the division replaced by a multiply
//   div    y = 1/x (divps alone)           sdiv   y = x/(1 + x) and the limit mask (silu without exp)
//   gelu, tanh  gelu, gelu_tanh (act4)      row    act_row(x, y, n, silu): the kernels' loop, tail in it
//   dsilu  the silu gradient (dact4)
// Probes (wrong results; what the loop's time follows): nomask (silu without its −∞ mask), horner
// (the quartic in Horner's order: one operation fewer, a longer chain), clamp/clamph (silu's mask
// replaced by a lower clamp of v; clamph with Horner), imin (the exp clamp as an integer min),
// iadd (2^k applied by an integer add to the exponent bits), g4 (the quartic with g⁴: one more
// multiply, a shorter chain), all (imin + iadd + g4), extra (five more short operations per
// vector); pipe1 (silu software-pipelined by one vector; by --loops only).
// Register-only (no memory): lat_div, lat_mul, lat_add, lat_silu, lat_exp (one dependent chain:
// latency), tp_div, tp_add, tp_mul, tp_min, tp_shl, tp_and, tp_mix (adds and multiplies),
// tp_mixmin (pmin and multiplies): eight independent chains, throughput.
import { parseArgs, median } from "./lib/cli.mjs";
import { measureClock, SPIN_SOURCE } from "./lib/clock.mjs";
import { writeFileSync, readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { opts } = parseArgs(process.argv.slice(2), { n: "2048", reps: "40", loops: "", src: join(here, "../assembly/act.ts") });
const CONSTS = "hi, magic, log2e, p4, p3, p2, p1, p0";
let exprs;
exprs = {
  copy: (v) => v,
  exp: (v) => `expn4(${v}, ${CONSTS})`,
  silu: (v) => `act4(${v}, ACT_SILU, ${CONSTS}, one)`,
  nodiv: (v) => `zero_below(${v}, f32x4.mul(${v}, f32x4.add(one, expn4(${v}, ${CONSTS}))), SILU_LO)`,
  div: (v) => `f32x4.div(one, ${v})`,
  sdiv: (v) => `zero_below(${v}, f32x4.div(${v}, f32x4.add(one, ${v})), SILU_LO)`,
  gelu: (v) => `act4(${v}, ACT_GELU, ${CONSTS}, one)`,
  tanh: (v) => `act4(${v}, ACT_GELU_TANH, ${CONSTS}, one)`,
  dsilu: (v) => `dact4(${v}, ACT_SILU, ${CONSTS}, one)`,
  // Probes (wrong results): what the loop's time follows.
  nomask: (v) => `f32x4.div(${v}, f32x4.add(one, expn4(${v}, ${CONSTS})))`,
  horner: (v) => `zero_below(${v}, f32x4.div(${v}, f32x4.add(one, expn4h(${v}, ${CONSTS}))), SILU_LO)`,
  clamp: (v) => `f32x4.div(f32x4.pmax(${v}, lo), f32x4.add(one, expn4(f32x4.pmax(${v}, lo), ${CONSTS})))`,
  clamph: (v) => `f32x4.div(f32x4.pmax(${v}, lo), f32x4.add(one, expn4h(f32x4.pmax(${v}, lo), ${CONSTS})))`,
  imin: (v) => `zero_below(${v}, f32x4.div(${v}, f32x4.add(one, expn4i(${v}, ${CONSTS}))), SILU_LO)`,
  iadd: (v) => `zero_below(${v}, f32x4.div(${v}, f32x4.add(one, expn4k(${v}, ${CONSTS}))), SILU_LO)`,
  g4: (v) => `zero_below(${v}, f32x4.div(${v}, f32x4.add(one, expn4e(${v}, ${CONSTS}))), SILU_LO)`,
  all: (v) => `zero_below(${v}, f32x4.div(${v}, f32x4.add(one, expn4all(${v}, ${CONSTS}))), SILU_LO)`,
  extra: (v) => `v128.and(${exprs.silu(v)}, f32x4.lt(f32x4.add(f32x4.add(${v}, p0), f32x4.mul(${v}, p1)), hi))`,
};
const head = `const hi = kc(E_HI), magic = kc(E_MAGIC), log2e = kc(E_LOG2E), one = kc(ONE);
  const p4 = kc(E_P), p3 = kc(E_P + 1), p2 = kc(E_P + 2), p1 = kc(E_P + 3), p0 = kc(E_P + 4), lo = kc(SILU_LO);`;
const src = [readFileSync(opts.src, "utf8"),
  // expn4 with its quartic in Horner's order: the same operations, a 3-operation longer chain.
  `@inline function expn4h(x: v128, hi: v128, magic: v128, log2e: v128, p4: v128, p3: v128, p2: v128, p1: v128, p0: v128): v128 {
  const u = f32x4.mul(f32x4.pmin(x, hi), log2e), kb = f32x4.sub(magic, u), g = f32x4.add(u, f32x4.sub(kb, magic));
  const p = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(p4, g), p3), g), p2), g), p1), g), p0);
  return f32x4.mul(p, i32x4.shl(kb, 23));
}`,
  // expn4 with the clamp an integer min (i32x4.min_s on the bits: the same for every non-NaN x),
  // 2^k applied by an integer add to p's exponent bits (magic without the 127 bias: MAGIC0), and
  // the quartic as (lo + g²·mid) + g⁴·p4 (one more multiply, a 2-cycle shorter chain): flags.
  ...[["expn4i", 1, 0, 0], ["expn4k", 0, 1, 0], ["expn4e", 0, 0, 1], ["expn4all", 1, 1, 1]].map(([nm, imin, iadd, g4]) => `@inline function ${nm}(x: v128, hi: v128, magic: v128, log2e: v128, p4: v128, p3: v128, p2: v128, p1: v128, p0: v128): v128 {
  const xc = ${imin ? "i32x4.min_s(x, hi)" : "f32x4.pmin(x, hi)"};
  const u = f32x4.mul(xc, log2e), kb = f32x4.sub(${iadd ? "f32x4.splat(12582912.0)" : "magic"}, u);
  const g = f32x4.add(u, f32x4.sub(kb, ${iadd ? "f32x4.splat(12582912.0)" : "magic"})), g2 = f32x4.mul(g, g);
  const lo = f32x4.add(f32x4.mul(p1, g), p0), mid = f32x4.add(f32x4.mul(p3, g), p2);
  const p = ${g4 ? "f32x4.add(f32x4.add(f32x4.mul(mid, g2), lo), f32x4.mul(f32x4.mul(g2, g2), p4))" : "f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(p4, g2), mid), g2), lo)"};
  return ${iadd ? "i32x4.add(p, i32x4.shl(kb, 23))" : "f32x4.mul(p, i32x4.shl(kb, 23))"};
}`),
  // silu software-pipelined: iteration i computes 1 + e^−v of vector i and finishes vector i − 1.
  `export function pipe1(n: i32, p: usize, q: usize): void {
  const hi = kc(E_HI), magic = kc(E_MAGIC), log2e = kc(E_LOG2E), one = kc(ONE);
  const p4 = kc(E_P), p3 = kc(E_P + 1), p2 = kc(E_P + 2), p1 = kc(E_P + 3), p0 = kc(E_P + 4);
  let vp = v128.load(p), dp = f32x4.add(one, expn4(vp, hi, magic, log2e, p4, p3, p2, p1, p0));
  for (let i = 4; i < n; i += 4) {
    const o = <usize>i << 2, v = v128.load(p + o), d = f32x4.add(one, expn4(v, hi, magic, log2e, p4, p3, p2, p1, p0));
    v128.store(q + o - 16, zero_below(vp, f32x4.div(vp, dp), SILU_LO));
    vp = v; dp = d;
  }
  v128.store(q + (<usize>n << 2) - 16, zero_below(vp, f32x4.div(vp, dp), SILU_LO));
}`,
  SPIN_SOURCE,
  `export function row1(n: i32, p: usize, q: usize): void { act_row(p, q, n, ACT_SILU); }`];
for (const [nm, f] of Object.entries(exprs)) for (const U of [1, 2, 4]) {
  const vs = [...Array(U).keys()];
  src.push(`export function ${nm}${U}(n: i32, p: usize, q: usize): void {
  ${head}
  for (let i = 0; i < n; i += ${4 * U}) {
    const o = <usize>i << 2, x = p + o, y = q + o;
    ${vs.map((u) => `const v${u} = v128.load(x, ${16 * u});`).join(" ")}
    ${vs.map((u) => `v128.store(y, ${f(`v${u}`)}, ${16 * u});`).join("\n    ")}
  }
}`);
}
// Register-only chains: 8 steps per iteration of one chain (latency), or eight chains (throughput).
const chain = (nm, step, chains, init) => `export function ${nm}(n: i32, c: f32): f32 {
  ${head}
  const cv = f32x4.splat(c);
  let ${[...Array(chains).keys()].map((j) => `x${j} = f32x4.splat(${init} + <f32>${j} * 0.01)`).join(", ")};
  for (let i = 0; i < n; i++) { ${[...Array(chains > 1 ? 1 : 8).keys()].map(() => [...Array(chains).keys()].map((j) => `x${j} = ${step(`x${j}`, j)};`).join(" ")).join(" ")} }
  return f32x4.extract_lane(${[...Array(chains).keys()].map((j) => `x${j}`).reduce((a, b) => `f32x4.add(${a}, ${b})`)}, 0);
}`;
const chains = {
  lat_add: [(x) => `f32x4.add(${x}, cv)`, 1, "c"], lat_mul: [(x) => `f32x4.mul(${x}, one)`, 1, "c"],
  lat_div: [(x) => `f32x4.div(one, ${x})`, 1, "c"], tp_div: [(x) => `f32x4.div(one, ${x})`, 8, "c"],
  tp_add: [(x) => `f32x4.add(${x}, cv)`, 8, "c"], tp_mul: [(x) => `f32x4.mul(${x}, one)`, 8, "c"],
  tp_mix: [(x, j) => j & 1 ? `f32x4.mul(${x}, one)` : `f32x4.add(${x}, cv)`, 12, "c"], 
  tp_min: [(x) => `f32x4.pmin(${x}, cv)`, 8, "c"], tp_mixmin: [(x, j) => j & 1 ? `f32x4.mul(${x}, one)` : `f32x4.pmin(${x}, cv)`, 12, "c"],
  tp_shl: [(x) => `i32x4.shl(${x}, 1)`, 8, "c"], tp_and: [(x) => `v128.andnot(${x}, cv)`, 8, "c"],
  lat_exp: [(x) => exprs.exp(x), 1, "0.5"], lat_silu: [(x) => `f32x4.add(${exprs.silu(x)}, cv)`, 1, "c"],
};
for (const [nm, [step, ch, init]] of Object.entries(chains)) src.push(chain(nm, step, ch, init));

const dir = mkdtempSync(join(tmpdir(), "act-bound-"));
writeFileSync(join(dir, "b.ts"), src.join("\n\n") + "\n");
const asc = (await import("assemblyscript/asc")).default;
const { error } = await asc.main([join(dir, "b.ts"), "-o", join(dir, "b.wasm"), "--importMemory", "--enable", "simd", "-O3", "--shrinkLevel", "1", "--converge", "--runtime", "stub", "--noAssert"], { stdout: process.stdout, stderr: process.stderr });
if (error) throw error;

const n = +opts.n, reps = +opts.reps;
const memory = new WebAssembly.Memory({ initial: Math.ceil(((1 << 20) + 8 * n + 65536) / 65536) });
const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(dir, "b.wasm"))), { env: { memory, abort() { throw new Error("abort"); } } }).exports;
const X = 1 << 20, Y = X + 4 * n + 4096;
const F = new Float32Array(memory.buffer);
for (let i = 0; i < n; i++) F[(X >>> 2) + i] = 6 * Math.sin(i * 0.7); // the activations' busy range, no denormals

const ghz = measureClock(k.spin);

// Register chains: cycles per step, best of 30 (the least disturbed run).
const it = 2e5;
for (const [nm, [, ch]] of Object.entries(chains)) {
  for (let w = 0; w < 3; w++) k[nm](it, 1.25);
  const tr = [];
  for (let r = 0; r < 30; r++) { const t0 = performance.now(); k[nm](it, 1.25); tr.push(performance.now() - t0); }
  const per = ((Math.min(...tr) * 1e6 * ghz) / (it * Math.max(ch, 8))), med = ((median(tr) * 1e6 * ghz) / (it * Math.max(ch, 8)));
  console.log(`${nm.padEnd(9)} ${per.toFixed(2)} cycles per ${ch > 1 ? `step of ${ch} chains (per op)` : "dependent step"} (median ${med.toFixed(2)})`);
}

const names = opts.loops ? opts.loops.split(",") : ["copy1", "row1", ...Object.keys(exprs).filter((e) => e !== "copy").flatMap((e) => [1, 2, 4].map((u) => e + u))];
const inner = Math.max(1, Math.round(4e5 / n));
for (const nm of names) for (let w = 0; w < 20; w++) k[nm](n, X, Y);
const t = names.map(() => []);
for (let r = 0; r < reps; r++) names.forEach((nm, i) => { const t0 = performance.now(); for (let j = 0; j < inner; j++) k[nm](n, X, Y); t[i].push((performance.now() - t0) / inner); });
console.log(`\nn = ${n} values x → y (L1), median and best of ${reps} × ${inner} calls in turn:`);
console.log(`  loop       ns/vector  cycles/vector (best)`);
names.forEach((nm, i) => {
  const v = (median(t[i]) * 1e6) / (n / 4), b = (Math.min(...t[i]) * 1e6) / (n / 4);
  console.log(`  ${nm.padEnd(9)} ${v.toFixed(3).padStart(10)}  ${(v * ghz).toFixed(2).padStart(8)} (${(b * ghz).toFixed(2)})`);
});
