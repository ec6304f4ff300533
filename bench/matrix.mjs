// Coverage matrix: every op × layout × C × size as a fraction of its memory ceiling, measured
// in one process with the ceiling kernels running on simdnorm's own memory over the op's own
// tensors (same bytes, same addresses, same cache state), op and ceiling interleaved sample by
// sample (lower quartiles, see measure()), each warmed up first. Zero-copy public API calls
// (Tensors, preallocated `out`, options as object literals: on Node 18/20 a `{ ...opts, out }`
// literal alone costs ~1 µs to create, docs/performance.md), batch 1;
// instance and group norm also get preallocated `meanOut` / `invstdOut` (a caller in a training loop
// reuses them; a fresh N·C-value array a call cost more than the kernels on 7 × 7 rows). The
// backwards return dgamma / dbeta (C values) as fresh arrays: those ops take no `…Out` for them.
//
//   npm run bench -- --matrix                      full matrix (≈ 4–6 min here), saves bench/results/matrix.{json,svg}
//   npm run bench -- --matrix --quick              1 Mi values only
//   node bench/matrix.mjs [--sizes 65536,1048576] [--cs 3,64] [--ops stats,bn_train] [--layouts NHWC]
//                         [--samples 7] [--out FILE.json] [--svg FILE.svg] [--no-save] [--bound]
//
// --bound: also time each op's bound — its passes as the plainest fast loops on the same bytes
// (bench/ceiling/ceiling.ts: inference affine; training forward, instance and group norm sumsq
// + affine; backwards dsums + dxpass; statistics: the ceiling itself) — and report per cell what
// the ceiling allows at best (`attainable` = ceiling / bound) and how close the op is to its
// bound (`ofBound` = bound / op). Saved to matrix-bound.json (with --quick matrix-quick-bound.json) unless --out says.
//
// Ceilings (bench/ceiling/ceiling.ts): statistics against the one-pass f32x4 Σx, Σx² loop
// (`sumsq`, four independent chains; its own ceiling is the read, reported too); every other
// op against a wasm SIMD copy of x into its output, scaled to the bytes the op must move
// (inference 8 B/value, training forward and instance/group norm 12, backwards 20).
import * as sn from "../dist/index.js";
import { loadCeilingOn } from "./ceiling/index.mjs";
import { environment } from "./lib/env.mjs";
import { parseArgs, median, quantile } from "./lib/cli.mjs";
import { defaultGroups } from "./peers/common.mjs";
import { renderHeatmap } from "./lib/heatmap.mjs";
import { warmAllocator } from "./lib/alloc.mjs";
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const { opts } = parseArgs(process.argv.slice(2).filter((a) => a !== "--matrix"), {
  quick: false, sizes: "", cs: "", ops: "", layouts: "", samples: "", out: "", svg: "", "no-save": false, bound: false,
});
const list = (s, f = Number) => (s ? s.split(",").map((v) => f(v.trim())) : null);
export const CS = [3, 4, 8, 16, 24, 32, 48, 64, 96, 128, 144, 192, 256, 320, 384, 512, 768, 1024];
const SIZES = list(opts.sizes) ?? (opts.quick ? [1 << 20] : [1 << 16, 1 << 20, 1 << 24]);
const Cs = list(opts.cs) ?? CS;
/** Layouts: channels-last and channels-first at batch 1, and channels-first short rows (7 × 7, batch V / 49C). */
const LAYOUTS = list(opts.layouts, String) ?? ["NHWC", "NCHW", "NCHW-7x7"];
/** Fewest sample pairs per cell, and the time a cell's samples aim for (more pairs when calls are short). */
const SAMPLES = +(opts.samples || 7);
const SAMPLE_MS = opts.quick ? 60 : 120;

/** The passes each op's bound times (bench/ceiling/ceiling.ts), on n values of tensors x, dy → y. */
const BOUNDS = {
  none: null,
  affine: (c, n, x, dy, y) => () => c.affineAt(n, x, y),
  forward: (c, n, x, dy, y) => () => { c.sumsqAt(n, x); c.affineAt(n, x, y); },
  backward: (c, n, x, dy, y) => () => { c.dsumsAt(n, x, dy); c.dxpassAt(n, x, dy, y); },
};
const BOUND_OF = { stats: "none", bn_infer: "affine", bn_train: "forward", bn_backward: "backward", instance_norm: "forward", instance_backward: "backward", group_norm: "forward", group_backward: "backward" };

/** op → [bytes moved per value, ceiling kind, run(ctx)]. */
const OPS = {
  stats: [4, "sumsq", (t) => () => sn.channelStats(t.x)],
  bn_infer: [8, "copy", (t) => () => sn.batchNormInfer(t.x, { gamma: t.p.gamma, beta: t.p.beta, runningMean: t.p.runningMean, runningVar: t.p.runningVar, out: t.y })],
  bn_train: [12, "copy", (t) => () => sn.batchNormTrain(t.x, { gamma: t.p.gamma, beta: t.p.beta, runningMean: t.rm, runningVar: t.rv, out: t.y })],
  bn_backward: [20, "copy", (t) => () => sn.batchNormBackward(t.x, t.dy, { gamma: t.p.gamma, saveMean: t.bn.saveMean, saveInvstd: t.bn.saveInvstd, out: t.y })],
  instance_norm: [12, "copy", (t) => () => sn.instanceNorm(t.x, { gamma: t.p.gamma, beta: t.p.beta, out: t.y, meanOut: t.im, invstdOut: t.ii })],
  instance_backward: [20, "copy", (t) => () => sn.instanceNormBackward(t.x, t.dy, { gamma: t.p.gamma, mean: t.inst.mean, invstd: t.inst.invstd, out: t.y })],
  group_norm: [12, "copy", (t) => () => sn.groupNorm(t.x, { gamma: t.p.gamma, beta: t.p.beta, groups: t.G, out: t.y, meanOut: t.gm, invstdOut: t.gi })],
  group_backward: [20, "copy", (t) => () => sn.groupNormBackward(t.x, t.dy, { gamma: t.p.gamma, groups: t.G, mean: t.grp.mean, invstd: t.grp.invstd, out: t.y })],
};
const ops = list(opts.ops, String) ?? Object.keys(OPS);
for (const o of ops) if (!OPS[o]) throw new Error(`unknown op ${o}: one of ${Object.keys(OPS)}`);

/** Shape of a V-value tensor with C channels in a matrix layout. */
function shapeOf(layout, V, C) {
  if (layout === "NHWC") return [[1, 1, Math.max(2, Math.round(V / C)), C], "NHWC"];
  if (layout === "NCHW") return [[1, C, 1, Math.max(2, Math.round(V / C))], "NCHW"];
  if (layout === "NCHW-7x7") return [[Math.max(1, Math.round(V / (49 * C))), C, 7, 7], "NCHW"];
  throw new Error(`unknown matrix layout ${layout}`);
}

/** Fill with N(0.5, 1.5)-like values quickly (sum of uniforms), deterministic. */
function fill(a, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = 0.5 + 1.5 * 1.7320508 * (u + s / 4294967296 - 1);
  }
}

/** Mean seconds per call over a loop of k calls. */
function sample(f, k) { const t0 = performance.now(); for (let i = 0; i < k; i++) f(); return (performance.now() - t0) / k; }

/** The q-quantile of a sample (q = 0.25: robust to a machine shared with other jobs, where slow samples are preemptions). */

/**
 * Runs f until it has had WARM_MS of calls (at least 3): V8 compiles wasm in the background after a
 * first baseline (Liftoff) compile and optimizes the JS layer after a few hundred calls, so the
 * first calls of an op run slower code. With 3 calls of warm-up the first 64 Ki-value cells
 * timed that: channelStats NHWC C = 3 took 20.7 µs in the matrix and 6–9 µs after 3000 calls.
 */
const WARM_MS = 30;
function warm(f) {
  const t0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - t0 < WARM_MS; i++) f();
}

/**
 * ms per call of each function (op, ceiling and, with --bound, the op's bound): short samples
 * (≥ 0.3 ms of calls) taken in turn, 7–41 rounds (about SAMPLE_MS of work in all), the lower
 * quartile of each. On a 2-core VM shared with other jobs the median of long samples swung 2–3×
 * between runs; a preempted sample only adds time, so a low quantile of many short interleaved
 * samples is the stable statistic.
 */
function measure(...fs) {
  for (const f of fs) warm(f);
  const once = fs.map((f) => Math.max(sample(f, 1), 1e-4)), ks = once.map((t) => Math.ceil(0.3 / t));
  const round = once.reduce((s, t, i) => s + ks[i] * t, 0);
  const pairs = Math.min(41, Math.max(SAMPLES, Math.round(SAMPLE_MS / round)));
  const ts = fs.map(() => []);
  for (let r = 0; r < pairs; r++) {
    // Each function leads in turn (op, ceiling[, bound] rotate): none always runs after another.
    for (let j = 0; j < fs.length; j++) { const i = (j + r) % fs.length; ts[i].push(sample(fs[i], ks[i])); }
  }
  return ts.map((t) => quantile(t, 0.25));
}

await sn.init({ warmup: true });
warmAllocator();
const ceiling = await loadCeilingOn(sn.wasmMemory());
const say = (s) => process.stderr.write(s);
const cells = [];
const t0 = performance.now();
say(`simdnorm coverage matrix: ${ops.length} ops × ${LAYOUTS.length} layouts × ${Cs.length} C × ${SIZES.length} sizes, ≥ ${SAMPLES} interleaved sample pairs per cell\n`);
for (const V of SIZES) {
  for (const layout of LAYOUTS) {
    for (const C of Cs) {
      const [shape, lay] = shapeOf(layout, V, C);
      const n = shape.reduce((a, b) => a * b);
      const x = sn.tensor(shape, lay), dy = sn.tensor(shape, lay), y = sn.tensor(shape, lay);
      fill(x.data, C * 7 + V); fill(dy.data, C * 11 + 3);
      const gamma = new Float32Array(C).fill(1.1), beta = new Float32Array(C).fill(0.1);
      const t = { x, dy, y, G: defaultGroups(C), p: { gamma, beta, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) }, rm: new Float32Array(C), rv: new Float32Array(C).fill(1) };
      t.bn = sn.batchNormTrain(x, { ...t.p, runningMean: t.rm, runningVar: t.rv, out: y });
      t.inst = sn.instanceNorm(x, { out: y });
      t.grp = sn.groupNorm(x, { groups: t.G, out: y });
      // Preallocated statistics outputs (the forward's own results stay the backward's inputs).
      t.im = new Float32Array(t.inst.mean.length); t.ii = new Float32Array(t.inst.mean.length);
      t.gm = new Float32Array(t.grp.mean.length); t.gi = new Float32Array(t.grp.mean.length);
      for (const op of ops) {
        const [bpv, kind, make] = OPS[op];
        const ceil = kind === "sumsq" ? () => ceiling.sumsqAt(n, x.ptr) : () => ceiling.copyAt(n, x.ptr, y.ptr);
        const bound = opts.bound ? BOUNDS[BOUND_OF[op]]?.(ceiling, n, x.ptr, dy.ptr, y.ptr) : null;
        const [ms, cms, bms] = bound ? measure(make(t), ceil, bound) : measure(make(t), ceil);
        // The ceiling's time for the op's bytes: sumsq moves the same 4 B/value; copy moves 8.
        const ceilMs = kind === "sumsq" ? cms : (cms * bpv) / 8;
        const cell = { op, layout, V, C, shape, ms: +ms.toFixed(5), ceilingMs: +ceilMs.toFixed(5), ratio: +(ceilMs / ms).toFixed(3), gbps: +((bpv * n) / ms / 1e6).toFixed(2) };
        // Statistics' ceiling is its own bound (the Σx, Σx² loop).
        if (opts.bound) { const b = bound ? bms : ceilMs; Object.assign(cell, { boundMs: +b.toFixed(5), attainable: +(ceilMs / b).toFixed(3), ofBound: +(b / ms).toFixed(3) }); }
        if (kind === "sumsq") { const [, rms] = measure(make(t), () => ceiling.readAt(n, x.ptr)); cell.ofRead = +(rms / ms).toFixed(3); }
        cells.push(cell);
      }
      x.free(); dy.free(); y.free();
      say(`  ${V} values ${layout} C=${C}: ${ops.map((o) => `${o} ${Math.round(100 * cells.find((c) => c.op === o && c.V === V && c.layout === layout && c.C === C).ratio)}%`).join(", ")}  (${((performance.now() - t0) / 1e3).toFixed(0)} s)\n`);
    }
  }
}

// ---- report ----------------------------------------------------------------------------------
const pct = (r) => (r === undefined ? "  –" : `${Math.round(100 * r)}`.padStart(4));
const lines = [];
/** One table per size of a cell field, as % (ratio: of the ceiling; attainable, ofBound with --bound). */
const TABLES = [["ratio", "% of ceiling (statistics: of the Σx, Σx² loop)"]];
if (opts.bound) TABLES.push(["attainable", "attainable % of ceiling (ceiling / the op's bound)"], ["ofBound", "% of the op's bound (bound / op)"]);
for (const V of SIZES) for (const [field, title] of TABLES) {
  lines.push(`\n${V >= 1 << 20 ? `${V / (1 << 20)} Mi` : `${V / 1024} Ki`} values: ${title}`);
  lines.push(`${"op".padEnd(18)}${"layout".padEnd(10)}${Cs.map((c) => `${c}`.padStart(5)).join("")}`);
  for (const op of ops) for (const layout of LAYOUTS) {
    const row = Cs.map((C) => cells.find((c) => c.op === op && c.layout === layout && c.V === V && c.C === C)?.[field]);
    lines.push(`${op.padEnd(18)}${layout.padEnd(10)}${row.map((r) => ` ${pct(r)}`).join("")}`);
  }
}
const sorted = (f) => cells.map((c) => c[f]).sort((a, b) => a - b);
const summary = {
  cells: cells.length,
  median: median(sorted("ratio")),
  atLeast75: cells.filter((c) => c.ratio >= 0.75).length,
  worst: [...cells].sort((a, b) => a.ratio - b.ratio).slice(0, 10).map((c) => `${c.op} ${c.layout} C=${c.C} ${c.V}: ${Math.round(100 * c.ratio)}%`),
};
if (opts.bound) {
  // If every op ran at its bound, the matrix median would be medianAttainable.
  Object.assign(summary, {
    medianAttainable: median(sorted("attainable")),
    attainable75: cells.filter((c) => c.attainable >= 0.75).length,
    attainable85: cells.filter((c) => c.attainable >= 0.85).length,
    medianOfBound: median(sorted("ofBound")),
  });
}
console.log(lines.join("\n"));
console.log(`\nmedian ${Math.round(100 * summary.median)}% of the ceiling; ${summary.atLeast75}/${summary.cells} cells ≥ 75%; worst: ${summary.worst.slice(0, 5).join("; ")}`);
if (opts.bound) {
  console.log(`bounds: median attainable ${Math.round(100 * summary.medianAttainable)}% of the ceiling; ${summary.attainable75}/${summary.cells} cells could reach 75%, ${summary.attainable85} 85%; the ops run at a median ${Math.round(100 * summary.medianOfBound)}% of their bounds`);
}

const mode = `${opts.quick ? "matrix-quick" : "matrix"}${opts.bound ? "-bound" : ""}`; // a quick bound run does not overwrite the full one
const result = { env: environment({ mode, samples: SAMPLES }), sizes: SIZES, cs: Cs, layouts: LAYOUTS, ops, summary, cells };
if (!opts["no-save"]) {
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const jf = opts.out || `${dir}${mode}.json`;
  writeFileSync(jf, JSON.stringify(result, null, 1));
  // The heat map draws % of the ceiling: a bound run's own drawing would repeat the matrix's.
  const sf = opts.bound && !opts.svg ? null : opts.svg || `${dir}${mode}.svg`;
  if (sf) writeFileSync(sf, renderHeatmap(result));
  say(`wrote ${jf}${sf ? ` and ${sf}` : ""}\n`);
}
