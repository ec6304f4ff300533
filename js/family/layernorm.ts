// Layer norm: statistics per (sample, position) over the channel axis, affine per channel.
//
// Channels-last data (and (N, C) data) is N·S rows of C: one statistic per row, from
// stats_f32_cf on the (1, N·S, C) view. Channels-first data is per sample a (C, S) block: one
// statistic per column, from stats_f32_cl on that block (C rows of S columns). Normalize and
// backward combine per-statistic and per-channel parameters: assembly/layernorm.ts.
import { withScope } from "../scope";
import { rt } from "../runtime";
import type { Geometry } from "../layout";
import type { TensorLike } from "../tensor";
import {
  checkForward, checkBackward, wantsTensor, splitMeans, affineOrIdentity,
  type NormOptions, type NormResult, type NormBackwardOptions, type NormBackwardResult,
} from "./common";

/** One statistic per row of C (channels-last, or (N, C) with S = 1). */
const rowsOf = (g: Geometry): boolean => g.channelsLast || g.S === 1;

function tempBytes(g: Geometry): number {
  const K = g.N * g.S;
  const L = rowsOf(g) ? 0 : rt().kernels.pattern_len(g.S);
  return 40 * K + 16 * L + 40 * g.C + 8 * Math.min(g.S, 4096) + 4096;
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
    s.heap.F64.fill(0, acc >> 3, (acc >> 3) + 3 * K);
    if (rowsOf(g)) k.stats_f32_cf(1, K, C, xa.ptr, acc);
    else {
      const scratch = s.temp(16 * k.pattern_len(S));
      for (let n = 0; n < N; n++) k.stats_f32_cl(C, S, xa.ptr + 4 * n * C * S, acc + 24 * n * S, scratch);
    }
    const F = s.heap.f64(acc, 3 * K);
    const mean = new Float32Array(K), invstd = new Float32Array(K), a = new Float32Array(K), b = new Float32Array(K);
    for (let i = 0; i < K; i++) {
      const mu = F[3 * i + 1], inv = 1 / Math.sqrt(F[3 * i + 2] / F[3 * i] + eps);
      mean[i] = mu; invstd[i] = inv; a[i] = inv; b[i] = -(mu - mean[i]) * inv;
    }
    const pm = s.f32(mean), pa = s.f32(a), pb = s.f32(b);
    const pg = s.f32(affineOrIdentity(C, o.gamma, 1)), pt = s.f32(affineOrIdentity(C, o.beta, 0));
    if (rowsOf(g)) k.layernorm_normalize_f32_cl(K, C, xa.ptr, pm, pa, pb, pg, pt, ya.ptr);
    else k.layernorm_normalize_f32_cf(N, C, S, xa.ptr, pm, pa, pb, pg, pt, ya.ptr);
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
    const { hi, lo } = splitMeans(o.mean);
    const a = new Float32Array(K), b = new Float32Array(K);
    for (let i = 0; i < K; i++) { a[i] = o.invstd[i]; b[i] = -lo[i] * o.invstd[i]; }
    const pm = s.f32(hi), pa = s.f32(a), pb = s.f32(b), pg = s.f32(affineOrIdentity(C, o.gamma, 1));
    const sacc = s.temp(16 * K), cacc = s.temp(16 * C);
    s.heap.F64.fill(0, cacc >> 3, (cacc >> 3) + 2 * C);
    if (rowsOf(g)) k.layernorm_backward_reduce_f32_cl(K, C, xa.ptr, da.ptr, pm, pa, pb, pg, sacc, cacc, s.temp(8 * C));
    else k.layernorm_backward_reduce_f32_cf(N, C, S, xa.ptr, da.ptr, pm, pa, pb, pg, sacc, cacc, s.temp(8 * Math.min(S, 4096)));
    const F = s.heap.F64, sp = sacc >> 3, cp = cacc >> 3;
    const kk = new Float32Array(K), c1 = new Float32Array(K), c0 = new Float32Array(K);
    for (let i = 0; i < K; i++) {
      const inv = o.invstd[i], A = F[sp + 2 * i], B = F[sp + 2 * i + 1] - lo[i] * A;
      const cc1 = -inv * inv * inv * B / C;
      kk[i] = inv; c1[i] = cc1; c0[i] = -inv * A / C - lo[i] * cc1;
    }
    const dgamma = new Float32Array(C), dbeta = new Float32Array(C);
    for (let c = 0; c < C; c++) { dbeta[c] = F[cp + 2 * c]; dgamma[c] = F[cp + 2 * c + 1]; }
    const pk = s.f32(kk), p1 = s.f32(c1), p0 = s.f32(c0);
    if (rowsOf(g)) k.layernorm_backward_dx_f32_cl(K, C, xa.ptr, da.ptr, pm, pk, p1, p0, pg, oa.ptr);
    else k.layernorm_backward_dx_f32_cf(N, C, S, xa.ptr, da.ptr, pm, pk, p1, p0, pg, oa.ptr);
    return { dx: s.result(oa), dgamma, dbeta };
  });
}
