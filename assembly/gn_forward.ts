// Instance norm (group norm with one channel per group) on channels-first short rows: each row
// of S values (4 ≤ S < SHORT_ROW: 7 × 7 maps) is its own statistic. Instead of a statistics
// kernel, two parameter kernels and a normalize kernel, each paying per-row setup on rows of a
// dozen vectors, rows go in tiles of TILE: first every row's sums, mean, invstd and parameters
// (independent rows, so the f64 division and square-root chains of one row overlap the next
// row's sums), then the tile is normalized from L1 by normalize_short. (Normalizing each row
// right after its statistics waited on that chain every row: 0.2× of this.) Same numerics and
// roundings as the kernels it replaces: a row's sums in f32 lanes around 0; a row failing the
// cancellation check (data far from zero) is redone by stats_block (shifted, exact two-pass);
// mean and M2 in f64; invstd = 1/sqrt(M2/S + eps); m = f32(mean), scale = f32(γ·invstd),
// shift = f32(β − (mean − m)·γ·invstd); y = (x − m)·scale + shift.
import { tail_mask, row_sums, normalize_short } from "./cf_short";
import { sums_ok, stats_block } from "./bn_stats";

/** Rows per tile (their parameters: 2·TILE f32 in scratch; 64 rows of 49 values are 12.5 KB). */
const TILE: i32 = 64;

/**
 * (N, C, S) channels-first, 4 ≤ S < SHORT_ROW: per (n, c) row the statistics and y. gamma, beta:
 * C f32 (JS passes ones / zeros when absent). Writes per row (n, c order) the f32 mean and
 * invstd. y may alias x. scratch: 8·TILE + 32 bytes (the tile's scale and shift planes, and a
 * triple for the rows stats_block redoes).
 */
export function gn_forward_f32_cf(N: i32, C: i32, S: i32, x: usize, gamma: usize, beta: usize, eps: f64, y: usize, mean: usize, invstd: usize, scratch: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  const mask = tail_mask(S), cnt = <f64>S, R = N * C;
  const sp = scratch, tp = scratch + (<usize>TILE << 2), tri = scratch + (<usize>TILE << 3);
  let c = 0;
  for (let r0 = 0; r0 < R; r0 += TILE) {
    const rn = min(TILE, R - r0), p0 = x + <usize>r0 * stride;
    let px = p0;
    for (let i = 0; i < rn; i++, px += stride) {
      const v = row_sums(px, body, last, mask);
      const s1 = f64x2.extract_lane(v, 0), s2 = f64x2.extract_lane(v, 1);
      let mu = s1 / cnt, m2 = max(s2 - s1 * mu, 0);
      if (!sums_ok(s1, s2, cnt)) {
        memory.fill(tri, 0, 24);
        stats_block(tri, px, S);
        mu = load<f64>(tri, 8); m2 = load<f64>(tri, 16);
      }
      const iv = 1.0 / Math.sqrt(m2 / cnt + eps), hi = <f32>mu;
      const co = <usize>c << 2, sc = <f64>load<f32>(gamma + co) * iv;
      const o = <usize>(r0 + i) << 2, t = <usize>i << 2;
      store<f32>(mean + o, hi);
      store<f32>(invstd + o, <f32>iv);
      store<f32>(sp + t, <f32>sc);
      store<f32>(tp + t, <f32>(<f64>load<f32>(beta + co) - (mu - <f64>hi) * sc));
      if (++c == C) c = 0;
    }
    const q = <usize>r0 * stride;
    normalize_short(rn, rn, S, p0, y + q, mean + (<usize>r0 << 2), sp, tp);
  }
}
