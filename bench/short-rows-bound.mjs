// Where the time goes on short channels-first rows ((N, C, 7, 7) maps): every kernel of the
// instance / group / batch-norm paths on one memory with the ceilings (bench/ceiling: a SIMD copy
// of x, the one-pass Σx, Σx² loop), timed call by call in turn, lower quartile. Kernels alone: no
// JS layer. Figures are in copies of x (8 B/value): a forward's ceiling is 1.5 copies, a
// backward's 2.5, statistics' the Σx, Σx² loop.
//
//   npx asc assembly/index.ts --target release --importMemory -o /tmp/sn.wasm
//   node bench/short-rows-bound.mjs /tmp/sn.wasm [--shapes 21,64,49,334,64,49,5350,64,49] [--groups G]
//   (--groups G: group norm's kernels with G groups instead of instance norm's: statistics on the
//   (1, N·G, (C/G)·S) view, the finish, per-(n, c) parameters, normalize, and the backward's.)
import { readFileSync } from "node:fs";
import { parseArgs, lowerQuartile } from "./lib/cli.mjs";
import { ceilingExportsOn } from "./ceiling/index.mjs";

const { opts, rest } = parseArgs(process.argv.slice(2), { shapes: "21,64,49,334,64,49,5350,64,49", groups: "" });
if (rest.length !== 1) { console.error("usage: node bench/short-rows-bound.mjs BUILD.wasm (built with --importMemory) [--shapes N,C,S,…]"); process.exit(2); }
const memory = new WebAssembly.Memory({ initial: 4000, maximum: 65536 });
const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(rest[0])), { env: { memory, abort() { throw new Error("abort"); } } }).exports;
const ceil = await ceilingExportsOn(memory);
const dims = opts.shapes.split(",").map(Number);

for (let d = 0; d + 2 < dims.length; d += 3) {
  const [N, C, S] = dims.slice(d, d + 3), R = N * C, n = R * S;
  let top = (k.heap_base() + (1 << 16)) & ~4095;
  const al = (b) => { const p = top; top = (top + b + 4095) & ~4095; return p; };
  const x = al(4 * n), dy = al(4 * n), y = al(4 * n), g = al(4 * C), b = al(4 * C), st = al(24 * R), mh = al(4 * R), ml = al(8 * R), mi = al(8 * R), mf = al(4 * R);
  const pp = al(12 * R), sums = al(16 * R), dsum = al(16 * C), scr = al(Math.max(30000, 36 * R)), acc = al(24 * C);
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  const F = new Float32Array(memory.buffer), D = new Float64Array(memory.buffer);
  let s = 7;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; F[(x >>> 2) + i] = (s / 2 ** 32 - 0.5) * 3; F[(dy >>> 2) + i] = Math.sin(i); }
  F.fill(1.1, g >>> 2, (g >>> 2) + C); F.fill(0.1, b >>> 2, (b >>> 2) + C);
  // Statistics, finish and parameters once, so the backward kernels see real inputs.
  D.fill(0, st >>> 3, (st >>> 3) + 3 * R);
  k.bn_stats_f32_cf(1, R, S, x, st, scr);
  k.gn_params_finish_f32(R, st, 1e-5, mh, ml, mi, mf);
  const parts = {
    "copy of x (8 B/value)": () => ceil.copy_f32(n, x, y),
    "Σx, Σx² loop (sumsq)": () => ceil.sumsq_f32(n, x),
    "instance forward, one pass": () => k.gn_forward_short_f32_cf(N, C, C, S, x, g, b, y, 1e-5, mh, mf, scr),
    "  statistics (1, N·C, S)": () => { D.fill(0, st >>> 3, (st >>> 3) + 3 * R); k.bn_stats_f32_cf(1, R, S, x, st, scr); },
    "  normalize": () => k.bn_normalize_f32_cf(1, R, S, x, mh, mf, mf, y),
    "batch-norm statistics (N, C, S)": () => { D.fill(0, acc >>> 3, (acc >>> 3) + 3 * C); k.bn_stats_f32_cf(N, C, S, x, acc, scr); },
    "backward sums": () => { D.fill(0, sums >>> 3, (sums >>> 3) + 2 * R); k.bn_backward_reduce_f32_cf(1, R, S, x, dy, mh, sums); },
    "backward parameters": () => { D.fill(0, dsum >>> 3, (dsum >>> 3) + 2 * C); k.gn_params_backward_f32(N, C, C, sums, ml, mi, g, S, pp, pp + 4 * R, pp + 8 * R, dsum); },
    "backward dx": () => k.bn_backward_dx_f32_cf(1, R, S, x, dy, mh, pp, pp + 4 * R, pp + 8 * R, y),
    "instance backward, three kernels": () => {
      D.fill(0, sums >>> 3, (sums >>> 3) + 2 * R); k.bn_backward_reduce_f32_cf(1, R, S, x, dy, mh, sums);
      D.fill(0, dsum >>> 3, (dsum >>> 3) + 2 * C); k.gn_params_backward_f32(N, C, C, sums, ml, mi, g, S, pp, pp + 4 * R, pp + 8 * R, dsum);
      k.bn_backward_dx_f32_cf(1, R, S, x, dy, mh, pp, pp + 4 * R, pp + 8 * R, y);
    },
  };
  if (opts.groups) {
    // Group norm: the statistics on the group view, then per-(n, c) parameters for the short rows.
    const G = +opts.groups, K = N * G, L = (C / G) * S, pm = pp, pk = pp + 4 * R, p1 = pp + 8 * R, p0 = al(4 * R);
    for (const nm of Object.keys(parts)) if (nm !== "copy of x (8 B/value)" && nm !== "Σx, Σx² loop (sumsq)") delete parts[nm];
    const gstats = () => { D.fill(0, st >>> 3, (st >>> 3) + 3 * K); k.bn_stats_f32_cf(1, K, L, x, st, scr); };
    const finish = () => k.gn_params_finish_f32(K, st, 1e-5, mh, ml, mi, mf);
    const params = () => k.gn_params_f32(N, C, G, mh, ml, mi, g, b, pm, pk, p1);
    const norm = () => k.bn_normalize_f32_cf(1, R, S, x, pm, pk, p1, y);
    gstats(); finish(); params();
    const bsums = () => { D.fill(0, sums >>> 3, (sums >>> 3) + 2 * R); k.bn_backward_reduce_f32_cf(1, R, S, x, dy, pm, sums); };
    const bpar = () => { D.fill(0, dsum >>> 3, (dsum >>> 3) + 2 * C); k.gn_params_backward_f32(N, C, G, sums, ml, mi, g, L, pk, p1, p0, dsum); };
    const bdx = () => k.bn_backward_dx_f32_cf(1, R, S, x, dy, pm, pk, p1, p0, y);
    Object.assign(parts, {
      [`group forward, four kernels (G = ${G})`]: () => { gstats(); finish(); params(); norm(); },
      "group forward, one pass": () => k.gn_forward_short_f32_cf(N, C, G, S, x, g, b, y, 1e-5, mh, mf, scr),
      [`  statistics (1, N·G, ${L})`]: gstats, "  finish (gn_params_finish_f32)": finish, "  parameters (gn_params_f32)": params, "  normalize (1, N·C, S)": norm,
      "group backward, three kernels": () => { bsums(); bpar(); bdx(); },
      "  backward sums": bsums, "  backward parameters": bpar, "  backward dx": bdx,
    });
  }
  const names = Object.keys(parts), t = names.map(() => []);
  const reps = Math.max(15, Math.min(300, Math.round(2e7 / n)));
  for (let r = 0; r < reps; r++) names.forEach((nm, i) => { const t0 = performance.now(); parts[nm](); t[i].push(performance.now() - t0); });
  const cp = lowerQuartile(t[0]);
  console.log(`(${N}, ${C}, ${S}), ${n} values: µs (lower quartile of ${reps} calls in turn), copies of x`);
  names.forEach((nm, i) => console.log(`  ${nm.padEnd(34)} ${(lowerQuartile(t[i]) * 1e3).toFixed(1).padStart(9)}  ${(lowerQuartile(t[i]) / cp).toFixed(2)}`));
}
