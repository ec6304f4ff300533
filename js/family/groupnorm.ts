// Group norm and instance norm (group norm with one channel per group): statistics per
// (sample, group) over the group's channels and every spatial position, affine per channel.
import { withScope } from "../scope";
import { fmtShape, type Geometry } from "../layout";
import type { TensorLike } from "../tensor";
import { groupStats, normalizeNC, reduceNC, dxNC, groupTempBytes, instanceFusable, instanceForwardFused, instanceBackwardFused } from "./views";
import {
  checkForward, checkBackward, wantsTensor, splitMeans,
  type NormOptions, type NormResult, type NormBackwardOptions, type NormBackwardResult,
} from "./common";

export interface GroupNormOptions extends NormOptions {
  /** Number of groups: a divisor of C; group g holds channels g·C/groups … (g+1)·C/groups − 1. */
  groups: number;
}

export interface GroupNormBackwardOptions extends NormBackwardOptions {
  /** The `groups` of the forward pass. */
  groups: number;
}

function checkGroups(C: number, groups: unknown): number {
  if (groups === undefined) throw new Error("groups is required: a positive integer that divides the channel count");
  if (typeof groups !== "number" || !Number.isInteger(groups) || groups < 1) throw new Error(`groups must be a positive integer, got ${String(groups)}`);
  if (C % groups !== 0) throw new Error(`${C} channels cannot be split into ${groups} groups: groups must divide the channel count`);
  return groups;
}

function checkInstance(g: Geometry): void {
  if (g.S === 1) {
    throw new Error(`instance norm needs more than one spatial position per channel: the shape ${fmtShape(g.shape)} (${g.layout}) has 1 (for (N, C) data use layerNorm or batchNormTrain)`);
  }
}

function forward(x: TensorLike, opts: NormOptions | undefined, groupsOf: (g: Geometry) => number): NormResult {
  const { g, o, eps } = checkForward(x, opts);
  const G = groupsOf(g);
  const { N, C } = g, per = C / G, K = N * G;
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(groupTempBytes(g, G));
    const fused = instanceFusable(g, G);
    const st = fused ? instanceForwardFused(s, g, xa.ptr, ya.ptr, eps, o.gamma, o.beta) : groupStats(s, g, G, xa.ptr);
    const mean = new Float32Array(K), invstd = new Float32Array(K), inv64 = new Float64Array(K), mean64 = new Float64Array(K);
    for (let i = 0; i < K; i++) {
      mean64[i] = st[3 * i + 1];
      inv64[i] = 1 / Math.sqrt(st[3 * i + 2] / st[3 * i] + eps);
      mean[i] = mean64[i]; invstd[i] = inv64[i];
    }
    if (fused) return { y: s.result(ya), mean, invstd };
    const { hi, lo } = splitMeans(mean64);
    const m = new Float32Array(N * C), scale = new Float32Array(N * C), shift = new Float32Array(N * C);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const i = n * C + c, q = n * G + Math.floor(c / per);
        const sc = (o.gamma ? o.gamma[c] : 1) * inv64[q];
        m[i] = hi[q]; scale[i] = sc; shift[i] = (o.beta ? o.beta[c] : 0) - lo[q] * sc;
      }
    }
    normalizeNC(s, g, xa.ptr, ya.ptr, m, scale, shift);
    return { y: s.result(ya), mean, invstd };
  });
}

function backward(x: TensorLike, dy: TensorLike, opts: NormBackwardOptions | undefined, groupsOf: (g: Geometry) => number, unit: string): NormBackwardResult {
  const { g, o } = checkBackward(x, dy, opts, (geo) => geo.N * groupsOf(geo), unit);
  const G = groupsOf(g);
  const { N, C, S } = g, per = C / G, count = per * S;
  return withScope((s) => {
    const xa = s.input("x", x, g.size), da = s.input("dy", dy, g.size);
    const oa = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(groupTempBytes(g, G));
    const { hi, lo } = splitMeans(o.mean);
    const dgamma = new Float64Array(C), dbeta = new Float64Array(C);
    if (instanceFusable(g, G)) {
      const sums = instanceBackwardFused(s, g, xa.ptr, da.ptr, oa.ptr, hi, lo, o.invstd, o.gamma);
      for (let i = 0; i < N * C; i++) { dgamma[i % C] += sums[2 * i + 1] * o.invstd[i]; dbeta[i % C] += sums[2 * i]; }
      return { dx: s.result(oa), dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
    }
    const m = new Float32Array(N * C);
    for (let i = 0; i < N * C; i++) m[i] = hi[Math.floor(i / C) * G + Math.floor((i % C) / per)];
    const sums = reduceNC(s, g, xa.ptr, da.ptr, m);
    // Exact (Σdy, Σdy·(x − μ)) per (n, c), then the γ-weighted sums of each (n, group).
    const A = new Float64Array(N * G), B = new Float64Array(N * G);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const i = n * C + c, q = n * G + Math.floor(c / per), gm = o.gamma ? o.gamma[c] : 1;
        const a = sums[2 * i], b = sums[2 * i + 1] - lo[q] * a;
        A[q] += gm * a; B[q] += gm * b;
        dgamma[c] += b * o.invstd[q]; dbeta[c] += a;
      }
    }
    const k = new Float32Array(N * C), c1 = new Float32Array(N * C), c0 = new Float32Array(N * C);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const i = n * C + c, q = n * G + Math.floor(c / per), inv = o.invstd[q];
        const cc1 = -inv * inv * inv * B[q] / count;
        k[i] = (o.gamma ? o.gamma[c] : 1) * inv;
        c1[i] = cc1;
        c0[i] = -inv * A[q] / count - lo[q] * cc1;
      }
    }
    dxNC(s, g, xa.ptr, da.ptr, oa.ptr, m, k, c1, c0);
    return { dx: s.result(oa), dgamma: Float32Array.from(dgamma), dbeta: Float32Array.from(dbeta) };
  });
}

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
  return forward(x, opts, (g) => checkGroups(g.C, opts?.groups));
}

/**
 * Group norm backward from the forward's mean / invstd: dx, dgamma, dbeta. Two passes like batch
 * norm: per-(n, c) sums Σdy and Σdy·(x − μ), combined into γ-weighted group sums, then
 * dx = invstd·(γ·dy − Σγdy/m − x̂·Σγdy·x̂/m), m = (C/groups)·S, kept in the (x − μ) form.
 * @param opts.mean, opts.invstd N·groups values in (n, group) order.
 * @throws like groupNorm, and when mean / invstd / dy have the wrong length. `out` may be x or dy.
 */
export function groupNormBackward(x: TensorLike, dy: TensorLike, opts: GroupNormBackwardOptions): NormBackwardResult {
  return backward(x, dy, opts, (g) => checkGroups(g.C, opts?.groups), "(sample, group) statistics");
}

/**
 * Instance norm: statistics per (sample, channel) over the spatial axes, per-channel affine.
 * Needs a spatial axis (throws for NC data, where each statistic would cover one value).
 * @returns y, and mean / invstd as Float32Array(N·C) in (n, c) order.
 * @throws on bad shapes/lengths, eps < 0, or S = 1. Nothing is written on failure.
 * @example const { y, mean, invstd } = instanceNorm(x, { shape: [4, 3, 64, 64], layout: "NCHW" });
 */
export function instanceNorm(x: TensorLike, opts: NormOptions = {}): NormResult {
  return forward(x, opts, (g) => { checkInstance(g); return g.C; });
}

/**
 * Instance norm backward from the forward's mean / invstd (N·C values, (n, c) order):
 * dx, dgamma, dbeta. `out` may be x or dy (in place).
 * @throws on bad shapes/lengths, or S = 1.
 */
export function instanceNormBackward(x: TensorLike, dy: TensorLike, opts: NormBackwardOptions): NormBackwardResult {
  return backward(x, dy, opts, (g) => { checkInstance(g); return g.C; }, "(sample, channel) statistics");
}
