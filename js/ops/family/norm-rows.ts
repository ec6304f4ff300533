// Kernel drivers shared by layer norm, RMS norm and the skip norms: one statistic per
// (sample, position) over the channel axis. Rows (channels-last layouts and (N, C)) run the row
// kernels (assembly/ln_forward.ts, rms_forward.ts, skip_forward.ts, rows_backward.ts): one pass
// over memory forward, one backward. Channels-first layouts (ConvNeXt's LayerNorm) run the
// strided-channel kernels (assembly/ln_normalize.ts, ln_backward.ts) with statistics from
// bn_stats_f32_cl, the activation as a separate elementwise pass, and the skip sum by
// skip_add_f32_cf. Pointers are bound by the caller (a Scope); nothing here validates.
import type { Scope } from "../../core/scope";
import { aligned } from "../../core/heap";
import { rt } from "../../core/runtime";
import { scratchBytes } from "../../core/kernel-table";
import type { Geometry } from "../../core/layout";
import { affineShape, finiteVec, fmt, F32_MAX, type Vec } from "../../core/errors";
import { copyOut } from "../../core/typed";
import { resultArrays, type GradOutputs, type StatOutputs } from "./outputs";

/** Which norm: RMS (no centring, no beta) or layer norm; the activation id (0: none). */
export interface RowSpec { rms: boolean; act: number }

/** Pointers to C f32 per-channel parameters in wasm memory (beta: zeros for RMS norm). */
export interface RowParams { gamma: number; beta: number }

/**
 * C f32 per-channel parameters written straight into a temporary (no intermediate arrays: this
 * runs on every call): v, 1 + v (offset), or `fill` when v is absent. Returns the pointer.
 * With `name`, v came through affineShape and its elements are checked here, where the copy is
 * read 16 at a time (vec_finite_f32; a JS loop cost ~0.75 ns a value), before any kernel runs:
 * a non-finite value throws the message of `finiteVec`, a value the kernels would read as ±∞
 * (a Float64Array's 1e39: finite, but beyond float32) that of `refuseVec`.
 */
export function paramVec(s: Scope, C: number, v: Vec | undefined | null, fill: number, offset = false, name?: string): number {
  const p = s.temp(4 * C), F = s.heap.F32, o = p >>> 2;
  if (!v) { F.fill(fill, o, o + C); return p; }
  if (!offset) F.set(v as ArrayLike<number>, o);
  else for (let c = 0; c < C; c++) F[o + c] = 1 + v[c];
  if (name !== undefined && rt().kernels.vec_finite_f32(C, p) >= 0) refuseVec(name, v, C, offset);
  return p;
}

/**
 * p, a pointer to C f32 per-channel parameters, or C zeros in a temporary when p is 0: a vector
 * the op was not given (beta of RMS norm, no bias) where a kernel reads one.
 */
const orZeros = (s: Scope, C: number, p: number): number => p || paramVec(s, C, null, 0);

/**
 * Throws for a vector whose float32 copy failed the element check: the message of `finiteVec`
 * for a NaN or infinite element, else names the first element that float32 cannot hold.
 */
function refuseVec(name: string, v: Vec, C: number, offset = false): never {
  finiteVec(name, v, C);
  for (let i = 0; i < C; i++) {
    if (!Number.isFinite(Math.fround(offset ? 1 + v[i] : v[i]))) {
      throw new Error(`${name}[${i}] is ${v[i]}: ${name} must hold finite float32 values (|v| ≤ ${F32_MAX})`);
    }
  }
  throw new Error(`internal: ${name} failed the float32 check with every element finite in float32`);
}

/**
 * gamma and beta pointers of a layer norm (identity where absent), checked (see affineShape).
 * Both given: one block, beta right after gamma's C values, checked by one vec_finite_f32 call
 * over the 2·C values (a bad index ≥ C is beta's).
 */
export function lnParams(s: Scope, C: number, gamma: Vec | undefined | null, beta: Vec | undefined | null): RowParams {
  if (!gamma || !beta) return { gamma: paramVec(s, C, gamma, 1, false, "gamma"), beta: paramVec(s, C, beta, 0, false, "beta") };
  const p = s.temp(8 * C), F = s.heap.F32, o = p >>> 2;
  F.set(gamma as ArrayLike<number>, o);
  F.set(beta as ArrayLike<number>, o + C);
  const bad = rt().kernels.vec_finite_f32(2 * C, p);
  if (bad >= 0) refuseVec(bad < C ? "gamma" : "beta", bad < C ? gamma : beta, C);
  return { gamma: p, beta: p + 4 * C };
}

/** unitOffset checked, gamma read (C values or absent; its elements are checked by rmsParams). */
export function checkRmsAffine(C: number, gamma: unknown, unitOffset: unknown): Float32Array | Float64Array | undefined {
  if (unitOffset !== undefined && typeof unitOffset !== "boolean") throw new Error(`unitOffset must be true or false, got ${fmt(unitOffset)}`);
  return affineShape("gamma", gamma, C);
}

/**
 * The scale the kernels use (gamma, 1 + gamma, or ones; gamma checked) and zeros for beta, in
 * wasm memory. withBeta false: beta is 0 — the forward passes, whose row kernels take no beta
 * (rowForward makes the zeros only for the channels-first path), and the backwards without an
 * activation, whose kernels read beta only to recompute the activation's input (C zeros filled
 * for nothing: ~0.1 µs at C = 2048).
 */
export function rmsParams(s: Scope, C: number, gamma: Vec | undefined | null, unitOffset: boolean | undefined, withBeta = true): RowParams {
  return { gamma: paramVec(s, C, gamma, 1, unitOffset === true, "gamma"), beta: withBeta ? orZeros(s, C, 0) : 0 };
}

/**
 * Layer norm over rows of up to this many values runs ln_forward_short_f32_cl, RMS norm
 * rms_forward_short_f32_cl, and both backwards without an activation ln_backward_short_f32_cl: four rows
 * at a time, their statistics in the lanes of one vector (layer norm: 1.06× the paths below at
 * 24 values, 1.4–1.7× at 4–8, 5–6× at 1–3 and below 64 rows, 0.94× at 32; RMS norm: 1.2× at 24,
 * 1.65–2.2× at 3–13: docs/performance.md).
 */
const FOUR_ROWS = 24;

/**
 * Layer norm over K ≥ 64 rows of 25 ≤ C < 112 values runs as instance norm of the (K, 1, C) view
 * (K samples of one C-value channel; gn_forward_short_f32_cf: tiles of rows, their statistics, parameters two rows at a time and
 * the tile normalized from L1), then gamma, beta (and the activation) per column as the
 * channels-last normalize with m = 0: the row kernel's per-row chain (sums, division, square root,
 * division, normalize) cost 25–60 ns a row there, 1.3–2.1× this at C ≤ 64; from 112 values, or
 * below 64 rows (the second kernel call and its temporaries), the row kernel is as fast
 * (docs/performance.md).
 */
const short = (K: number, C: number): boolean => C >= 4 && C < 112 && K >= 64;

/** shortRows' temporaries: the one-pass kernel's scratch, its γ = 1 and β = 0, and columnsAffine's. */
const shortRowsBytes = (C: number): number => aligned(scratchBytes(rt().kernels, "gn_forward_short_f32_cf", { C: 1, S: C })) + aligned(8) + columnsAffineBytes(C);

/** Layer norm of K rows of C (short): f32 mean and invstd to pm, pr (K + 1 values: one past the end is written). */
function shortRows(s: Scope, K: number, C: number, x: number, y: number, p: RowParams, eps: number, pm: number, pr: number, act: number): void {
  const k = rt().kernels, F = s.heap.F32, sc = s.temp(scratchBytes(k, "gn_forward_short_f32_cf", { C: 1, S: C })), one = s.temp(8);
  F[one >>> 2] = 1; F[(one >>> 2) + 1] = 0;
  k.gn_forward_short_f32_cf(K, 1, 1, C, x, one, one + 4, y, eps, pm, pr, sc);
  columnsAffine(s, K, C, y, p, act);
}

/** columnsAffine's temporaries: the zero means and the normalize's scratch. */
export const columnsAffineBytes = (C: number): number => aligned(4 * C) + aligned(scratchBytes(rt().kernels, "bn_normalize_f32_cl", { C }));

/** y = act(y·gamma[c] + beta[c]) in place over R rows of C: the channels-last normalize with m = 0. */
export function columnsAffine(s: Scope, R: number, C: number, y: number, p: RowParams, act: number): void {
  const k = rt().kernels, z = s.temp(4 * C);
  s.heap.F32.fill(0, z >>> 2, (z >>> 2) + C);
  if (act) k.act_normalize_f32_cl(R, C, y, z, p.gamma, p.beta, y, act);
  else k.bn_normalize_f32_cl(R, C, y, z, p.gamma, p.beta, y, s.temp(scratchBytes(k, "bn_normalize_f32_cl", { C })));
}

/** One statistic per row of C (channels-last, or (N, C) with S = 1). */
export const rowsOf = (g: Geometry): boolean => g.channelsLast || g.S === 1;

/**
 * Bytes of temporaries one op call takes (for Scope.commit): the per-channel parameters (gamma,
 * beta, bias) and the larger of the drivers below, forward or backward, each temporary rounded
 * as Scope.temp rounds it. Not counted: the channels-first backward's copy of the activation
 * gradient when dx is x or dy (a tensor-sized heap temporary, never staged).
 */
export function rowTempBytes(g: Geometry): number {
  const { C, S } = g, K = g.N * S, k = rt().kernels;
  const params = 3 * aligned(4 * C), stats = aligned(12 * K);
  if (rowsOf(g)) {
    const fwd = 2 * aligned(4 * K + 4) + (C <= FOUR_ROWS ? aligned(scratchBytes(k, "ln_forward_short_f32_cl", { C })) : short(K, C) ? shortRowsBytes(C) : 0);
    // (With an activation rows of ≤ FOUR_ROWS values take the row kernel's backward too.)
    const bwd = Math.max(scratchBytes(k, "ln_backward_rows_f32_cl", { C }), C <= FOUR_ROWS ? scratchBytes(k, "ln_backward_short_f32_cl", { C }) : 0);
    return params + Math.max(fwd, stats + aligned(12 * C) + aligned(bwd));
  }
  const lnFwd = 2 * aligned(4 * K) + aligned(scratchBytes(k, "ln_forward_f32_cf", { C, S }));
  const rmsFwd = aligned(24 * K) + aligned(scratchBytes(k, "bn_stats_f32_cl", { C: S })) + 2 * aligned(4 * K);
  const bwd = stats + aligned(16 * K) + aligned(16 * C) + aligned(8 * K) + 2 * aligned(8 * K) + aligned(12 * K) + aligned(scratchBytes(k, "ln_backward_reduce_f32_cf", { C, S })) + aligned(4 * C) + aligned(16 * C);
  return params + Math.max(lnFwd, rmsFwd, bwd);
}

/** Forward statistics: mean (layer norm; the f32 rounding of the f64 mean) and 1/sqrt(var + eps) or 1/rms. */
export interface RowStats { mean: Float32Array | null; rstd: Float32Array }

/** The K f32 statistics at pm (none for RMS norm: pm < 0) and pr, copied out into the given result arrays or new ones. */
function statsOut(s: Scope, K: number, pm: number, pr: number, given: StatOutputs): RowStats {
  const F = s.heap.F32, [rs, ms] = resultArrays(K, [given.rstd, pm < 0 ? null : given.mean], true) as [Float32Array, Float32Array | null];
  copyOut(rs, F, pr >>> 2);
  if (ms) copyOut(ms, F, pm >>> 2);
  return { mean: ms, rstd: rs };
}

/** y = act(norm(x)) with the statistics of x. */
export function rowForward(s: Scope, g: Geometry, spec: RowSpec, x: number, y: number, p: RowParams, eps: number, outs: StatOutputs = {}): RowStats {
  const { N, C, S } = g, K = N * S, k = rt().kernels;
  if (rowsOf(g)) {
    const pr = s.temp(4 * K + 4), pm = spec.rms ? -1 : s.temp(4 * K + 4);
    if (C <= FOUR_ROWS) {
      const sc = s.temp(scratchBytes(k, spec.rms ? "rms_forward_short_f32_cl" : "ln_forward_short_f32_cl", { C }));
      if (spec.rms) k.rms_forward_short_f32_cl(K, C, x, p.gamma, y, pr, eps, spec.act, sc);
      else k.ln_forward_short_f32_cl(K, C, x, p.gamma, p.beta, y, pm, pr, eps, spec.act, sc);
    } else if (!spec.rms && short(K, C)) shortRows(s, K, C, x, y, p, eps, pm, pr, spec.act);
    else if (spec.rms) k.rms_forward_f32_cl(K, C, x, p.gamma, y, pr, eps, spec.act);
    else k.ln_forward_f32_cl(K, C, x, p.gamma, p.beta, y, pm, pr, eps, spec.act);
    return statsOut(s, K, pm, pr, outs);
  }
  if (!spec.rms) {
    // Layer norm over the strided channel axis: statistics and normalize per tile of positions.
    const pm = s.temp(4 * K), pr = s.temp(4 * K), tile = s.temp(scratchBytes(k, "ln_forward_f32_cf", { C, S }));
    k.ln_forward_f32_cf(N, C, S, x, p.gamma, p.beta, y, pm, pr, eps, spec.act, tile);
    return statsOut(s, K, pm, pr, outs);
  }
  // RMS norm: Σx² per position from the Welford kernel (mean² + M2/n), then the strided normalize.
  const acc = s.temp(24 * K), scratch = s.temp(scratchBytes(k, "bn_stats_f32_cl", { C: S }));
  s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * K);
  for (let n = 0; n < N; n++) k.bn_stats_f32_cl(C, S, x + 4 * n * C * S, acc + 24 * n * S, scratch);
  // m = b = 0 (no centring), a = 1/rms by a kernel (a JS loop here cost ~4 ns a position: more
  // than the statistics at 3 channels).
  const pz = s.temp(4 * K), pa = s.temp(4 * K);
  s.heap.F32.fill(0, pz >>> 2, (pz >>> 2) + K);
  k.rms_params_f32(K, acc, eps, pa);
  const stats = { mean: null, rstd: resultArrays(K, [outs.rstd], true)[0] as Float32Array };
  copyOut(stats.rstd, s.heap.F32, pa >>> 2);
  k.ln_normalize_f32_cf(N, C, S, x, pz, pa, pz, p.gamma, orZeros(s, C, p.beta), y);
  if (spec.act) k.act_forward_f32(g.size, y, y, spec.act);
  return stats;
}

/** sum = x + skip + bias, then y = act(norm(sum)). bias: pointer to C f32, or 0 when none. */
export function skipForward(s: Scope, g: Geometry, spec: RowSpec, x: number, skip: number, bias: number, sum: number, y: number, p: RowParams, eps: number, outs: StatOutputs = {}): RowStats {
  const { N, C, S } = g, K = N * S, k = rt().kernels;
  if (!rowsOf(g)) {
    k.skip_add_f32_cf(N, C, S, x, skip, orZeros(s, C, bias), sum);
    return rowForward(s, g, spec, sum, y, p, eps, outs);
  }
  const pr = s.temp(4 * K), pm = spec.rms ? pr : s.temp(4 * K);
  k.skip_forward_f32_cl(K, C, x, skip, bias, p.gamma, p.beta, sum, y, pm, pr, eps, spec.rms ? 1 : 0, spec.act);
  return statsOut(s, K, spec.rms ? -1 : pm, pr, outs);
}

/** Parameter gradients: dgamma = Σ g·x̂, dbeta = Σ g (layer norm), dbias = Σ dx (skip norms) per channel. */
export interface RowGrads { dgamma: Float32Array; dbeta: Float32Array | null; dbias: Float32Array | null }

/**
 * Arrays for the gradients a call returns, the caller's where given: dgamma, dbeta (layer norm),
 * dbias (skip). (No closures here: the bundle names each closure made per call, a
 * defineProperty that cost ~10 % of a one-row backward.)
 */
function gradArrays(C: number, rms: boolean, skip: boolean, given: GradOutputs): RowGrads {
  const g = given.dgamma, b = rms ? null : given.dbeta, d = skip ? given.dbias : null;
  if (g !== undefined && b !== undefined && d !== undefined) return { dgamma: g, dbeta: b, dbias: d }; // all given: nothing to make
  const [dgamma, dbeta, dbias] = resultArrays(C, [g, b, d]);
  return { dgamma: dgamma as Float32Array, dbeta, dbias };
}

/**
 * Per-row (m, a, b) of the kernels from the forward's statistics: layer norm m = f32(mean),
 * a = rstd, b = −(mean − m)·rstd (a Float64Array mean keeps its full precision); RMS: 0, rstd, 0.
 * A Float32Array mean (the forward's own) has no residue: m and a copied natively, b = 0 (a JS
 * loop cost ~3 ns a row, 14 % of a backward over rows of 8 values).
 */
function rowParams(s: Scope, K: number, mean: Vec | null, rstd: Vec): number {
  const pp = s.temp(12 * K), F = s.heap.F32, m = pp >>> 2;
  if (!mean || mean instanceof Float32Array) {
    if (mean) F.set(mean, m); else F.fill(0, m, m + K);
    F.set(rstd as ArrayLike<number>, m + K);
    F.fill(0, m + 2 * K, m + 3 * K);
    return pp;
  }
  for (let i = 0; i < K; i++) {
    const inv = rstd[i];
    if (!mean) { F[m + i] = 0; F[m + K + i] = inv; F[m + 2 * K + i] = 0; continue; }
    const hi = Math.fround(mean[i]);
    F[m + i] = hi; F[m + K + i] = inv; F[m + 2 * K + i] = -(mean[i] - hi) * inv;
  }
  return pp;
}

/** Where the channels-first activation gradient goes: dx's memory unless dx aliases x, dy or dsum (0: none). */
function gradBuffer(s: Scope, g: Geometry, x: number, dy: number, dx: number, dsum: number): number {
  return dx !== x && dx !== dy && dx !== dsum ? dx : s.temp(4 * g.size);
}

/**
 * dx of y = act(norm(x)) (+ dsum: pointer, or 0 for none — skip norms only) and the parameter
 * gradients. mean: null for RMS norm. skip: dbias is computed.
 */
export function rowBackward(s: Scope, g: Geometry, spec: RowSpec, skip: boolean, x: number, dy: number, dsum: number, dx: number, p: RowParams, mean: Vec | null, rstd: Vec, outs: GradOutputs = {}): RowGrads {
  const { N, C, S } = g, K = N * S, k = rt().kernels;
  const pp = rowParams(s, K, mean, rstd), pm = pp, pa = pp + 4 * K, pb = pp + 8 * K;
  if (rowsOf(g)) {
    const four = !skip && !spec.act && C <= FOUR_ROWS;
    const cacc = s.temp(12 * C), scratch = s.temp(scratchBytes(k, four ? "ln_backward_short_f32_cl" : "ln_backward_rows_f32_cl", { C }));
    if (four) k.ln_backward_short_f32_cl(K, C, x, dy, pm, pa, pb, p.gamma, dx, cacc, scratch, spec.rms ? 1 : 0);
    else if (skip) k.skip_backward_f32_cl(K, C, x, dy, dsum, pm, pa, pb, p.gamma, p.beta, dx, cacc, scratch, spec.rms ? 1 : 0, spec.act);
    else if (spec.rms) k.rms_backward_f32_cl(K, C, x, dy, pa, p.gamma, p.beta, dx, cacc, scratch, spec.act);
    else k.ln_backward_rows_f32_cl(K, C, x, dy, pm, pa, pb, p.gamma, p.beta, dx, cacc, scratch, spec.act);
    // Planes of C f32 written by the kernel (dbeta, dgamma, dbias), copied out natively.
    const r = gradArrays(C, spec.rms, skip, outs), P = s.heap.F32, w = cacc >>> 2;
    copyOut(r.dgamma, P, w + C);
    if (r.dbeta) copyOut(r.dbeta, P, w);
    if (r.dbias) copyOut(r.dbias, P, w + 2 * C);
    return r;
  }
  let gy = dy;
  if (spec.act) {
    gy = gradBuffer(s, g, x, dy, dx, dsum);
    k.ln_normalize_f32_cf(N, C, S, x, pm, pa, pb, p.gamma, p.beta, gy);
    k.act_backward_f32(g.size, gy, dy, gy, spec.act);
  }
  const sacc = s.temp(16 * K), cacc = s.temp(16 * C), p1 = s.temp(8 * K);
  const scratch = s.temp(scratchBytes(k, "ln_backward_reduce_f32_cf", { C, S }));
  s.heap.F64.fill(0, cacc >>> 3, (cacc >>> 3) + 2 * C);
  k.ln_backward_reduce_f32_cf(N, C, S, x, gy, pm, pa, pb, p.gamma, sacc, cacc, scratch);
  // dx = g·(a·γ) + (x − m)·c1 + c0, the (x − mean) form with the mean's residue lo = mean − m
  // folded into c0: per statistic Sx = Σγg·(x − m) − lo·Sg, c1 = −a³·Sx/C, c0 = −a·Sg/C − lo·c1
  // (RMS: 0), by batch norm's parameter kernel with γ = 1 and count C (the same f64 operations a
  // JS loop made: ~5 ns a statistic, half of a backward over 3 channels). Its k and parameter
  // gradients go to a temporary.
  // (Temporaries first: taking one may grow memory and detach an earlier view.) dx goes to a
  // temporary where its memory is dsum's (skip norms add dsum to it afterwards).
  const mu = s.temp(8 * K), w = s.temp(8 * K), junk = s.temp(12 * K), dd = dsum && dsum === dx ? s.temp(4 * g.size) : dx, F = s.heap.F64;
  if (mean) F.set(mean as ArrayLike<number>, mu >>> 3); else F.fill(0, mu >>> 3, (mu >>> 3) + K);
  F.set(rstd as ArrayLike<number>, w >>> 3);
  k.bn_params_backward_f32(K, sacc, mu, w, 0, 0, C, pm, junk, p1, p1 + 4 * K, junk + 4 * K);
  if (!mean) s.heap.F32.fill(0, (p1 >>> 2) + K, (p1 >>> 2) + 2 * K);
  const grads = gradArrays(C, spec.rms, skip, outs), CA = s.heap.F64, ca = cacc >>> 3;
  for (let c = 0; c < C; c++) { if (grads.dbeta) grads.dbeta[c] = CA[ca + 2 * c]; grads.dgamma[c] = CA[ca + 2 * c + 1]; }
  k.ln_backward_dx_f32_cf(N, C, S, x, gy, pm, pa, p1, p1 + 4 * K, p.gamma, dd);
  if (!skip) return grads;
  const zeros = orZeros(s, C, 0), acc = s.temp(16 * C);
  if (dsum) k.skip_add_f32_cf(N, C, S, dd, dsum, zeros, dx);
  s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 2 * C);
  k.bn_backward_reduce_f32_cf(N, C, S, dx, dx, zeros, acc);
  const D = s.heap.F64, a = acc >>> 3, dbias = grads.dbias!;
  for (let c = 0; c < C; c++) dbias[c] = D[a + 2 * c];
  return grads;
}
