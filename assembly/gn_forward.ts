// Instance norm (group norm with one channel per group) on channels-first short rows, in one
// pass: each row of S values (4 ≤ S < SHORT_ROW: 7 × 7 maps) is its own statistic, so the row
// is summed, its mean and invstd computed, and the row normalized while it is still in L1 —
// instead of a statistics kernel, two parameter kernels and a normalize kernel, each paying
// per-row setup on rows of a dozen vectors (docs/performance.md). Same numerics and roundings
// as that path: sums of a row in f32 lanes around 0; a row failing the cancellation check
// (data far from zero) is redone by stats_block (shifted, exact two-pass); mean and M2 in f64;
// invstd = 1/sqrt(M2/S + eps); m = f32(mean), scale = f32(γ·invstd),
// shift = f32(β − (mean − m)·γ·invstd); y = (x − m)·scale + shift.
import { tail_mask, row_sums } from "./cf_short";
import { sums_ok, stats_block } from "./bn_stats";

/**
 * (N, C, S) channels-first, 4 ≤ S < SHORT_ROW: per (n, c) row the statistics and y. gamma, beta:
 * C f32 (JS passes ones / zeros when absent). Writes per row (n, c order) the f32 mean and
 * invstd. y may alias x (the last vector of a row is loaded before the row is stored). acc: a
 * 24-byte scratch triple for the rows stats_block redoes.
 */
export function gn_forward_f32_cf(N: i32, C: i32, S: i32, x: usize, gamma: usize, beta: usize, eps: f64, y: usize, mean: usize, invstd: usize, acc: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  const mask = tail_mask(S), cnt = <f64>S;
  let px = x, py = y, c = 0;
  const R = N * C;
  for (let r = 0; r < R; r++, px += stride, py += stride) {
    const v = row_sums(px, body, last, mask);
    const s1 = f64x2.extract_lane(v, 0), s2 = f64x2.extract_lane(v, 1);
    let mu = s1 / cnt, m2 = max(s2 - s1 * mu, 0);
    if (!sums_ok(s1, s2, cnt)) {
      memory.fill(acc, 0, 24);
      stats_block(acc, px, S);
      mu = load<f64>(acc, 8); m2 = load<f64>(acc, 16);
    }
    const iv = 1.0 / Math.sqrt(m2 / cnt + eps), hi = <f32>mu;
    const co = <usize>c << 2, sc = <f64>load<f32>(gamma + co) * iv;
    const o = <usize>r << 2;
    store<f32>(mean + o, hi);
    store<f32>(invstd + o, <f32>iv);
    const mv = f32x4.splat(hi), sv = f32x4.splat(<f32>sc), tv = f32x4.splat(<f32>(<f64>load<f32>(beta + co) - (mu - <f64>hi) * sc));
    const t = v128.load(px + last);
    for (let j: usize = 0; j < body; j += 16) v128.store(py + j, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + j), mv), sv), tv));
    v128.store(py + last, f32x4.add(f32x4.mul(f32x4.sub(t, mv), sv), tv));
    if (++c == C) c = 0;
  }
}
