// Layer norm: statistics per (sample, position) over the channel axis, affine per channel.
//
// Channels-last data (and (N, C) data) is N·S rows of C: one statistic per row, from
// bn_stats_f32_cf on the (1, N·S, C) view. Channels-first data is per sample a (C, S) block: one
// statistic per column, from bn_stats_f32_cl on that block (C rows of S columns). Normalize and
// backward combine per-statistic and per-channel parameters: assembly/ln_normalize.ts, ln_backward.ts.
import { withScope } from "../../core/scope";
import { rt } from "../../core/runtime";
import { scratchBytes } from "../../core/kernel-table";
import type { Geometry } from "../../core/layout";
import type { TensorLike } from "../../core/tensor";
import {
  checkForward, checkBackward, wantsTensor, affineOrIdentity,
  type NormOptions, type NormResult, type NormBackwardOptions, type NormBackwardResult,
} from "./common";

/** One statistic per row of C (channels-last, or (N, C) with S = 1). */
const rowsOf = (g: Geometry): boolean => g.channelsLast || g.S === 1;

function tempBytes(g: Geometry): number {
  const K = g.N * g.S;
  const k = rt().kernels;
  const stats = rowsOf(g) ? 0 : scratchBytes(k, "bn_stats_f32_cl", { C: g.S });
  const reduce = scratchBytes(k, rowsOf(g) ? "ln_backward_reduce_f32_cl" : "ln_backward_reduce_f32_cf", { C: g.C, S: g.S });
  return 40 * K + stats + 40 * g.C + reduce + 4096;
}

/**
 * Layer norm: statistics per (sample, position) over the channel axis only (Welford, f64),
 * per-channel affine: LayerNorm of (N, L, C) sequences, of (N, C) features, and of
 * channels-last images; channels-first layouts work too (the channel axis is strided).
 * @param x Float32Array (copied in and out once) or Tensor (zero-copy) in `layout`.
 * @returns y, and mean / invstd as Float32Array(N·S) in (n, position) order.
 * @throws on bad shapes/lengths (gamma, beta must have C values), eps < 0. Nothing is written
 *   on failure. `out` may be x (in place).
 * @example const { y } = layerNorm(x, { shape: [8, 196, 768], layout: "NLC", gamma, beta });
 */
export function layerNorm(x: TensorLike, opts: NormOptions = {}): NormResult {
  const { g, o, eps } = checkForward(x, opts);
  const { N, C, S } = g, K = N * S;
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(tempBytes(g));
    const k = rt().kernels;
    const acc = s.temp(24 * K);
    s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * K);
    if (rowsOf(g)) k.bn_stats_f32_cf(1, K, C, xa.ptr, acc);
    else {
      const scratch = s.temp(scratchBytes(k, "bn_stats_f32_cl", { C: S }));
      for (let n = 0; n < N; n++) k.bn_stats_f32_cl(C, S, xa.ptr + 4 * n * C * S, acc + 24 * n * S, scratch);
    }
    // Per-statistic parameters are written straight into wasm memory (K = N·S can be large).
    const pm = s.temp(4 * K), pa = s.temp(4 * K), pb = s.temp(4 * K);
    const pg = s.f32(affineOrIdentity(C, o.gamma, 1)), pt = s.f32(affineOrIdentity(C, o.beta, 0));
    const F = s.heap.F64, M = s.heap.f32(pm, K), A = s.heap.f32(pa, K), B = s.heap.f32(pb, K);
    for (let i = 0, t = acc >>> 3; i < K; i++, t += 3) {
      const mu = F[t + 1], inv = 1 / Math.sqrt(F[t + 2] / F[t] + eps), hi = Math.fround(mu);
      M[i] = hi; A[i] = inv; B[i] = -(mu - hi) * inv;
    }
    const mean = M.slice(), invstd = A.slice();
    if (rowsOf(g)) k.ln_normalize_f32_cl(K, C, xa.ptr, pm, pa, pb, pg, pt, ya.ptr);
    else k.ln_normalize_f32_cf(N, C, S, xa.ptr, pm, pa, pb, pg, pt, ya.ptr);
    return { y: s.result(ya), mean, invstd };
  });
}

/**
 * Layer norm backward from the forward's mean / invstd (N·S values, (n, position) order):
 * dx, dgamma, dbeta. Two passes: per statistic Σγdy and Σγdy·(x − μ) (and per channel Σdy,
 * Σdy·x̂ in the same pass), then dx = invstd·(γ·dy − Σγdy/C − x̂·Σγdy·x̂/C), in the (x − μ) form.
 * @throws on bad shapes/lengths (dy, out, gamma, mean, invstd). `out` may be x or dy (in place).
 */
export function layerNormBackward(x: TensorLike, dy: TensorLike, opts: NormBackwardOptions): NormBackwardResult {
  const { g, o } = checkBackward(x, dy, opts, (geo) => geo.N * geo.S, "(sample, position) statistics");
  const { N, C, S } = g, K = N * S;
  return withScope((s) => {
    const xa = s.input("x", x, g.size), da = s.input("dy", dy, g.size);
    const oa = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(tempBytes(g));
    const k = rt().kernels;
    const pm = s.temp(4 * K), pa = s.temp(4 * K), pb = s.temp(4 * K), pc = s.temp(4 * K), p0 = s.temp(4 * K);
    const sacc = s.temp(16 * K), cacc = s.temp(16 * C), pg = s.f32(affineOrIdentity(C, o.gamma, 1));
    const scratch = s.temp(scratchBytes(k, rowsOf(g) ? "ln_backward_reduce_f32_cl" : "ln_backward_reduce_f32_cf", { C, S }));
    const F = s.heap.F64, M = s.heap.f32(pm, K), A = s.heap.f32(pa, K), B = s.heap.f32(pb, K), P = s.heap.f32(pc, K), P0 = s.heap.f32(p0, K);
    const mean = o.mean, invstd = o.invstd;
    for (let i = 0; i < K; i++) {
      const hi = Math.fround(mean[i]);
      M[i] = hi; A[i] = invstd[i]; B[i] = -(mean[i] - hi) * invstd[i];
    }
    F.fill(0, cacc >>> 3, (cacc >>> 3) + 2 * C);
    if (rowsOf(g)) k.ln_backward_reduce_f32_cl(K, C, xa.ptr, da.ptr, pm, pa, pb, pg, sacc, cacc, scratch);
    else k.ln_backward_reduce_f32_cf(N, C, S, xa.ptr, da.ptr, pm, pa, pb, pg, sacc, cacc, scratch);
    // dx = dy·(k·γ) + (x − m)·c1 + c0 with k = invstd (already in A), c1 → P, c0 → P0.
    for (let i = 0, t = sacc >>> 3; i < K; i++, t += 2) {
      const inv = invstd[i], lo = mean[i] - M[i], Sg = F[t], Sx = F[t + 1] - lo * Sg;
      const c1 = -inv * inv * inv * Sx / C;
      P[i] = c1; P0[i] = -inv * Sg / C - lo * c1;
    }
    const dgamma = new Float32Array(C), dbeta = new Float32Array(C);
    for (let c = 0, t = cacc >>> 3; c < C; c++, t += 2) { dbeta[c] = F[t]; dgamma[c] = F[t + 1]; }
    if (rowsOf(g)) k.ln_backward_dx_f32_cl(K, C, xa.ptr, da.ptr, pm, pa, pc, p0, pg, oa.ptr);
    else k.ln_backward_dx_f32_cf(N, C, S, xa.ptr, da.ptr, pm, pa, pc, p0, pg, oa.ptr);
    return { dx: s.result(oa), dgamma, dbeta };
  });
}
