// Kernel dispatch on raw pointers: picks the channels-first, channels-last or "pseudo-channel"
// kernel for a (N, C, S) view and sizes the scratch. No validation here (js/ops do it).
//
// Channels-first rows shorter than 16 values would run mostly in scalar tails, so they are
// handed to the channels-last kernels as N rows of C·S pseudo-channels (channel c owns
// pseudo-channels c·S … c·S+S−1); partial statistics are then merged exactly (Chan), and
// per-channel parameters are repeated S times (paramsAt: every op passes C values a parameter).
// NC (S = 1) is channels-last already. Statistics of fewer than pseudoStatsMinRows(S) rows stay
// on the channels-first kernel (the pseudo-channels' fold and merge cost more there).
import type { Scope } from "../core/scope";
import { chanMergeRuns } from "./welford";
import { rt } from "../core/runtime";
import { scratchBytes } from "../core/kernel-table";
import { actNormalize } from "./act-dispatch";

/** A normalization view: channels-first (N, C, S) or channels-last (N·S rows of C). */
export interface View3 { N: number; C: number; S: number; channelsLast: boolean; }

type Mode = { kind: "cf" } | { kind: "cl"; R: number; C: number; rep: number };

const PSEUDO_MAX_S = 16;
const PSEUDO_MAX_COLS = 1024; // rows of ≤ 1024 values: the lane pattern stays ≤ 16 KB

const CF: Mode = Object.freeze({ kind: "cf" });

export function mode(v: View3): Mode {
  if (v.channelsLast) return { kind: "cl", R: v.N * v.S, C: v.C, rep: 1 };
  if (v.S === 1) return { kind: "cl", R: v.N, C: v.C, rep: 1 };
  if (v.S < PSEUDO_MAX_S && v.C * v.S <= PSEUDO_MAX_COLS) return { kind: "cl", R: v.N, C: v.C * v.S, rep: v.S };
  return CF; // one shared object: no allocation on every dispatch
}

// bn_stats_f32_cf takes the same shared scratch (36·C bytes: more than the others past C = 2048).
const CL_KERNELS = ["bn_stats_f32_cl", "bn_normalize_f32_cl", "bn_backward_reduce_f32_cl", "bn_backward_dx_f32_cl", "bn_stats_f32_cf"] as const;

/**
 * The last answers of clScratchBytes (C → bytes, for the kernels of `known`): an op call asks for
 * the same few C several times (its temporaries' total, then its kernels' shared scratch; group
 * norm two views of different C), and each answer costs four table formulas with keyed loads and
 * wasm calls (~0.1 µs; docs/performance.md, per-call cost). Four places, replaced in turn: with
 * one, group norm's two views missed on every call.
 */
let known: unknown = null, nextPlace = 0;
const knownC = [-1, -1, -1, -1], knownBytes = [0, 0, 0, 0];

/** Scratch bytes one channels-last kernel of C (pseudo-)channels may need: the largest of them (O(C)). */
export function clScratchBytes(C: number): number {
  const k = rt().kernels;
  if (k === known) for (let i = 0; i < 4; i++) if (knownC[i] === C) return knownBytes[i];
  let most = 0;
  for (const name of CL_KERNELS) most = Math.max(most, scratchBytes(k, name, { C }));
  if (k !== known) { known = k; knownC.fill(-1); }
  knownC[nextPlace] = C; knownBytes[nextPlace] = most;
  nextPlace = (nextPlace + 1) & 3;
  return most;
}

/**
 * Scratch for a channels-last kernel with C (pseudo-)channels: the call's shared block
 * (Scope.shared). Every channels-last kernel of one op call reuses it (the kernels run one after
 * another and keep nothing in it between calls). One rule: the block serves C when it holds
 * clScratchBytes(C), the most any of them needs at C; else (first use, or a block taken for a
 * smaller view) one of that size is taken.
 */
export function scratchFor(s: Scope, C: number): number {
  const bytes = clScratchBytes(C);
  if (s.sharedBytes >= bytes) return s.shared;
  s.shared = s.temp(bytes);
  s.sharedBytes = bytes;
  return s.shared;
}

/**
 * Pseudo-channel statistics cost ~17 ns a pseudo-channel a call (the column fold and merge, and
 * the JS merge below) on top of their rows. Below this many rows the channels-first kernel is
 * cheaper: rows of 1–3 values (scalar) up to N ≈ 16–20; rows of 4–15 values, whose last vector
 * is masked rather than summed in scalars, up to N ≈ 15·S (measured ≈ 60 at S = 4, 105 at 7,
 * 135 at 9, 200 at 12, 220 at 15: channelStats, both paths in one process; docs/performance.md).
 */
const pseudoStatsMinRows = (S: number): number => (S < 4 ? 3 * S + 8 : 15 * S);

/** Merge Welford triples of x into acc (f64 pointer, C triples). */
export function statsInto(s: Scope, v: View3, x: number, acc: number): void {
  const k = rt().kernels;
  const m = mode(v);
  if (m.kind === "cf" || (m.rep > 1 && v.N < pseudoStatsMinRows(v.S))) { k.bn_stats_f32_cf(v.N, v.C, v.S, x, acc, scratchFor(s, v.C)); return; }
  const scratch = scratchFor(s, m.C);
  if (m.rep === 1) { k.bn_stats_f32_cl(m.R, m.C, x, acc, scratch); return; }
  const tmp = s.temp(24 * m.C);
  s.heap.F64.fill(0, tmp >>> 3, (tmp >>> 3) + 3 * m.C);
  k.bn_stats_f32_cl(m.R, m.C, x, tmp, scratch);
  chanMergeRuns(s.heap.F64, tmp >>> 3, acc >>> 3, v.C, m.rep);
}

/**
 * Per-channel f32 params in wasm memory (C values at p) → the pointer the kernel reads: p itself
 * (rep 1), or a temporary with each value repeated `rep` times (pseudo-channels), written by
 * bn_params_repeat_f32 (a JS loop cost ~1 ns a value). (Group norm's backward repeats its means with it too.)
 */
function paramsAt(s: Scope, p: number, C: number, rep: number): number {
  if (rep === 1) return p;
  const q = s.temp(4 * C * rep);
  rt().kernels.bn_params_repeat_f32(C, rep, p, q);
  return q;
}

/** y = act((x − m)·scale + shift) per channel; m, scale, shift: pointers to C f32 each; act: activation id (0: none). */
export function normalize(s: Scope, v: View3, x: number, y: number, pm: number, ps: number, pt: number, act = 0): void {
  if (act) { actNormalize(v, x, y, pm, ps, pt, act); return; }
  const k = rt().kernels;
  const md = mode(v);
  if (md.kind === "cf") { k.bn_normalize_f32_cf(v.N, v.C, v.S, x, pm, ps, pt, y); return; }
  const scratch = scratchFor(s, md.C), r = md.rep, C = v.C;
  k.bn_normalize_f32_cl(md.R, md.C, x, paramsAt(s, pm, C, r), paramsAt(s, ps, C, r), paramsAt(s, pt, C, r), y, scratch);
}

/**
 * Σdy and Σdy·(x − m) per channel: the pointer of C f64 pairs in wasm memory (a temporary of
 * the scope; pseudo-channel pairs folded in place into the first C); m: pointer to C f32 values.
 */
export function backwardReduce(s: Scope, v: View3, x: number, dy: number, pm: number): number {
  const k = rt().kernels;
  const md = mode(v);
  const cols = md.kind === "cf" ? v.C : md.C;
  const acc = s.temp(16 * cols);
  s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 2 * cols);
  if (md.kind === "cf") k.bn_backward_reduce_f32_cf(v.N, v.C, v.S, x, dy, pm, acc);
  else k.bn_backward_reduce_f32_cl(md.R, md.C, x, dy, paramsAt(s, pm, v.C, md.rep), acc, scratchFor(s, md.C));
  const rep = md.kind === "cf" ? 1 : md.rep;
  if (rep === 1) return acc;
  // Channel c's pairs are pseudo-channels c·rep … c·rep + rep − 1: summed in order into pair c
  // (pair c is written only after every pair it reads, since c ≤ c·rep).
  const F = s.heap.F64, a = acc >>> 3;
  for (let c = 0; c < v.C; c++) {
    let s0 = 0, s1 = 0;
    for (let j = c * rep, t = a + 2 * j; j < (c + 1) * rep; j++, t += 2) { s0 += F[t]; s1 += F[t + 1]; }
    F[a + 2 * c] = s0; F[a + 2 * c + 1] = s1;
  }
  return acc;
}

/** dx = dy·k + (x − m)·c1 + c0 per channel; m, k, c1, c0: pointers to C f32 each. */
export function backwardDx(s: Scope, v: View3, x: number, dy: number, dx: number, pm: number, pk: number, pc1: number, pc0: number): void {
  const k = rt().kernels;
  const md = mode(v);
  if (md.kind === "cf") { k.bn_backward_dx_f32_cf(v.N, v.C, v.S, x, dy, pm, pk, pc1, pc0, dx); return; }
  const r = md.rep, C = v.C;
  k.bn_backward_dx_f32_cl(md.R, md.C, x, dy, paramsAt(s, pm, C, r), paramsAt(s, pk, C, r), paramsAt(s, pc1, C, r), paramsAt(s, pc0, C, r), dx, scratchFor(s, md.C));
}

/** What an op call runs through this module: statistics only, a forward (statistics and/or normalize) or a backward. */
export type OpKind = "stats" | "forward" | "backward";

/**
 * Bytes of temporaries an op call of `kind` (any op when absent) may take for a view (for
 * Scope.commit, and the worker pool's arenas): one shared
 * kernel scratch (O(C), see clScratchBytes), per-pseudo-channel triples, pairs and repeated
 * parameters, the callers' own per-channel arrays (≤ 36 bytes a channel; statistics callers add
 * their 24 themselves) and 4 KiB.
 */
export function tempBytes(v: View3, kind?: OpKind): number {
  if (kind === undefined) return Math.max(tempBytes(v, "forward"), tempBytes(v, "backward")); // any op
  const md = mode(v);
  const own = kind === "stats" ? 0 : 36 * v.C;
  // Channels-first statistics take the shared scratch too (36·C ≤ clScratchBytes(C) bytes).
  if (md.kind === "cf") return (kind === "backward" ? 16 * v.C : clScratchBytes(v.C)) + own + 4096;
  // Per pseudo-channel: statistics triples (24) and three repeated parameters (12) forward;
  // reduce pairs (16) and five repeated parameters (20: m for the sums and for dx, k, c1, c0)
  // backward (rep = 1: the pairs only).
  const rep = md.rep > 1;
  const perCol = kind === "stats" ? (rep ? 24 : 0) : kind === "forward" ? (rep ? 36 : 0) : rep ? 36 : 16;
  return clScratchBytes(md.C) + perCol * md.C + own + 4096;
}

/**
 * Fused per-channel kernels (assembly/bn_fused.ts) pay off only when the tensor does not fit in
 * the last-level cache: their second pass then reads from L2 instead of memory. Below that,
 * memory-order streaming of the two-phase path wins (channel-major order is slower on an
 * L3-resident tensor), so it is used instead (figures: docs/performance.md).
 */
const FUSE_MIN_BYTES = 32 << 20;
/**
 * …and only with long rows: channel-major order visits N rows of S values per channel, and many
 * short rows (e.g. 256 rows of 4 KB) defeat the prefetchers (docs/performance.md).
 */
const FUSE_MIN_ROW = 8192;

/** True when the fused per-channel kernels serve this view. */
export function fusable(v: View3): boolean {
  return mode(v).kind === "cf" && v.S >= FUSE_MIN_ROW && v.N * v.C * v.S * 4 >= FUSE_MIN_BYTES;
}

/**
 * Fused training forward (channels-first): statistics into acc (C zeroed f64 triples) and
 * y = normalized x, one channel at a time. gamma/beta absent → 1/0.
 */
export function trainFused(s: Scope, v: View3, x: number, y: number, acc: number, eps: number, gamma?: ArrayLike<number>, beta?: ArrayLike<number>): void {
  rt().kernels.bn_fused_train_f32_cf(v.N, v.C, v.S, x, gamma ? s.f32(gamma) : 0, beta ? s.f32(beta) : 0, acc, y, eps);
}

/**
 * Fused training backward (channels-first): returns the per-channel (Σdy, Σdy·(x−mean)) pairs
 * and writes dx. hi/lo: the mean split (see batchnorm.ts splitHi); m: values per channel.
 */
export function backwardFused(s: Scope, v: View3, x: number, dy: number, dx: number, hi: Float32Array, lo: Float64Array, invstd: ArrayLike<number>, m: number, gamma?: ArrayLike<number>): Float64Array {
  const sums = s.temp(16 * v.C), lp = s.temp(8 * v.C);
  s.heap.F64.set(lo, lp >>> 3);
  rt().kernels.bn_fused_backward_f32_cf(v.N, v.C, v.S, x, dy, s.f32(hi), lp, s.f32(invstd), gamma ? s.f32(gamma) : 0, sums, dx, m);
  return s.heap.f64(sums, 2 * v.C).slice();
}
