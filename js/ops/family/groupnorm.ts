// Group norm and instance norm (group norm with one channel per group): statistics per
// (sample, group) over the group's channels and every spatial position, affine per channel.
import { withScope } from "../../core/scope";
import { rt } from "../../core/runtime";
import { fmtShape, type Geometry } from "../../core/layout";
import type { TensorLike } from "../../core/tensor";
import { groupStats, normalizeNC, reduceNCAt, dxNC, groupTempBytes, instanceFusable, instanceForwardFused, instanceBackwardFused } from "./views";
import { groupActGrad } from "../act-dispatch";
import type { Scope } from "../../core/scope";
import { affineVec } from "../../core/errors";
import {
  checkForward, checkBackward, checkGroups, type CheckedOptions, type CheckedBackward,
  type NormOptions, type NormResult, type NormBackwardOptions, type NormBackwardResult,
} from "./common";
import { paramVec, lnParams, rowForward, rowTempBytes, columnsAffine, columnsAffineBytes } from "./norm-rows";
import { aligned } from "../../core/heap";
import { wantsTensor } from "../../core/args";
import { splitMeans, splitMeansInto } from "../split";
import { copyOut } from "../../core/typed";
import { statOutputs, gradOutputs, resultArrays, type StatOutputs } from "./outputs";
import { scratchBytes, BLOCK } from "../../core/kernel-table";

export interface GroupNormOptions extends NormOptions {
  /** Number of groups: a divisor of C; group g holds channels g·C/groups … (g+1)·C/groups − 1. */
  groups: number;
}

export interface GroupNormBackwardOptions extends NormBackwardOptions {
  /** The `groups` of the forward pass. */
  groups: number;
}

function checkInstance(g: Geometry): void {
  if (g.S === 1) {
    throw new Error(`instance norm needs more than one spatial position per channel: the shape ${fmtShape(g.shape)} (${g.layout}) has 1 (for (N, C) data use layerNorm or batchNormTrain)`);
  }
}

function forward(x: TensorLike, opts: NormOptions | undefined, groupsOf: (g: Geometry, o: CheckedOptions) => number, grouped: boolean): NormResult {
  // gamma / beta: type and length here, their elements below before any kernel runs.
  const { g, o, eps, act } = checkForward(x, opts, true, grouped);
  const G = groupsOf(g, o);
  const K = g.N * G, outs = statOutputs(K, o, false, [x, o.out, o.gamma, o.beta]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    const rows = asRows(g, G);
    s.commit(rows ? rowTempBytes(rows) + 2 * aligned(4 * g.C) + columnsAffineBytes(g.C) : groupTempBytes(g, G));
    if (rows) {
      // One value a channel ((N, C)): a group is C/G contiguous values of a row, so group norm is
      // layer norm of the (N·G, C/G) rows with unit parameters, then gamma, beta and the activation
      // per channel (the per-(n, c) parameters cost three values for each value here).
      const ab = lnParams(s, g.C, o.gamma, o.beta);
      const st = rowForward(s, rows, { rms: false, act: 0 }, xa.ptr, ya.ptr, lnParams(s, rows.C, null, null), eps, outs);
      columnsAffine(s, g.N, g.C, ya.ptr, ab, act);
      return { y: s.result(ya), mean: st.mean!, invstd: st.rstd };
    }
    // K + 1 values each: gn_forward_short_f32_cf may write one past the end (odd K).
    const k = rt().kernels, mh = s.temp(4 * K + 4), mf = s.temp(4 * K + 4);
    const short = !act && shortRows(g, G), fused = !short && !act && instanceFusable(g, G);
    // The fused channels-first instance norm reads gamma / beta in JS (checked there); else they
    // go to wasm memory and are checked there by one kernel call (a JS loop cost ~0.7 ns a value).
    if (fused) { affineVec("gamma", o.gamma, g.C); affineVec("beta", o.beta, g.C); }
    const ab = fused ? null : lnParams(s, g.C, o.gamma, o.beta);
    if (short) {
      // Short channels-first rows, one pass: statistics, parameters and y per tile of rows.
      k.gn_forward_short_f32_cf(g.N, g.C, G, g.S, xa.ptr, ab!.gamma, ab!.beta, ya.ptr, eps, mh, mf,
        s.temp(scratchBytes(k, "gn_forward_short_f32_cf", g)));
      return results(s, ya, K, outs, mh, mf);
    }
    const st = fused ? instanceForwardFused(s, g, xa.ptr, ya.ptr, eps, o.gamma, o.beta) : groupStats(s, g, G, xa.ptr);
    // Per statistic, by a kernel (one statistic per 49 values on 7 × 7 rows: a JS loop cost as
    // much as the data): the f32 mean (also the part the normalize subtracts), its f64 residue,
    // invstd in f64 and f32.
    const ml = s.temp(8 * K), mi = s.temp(8 * K);
    k.gn_params_finish_f32(K, st, eps, mh, ml, mi, mf);
    if (!fused) {
      // m, scale, shift per (n, c), built in wasm memory by a kernel (N·C can exceed the data
      // when S is small: (256, 512) NC has one value per (n, c)).
      const pp = nc_params_at(s, g, G, mh, ml, mi, ab!.gamma, ab!.beta);
      normalizeNC(s, g, xa.ptr, ya.ptr, pp, pp + 4 * g.N * g.C, pp + 8 * g.N * g.C, act);
    }
    return results(s, ya, K, outs, mh, mf);
  });
}

/** The forward's results: y, and the K f32 means at mh and invstd at mf copied to the caller's arrays or fresh ones. */
function results(s: Scope, ya: Parameters<Scope["result"]>[0], K: number, outs: StatOutputs, mh: number, mf: number): NormResult {
  const [mean, invstd] = resultArrays(K, [outs.mean, outs.rstd], true) as Float32Array[], F = s.heap.F32;
  copyOut(mean, F, mh >>> 2);
  copyOut(invstd, F, mf >>> 2);
  return { y: s.result(ya), mean, invstd };
}

/**
 * The (N·G, C/G) rows of a tensor with one value a channel, else null. Groups of 2–3 channels from
 * 64 rows on (below, the second kernel call cost more than it saved: 0.9× at (8, 3)); groups of one
 * channel never (constant rows of one value: 0.8× the per-(n, c) parameters).
 */
function asRows(g: Geometry, G: number): Geometry | null {
  const per = g.C / G;
  return g.S === 1 && (per >= 4 || (per >= 2 && g.N * G >= 64)) ? { shape: [g.N * G, g.C / G], layout: "NC", N: g.N * G, C: g.C / G, S: 1, size: g.size, channelsLast: true } : null;
}

/**
 * Instance norm channels-first on rows of 4–127 values, and group norm there (groups of ≤ BLOCK
 * values) past GROUP_ONE_PASS values: gn_forward_short_f32_cf serves them. Below, group norm's
 * four kernels were as fast or 5 % faster (docs/performance.md).
 */
function shortRows(g: Geometry, G: number): boolean {
  return !g.channelsLast && g.S >= 4 && g.S < 128 && (G === g.C || (g.size >= GROUP_ONE_PASS && (g.C / G) * g.S <= BLOCK));
}
const GROUP_ONE_PASS = 1 << 21;

/**
 * Per-(n, c) m, scale, shift (N·C f32 each, contiguous at the returned pointer) from group
 * statistics in wasm memory: hi (f32), lo and inv (f64) pointers; gamma, beta: pointers to C f32.
 */
function nc_params_at(s: Scope, g: Geometry, G: number, hi: number, lo: number, inv: number, gamma: number, beta: number): number {
  const { N, C } = g, NC = N * C, pp = s.temp(12 * NC);
  rt().kernels.gn_params_f32(N, C, G, hi, lo, inv, gamma, beta, pp, pp + 4 * NC, pp + 8 * NC);
  return pp;
}

/**
 * Backwards with shorter rows (S per sample and channel) keep the f32 means as m: the kernels'
 * m = 0 loops gain on long rows only, and the rule's JS split costs ~4 ns a statistic
 * (docs/performance.md).
 */
const NEAR_ZERO_ROWS = 128;

function backward(x: TensorLike, dy: TensorLike, opts: NormBackwardOptions | undefined, groupsOf: (g: Geometry, o: CheckedBackward) => number, unit: string, grouped: boolean): NormBackwardResult {
  const { g, o, act } = checkBackward(x, dy, opts, (geo, ob) => geo.N * groupsOf(geo, ob), unit, false, grouped);
  const G = groupsOf(g, o);
  const { N, C, S } = g, per = C / G, count = per * S;
  const outs = gradOutputs(C, o as unknown as Record<string, unknown>, [x, dy, o.out, o.gamma, o.beta, o.mean, o.invstd]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size), d0 = s.input("dy", dy, g.size, g.shape, g.layout);
    const oa = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(groupTempBytes(g, G));
    // The split means (f32 high parts, f64 residues) and invstd, in wasm memory. The near-zero
    // rule (split.ts; the kernels' m = 0 loops) on rows of ≥ NEAR_ZERO_ROWS values, and not with
    // an activation (its v is recomputed as the forward computed it).
    const K = N * G, near = !act && S >= NEAR_ZERO_ROWS ? o.invstd : undefined;
    const hp = s.temp(4 * K), lp = s.temp(8 * K), ip = s.f64(o.invstd);
    splitMeansInto(o.mean, K, s.heap.F32, hp >>> 2, s.heap.F64, lp >>> 3, near);
    // With an activation, dy becomes dy·act'(v), v recomputed from x and the statistics.
    const da = !act ? d0 : { ptr: groupActGrad(s, g, xa.ptr, d0.ptr, oa.ptr, ...params3(nc_params_at(s, g, G, hp, lp, ip, paramVec(s, C, o.gamma, 1), paramVec(s, C, o.beta, 0)), N * C), act) };
    if (instanceFusable(g, G)) {
      const dgamma = new Float64Array(C), dbeta = new Float64Array(C);
      const { hi, lo } = splitMeans(o.mean, near);
      const sums = instanceBackwardFused(s, g, xa.ptr, da.ptr, oa.ptr, hi, lo, o.invstd, o.gamma);
      for (let i = 0; i < N * C; i++) { dgamma[i % C] += sums[2 * i + 1] * o.invstd[i]; dbeta[i % C] += sums[2 * i]; }
      const [dg, db] = resultArrays(C, [outs.dgamma, outs.dbeta]) as Float32Array[];
      dg.set(dgamma); db.set(dbeta);
      return { dx: s.result(oa), dgamma: dg, dbeta: db };
    }
    // Per (n, c): m (the group's f32 mean: hi itself with one channel per group), then k, c1,
    // c0 for dx — in wasm memory, the per-(n, c) arithmetic in a kernel (one statistic per 49
    // values on 7 × 7 rows).
    const NC = N * C, pp = s.temp(16 * NC);
    // The group's mean repeated per channel by a kernel (a JS fill a group cost ~1 ms at 16 Mi values).
    const pm = per === 1 ? hp : pp;
    if (per > 1) rt().kernels.bn_params_repeat_f32(K, per, hp, pp);
    const sums = reduceNCAt(s, g, xa.ptr, da.ptr, pm);
    const dsum = s.temp(16 * C), gp = paramVec(s, C, o.gamma, 1);
    s.heap.F64.fill(0, dsum >>> 3, (dsum >>> 3) + 2 * C);
    rt().kernels.gn_params_backward_f32(N, C, G, sums, lp, ip, gp, count, pp + 4 * NC, pp + 8 * NC, pp + 12 * NC, dsum);
    // The f64 sums rounded to f32 straight into the results (no f64 copies of them first).
    const D = s.heap.F64, [dgamma, dbeta] = resultArrays(C, [outs.dgamma, outs.dbeta]) as Float32Array[];
    for (let c = 0, d = dsum >>> 3; c < C; c++) { dgamma[c] = D[d + 2 * c]; dbeta[c] = D[d + 2 * c + 1]; }
    dxNC(s, g, xa.ptr, da.ptr, oa.ptr, pm, pp + 4 * NC, pp + 8 * NC, pp + 12 * NC);
    return { dx: s.result(oa), dgamma, dbeta };
  });
}

/** The three parameter pointers of an nc_params_at block. */
const params3 = (pp: number, NC: number): [number, number, number] => [pp, pp + 4 * NC, pp + 8 * NC];

/**
 * Group norm: statistics per (sample, group) over the group's C/groups consecutive channels and
 * every spatial position (Welford, Chan-merged in f64), then a per-channel affine.
 * Works in every layout; x (any size) is read twice, y written once.
 * @param x Float32Array (copied in and out once) or Tensor (zero-copy) in `layout`.
 * @returns y, and mean / invstd as Float32Array(N·groups) in (n, group) order.
 * @throws when groups does not divide C ("3 channels cannot be split into 2 groups"), on bad
 *   shapes/lengths (gamma, beta must have C values), eps < 0. Nothing is written on failure.
 * @example const { y } = groupNorm(x, { shape: [8, 64, 32, 32], layout: "NCHW", groups: 32, gamma, beta });
 */
export function groupNorm(x: TensorLike, opts: GroupNormOptions): NormResult {
  return forward(x, opts, (g, o) => checkGroups(g.C, o.groups), true);
}

/**
 * Group norm backward from the forward's mean / invstd: dx, dgamma, dbeta. Two passes like batch
 * norm: per-(n, c) sums Σdy and Σdy·(x − μ), combined into γ-weighted group sums, then
 * dx = invstd·(γ·dy − Σγdy/m − x̂·Σγdy·x̂/m), m = (C/groups)·S, kept in the (x − μ) form.
 * @param opts.mean, opts.invstd N·groups values in (n, group) order.
 * @throws like groupNorm, and when mean / invstd / dy have the wrong length. `out` may be x or dy.
 */
export function groupNormBackward(x: TensorLike, dy: TensorLike, opts: GroupNormBackwardOptions): NormBackwardResult {
  return backward(x, dy, opts, (g, o) => checkGroups(g.C, o.groups), "(sample, group) statistics", true);
}

/**
 * Instance norm: statistics per (sample, channel) over the spatial axes, per-channel affine.
 * Needs a spatial axis (throws for NC data, where each statistic would cover one value).
 * @returns y, and mean / invstd as Float32Array(N·C) in (n, c) order.
 * @throws on bad shapes/lengths, eps < 0, or S = 1. Nothing is written on failure.
 * @example const { y, mean, invstd } = instanceNorm(x, { shape: [4, 3, 64, 64], layout: "NCHW" });
 */
export function instanceNorm(x: TensorLike, opts: NormOptions = {}): NormResult {
  return forward(x, opts, (g) => { checkInstance(g); return g.C; }, false);
}

/**
 * Instance norm backward from the forward's mean / invstd (N·C values, (n, c) order):
 * dx, dgamma, dbeta. `out` may be x or dy (in place).
 * @throws on bad shapes/lengths, or S = 1.
 */
export function instanceNormBackward(x: TensorLike, dy: TensorLike, opts: NormBackwardOptions): NormBackwardResult {
  return backward(x, dy, opts, (g) => { checkInstance(g); return g.C; }, "(sample, channel) statistics", false);
}
