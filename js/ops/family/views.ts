// Instance and group norm on the batch-norm kernels: every (sample, channel) pair becomes a
// "channel" of a view, so no new kernels are needed.
//
// Channels-first (N, C, S) is one (1, N·C, S) view (dispatch.ts picks cf / pseudo-channel
// kernels as for batch norm); a group's C/G channels are contiguous, so group statistics are the
// (1, N·G, (C/G)·S) view. Channels-last (N·S rows of C) takes one call of the cl kernels per
// sample (pointer offsets); group statistics merge the group's per-channel triples (Chan).
// Channels-first instance norm runs on batch norm's fused kernels (per (n, c) row: statistics
// then normalize, or sums then dx, the second pass from L2), gamma/beta repeated per sample.
import type { Scope } from "../../core/scope";
import type { Geometry } from "../../core/layout";
import { rt } from "../../core/runtime";
import { statsInto, normalize, backwardReduce, backwardDx, tempBytes, fusable, trainFused, backwardFused, scratchFor, clScratchBytes, type View3 } from "../dispatch";
import { actNormalizeNC } from "../act-dispatch";
import { chanMergeRuns } from "../welford";
import { ncView } from "./nc-view";

const groupView = (g: Geometry, G: number): View3 => ({ N: 1, C: g.N * G, S: (g.C / G) * g.S, channelsLast: false });

/** Bytes of temporaries one forward or backward call below may take (for Scope.commit). */
export function groupTempBytes(g: Geometry, G: number): number {
  const NC = g.N * g.C;
  // Per statistic: the triples (24) and gn_params_finish_f32's four results (24).
  const K = g.N * G;
  if (!g.channelsLast) return tempBytes(groupView(g, G)) + 2 * tempBytes(ncView(g)) + 48 * K + 4096;
  // One kernel scratch, shared by the kernels of the call (dispatch.ts scratchFor).
  return clScratchBytes(g.C) + 96 * NC + 48 * K + 4096;
}

/**
 * (count, mean, M2) per (n, group), n-major: the pointer of N·G f64 triples in wasm memory (a
 * temporary of the scope). Channels-last with one channel a group (instance norm): the
 * kernel's per-channel triples themselves (a merge into a zero triple would not change them).
 */
export function groupStats(s: Scope, g: Geometry, G: number, x: number): number {
  const K = g.N * G;
  if (!g.channelsLast) {
    const acc = s.temp(24 * K);
    s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * K);
    statsInto(s, groupView(g, G), x, acc);
    return acc;
  }
  const { N, C, S } = g, k = rt().kernels;
  const acc = s.temp(24 * N * C), scratch = scratchFor(s, C);
  s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * N * C);
  for (let n = 0; n < N; n++) k.bn_stats_f32_cl(S, C, x + 4 * n * S * C, acc + 24 * n * C, scratch);
  if (G === C) return acc;
  const out = s.temp(24 * K), F = s.heap.F64;
  F.fill(0, out >>> 3, (out >>> 3) + 3 * K);
  chanMergeRuns(F, acc >>> 3, out >>> 3, K, C / G);
  return out;
}

/** y = act((x − m)·scale + shift) with N·C parameters ((n, c) order): pointers to N·C f32 each. */
export function normalizeNC(s: Scope, g: Geometry, x: number, y: number, pm: number, ps: number, pt: number, act = 0): void {
  if (act) { actNormalizeNC(g, x, y, pm, ps, pt, act); return; }
  if (!g.channelsLast) { normalize(s, ncView(g), x, y, pm, ps, pt); return; }
  const { N, C, S } = g, k = rt().kernels;
  const scratch = scratchFor(s, C);
  for (let n = 0; n < N; n++) {
    const o = 4 * n * S * C, p = 4 * n * C;
    k.bn_normalize_f32_cl(S, C, x + o, pm + p, ps + p, pt + p, y + o, scratch);
  }
}

/**
 * Per-(n, c) backward sums (Σdy, Σdy·(x − m)) left in wasm memory: the pointer of N·C f64 pairs (a
 * temporary of the scope). Channels-first: the (1, N·C, S) view; channels-last: one (S, C) call a
 * sample.
 */
export function reduceNCAt(s: Scope, g: Geometry, x: number, dy: number, pm: number): number {
  if (!g.channelsLast) return backwardReduce(s, ncView(g), x, dy, pm);
  const { N, C, S } = g, k = rt().kernels;
  const acc = s.temp(16 * N * C), scratch = scratchFor(s, C);
  s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 2 * N * C);
  for (let n = 0; n < N; n++) {
    k.bn_backward_reduce_f32_cl(S, C, x + 4 * n * S * C, dy + 4 * n * S * C, pm + 4 * n * C, acc + 16 * n * C, scratch);
  }
  return acc;
}

/** dx = dy·k + (x − m)·c1 + c0 with N·C parameters: pointers to N·C f32 each. */
export function dxNC(s: Scope, g: Geometry, x: number, dy: number, dx: number, pm: number, pk: number, p1: number, p0: number): void {
  if (!g.channelsLast) { backwardDx(s, ncView(g), x, dy, dx, pm, pk, p1, p0); return; }
  const { N, C, S } = g, k = rt().kernels;
  const scratch = scratchFor(s, C);
  for (let n = 0; n < N; n++) {
    const o = 4 * n * S * C, p = 4 * n * C;
    k.bn_backward_dx_f32_cl(S, C, x + o, dy + o, pm + p, pk + p, p1 + p, p0 + p, dx + o, scratch);
  }
}

/** Instance norm (one channel per group) channels-first, where the fused kernels serve the view. */
export function instanceFusable(g: Geometry, G: number): boolean {
  return G === g.C && !g.channelsLast && fusable(ncView(g));
}

function perSample(g: Geometry, v: ArrayLike<number> | undefined | null): Float32Array | undefined {
  if (!v) return undefined;
  const out = new Float32Array(g.N * g.C);
  for (let n = 0; n < g.N; n++) out.set(v as ArrayLike<number>, n * g.C);
  return out;
}

/** Fused forward: y written; returns the pointer of the (count, mean, M2) triples per (n, c) in wasm memory. */
export function instanceForwardFused(s: Scope, g: Geometry, x: number, y: number, eps: number, gamma?: ArrayLike<number> | null, beta?: ArrayLike<number> | null): number {
  const K = g.N * g.C, acc = s.temp(24 * K);
  s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * K);
  trainFused(s, ncView(g), x, y, acc, eps, perSample(g, gamma), perSample(g, beta));
  return acc;
}

/** Fused backward: dx written, exact (Σdy, Σdy·(x − μ)) per (n, c) returned. */
export function instanceBackwardFused(s: Scope, g: Geometry, x: number, dy: number, dx: number, hi: Float32Array, lo: Float64Array, invstd: ArrayLike<number>, gamma?: ArrayLike<number> | null): Float64Array {
  return backwardFused(s, ncView(g), x, dy, dx, hi, lo, invstd, g.S, perSample(g, gamma));
}
