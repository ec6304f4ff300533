// RMS norm's per-statistic scale from Welford triples (channels-first RMS norm: the statistics of
// each position over the channel rows come from bn_stats_f32_cl as (count, mean, M2)).

/**
 * R triples (count, mean, M2) at acc → rstd (R f32) = 1/sqrt(M2/count + mean² + eps), the mean
 * square taken as variance plus squared mean, in f64 and rounded once; two statistics to an f64x2
 * (the triples unpacked by shuffles, as bn_params_finish_f64).
 */
export function rms_params_f32(R: i32, acc: usize, eps: f64, rstd: usize): void {
  const E = R & ~1, e = f64x2.splat(eps), one = f64x2.splat(1);
  for (let i = 0; i < E; i += 2) {
    const t = acc + <usize>i * 24;
    const A = v128.load(t), B = v128.load(t, 16), D = v128.load(t, 32);
    const n = v128.shuffle<f64>(A, B, 0, 3), m = v128.shuffle<f64>(A, D, 1, 2), M = v128.shuffle<f64>(B, D, 0, 3);
    const q = f64x2.add(f64x2.add(f64x2.div(M, n), f64x2.mul(m, m)), e);
    v128.store64_lane(rstd + (<usize>i << 2), f32x4.demote_f64x2_zero(f64x2.div(one, f64x2.sqrt(q))), 0);
  }
  if (E < R) {
    const t = acc + <usize>E * 24, m = load<f64>(t, 8);
    store<f32>(rstd + (<usize>E << 2), <f32>(1 / Math.sqrt(load<f64>(t, 16) / load<f64>(t) + m * m + eps)));
  }
}
