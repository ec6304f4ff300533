// One (count, mean, M2) per channels-first row of 128–1024 values, four rows at a time: batch
// norm at N = 1 (one row per channel) and instance norm's (1, N·C, S) view. Row by row
// (stats_block) each row paid its horizontal sums, cancellation check, division and Chan merge
// (~17 ns) on top of a loop of 8–64 iterations: 0.35–0.64 × the Σx, Σx² loop at 128–256 values.
// Here four rows run side by side, one f32x4 sum and one sum of squares each (eight
// independent chains, like the loop's four pairs), their lanes reduced together (one transpose)
// and checked and stored in f64x2 pairs. Same numerics as stats_block on a fresh triple: f32
// lanes around a shift of 0 (what shift_of gives an empty triple; a lane sums ≤ 256 values, as
// in a 4096-value block), the same cancellation check (sums_ok), the values block_merge would
// store into an empty triple. Two rows whose triples already hold data, or where either row
// fails the check, and the last R mod 4 rows go through stats_block.
import { stats_block, TINY } from "./bn_stats";
import { tail_mask } from "./cf_short";

/** Longest rows taken four at a time (a lane then sums ≤ 256 values, as in a BLOCK of 4096). */
export const ROWS4_MAX: i32 = 1024;

/** Lane sums of four f32x4 as one f32x4 (Σa, Σb, Σc, Σd), added in f32. */
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 4, 2, 6), i32x4.shuffle(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 4, 2, 6), i32x4.shuffle(c, d, 1, 5, 3, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/**
 * Two rows of S values at p (the second right after the first), their sums as f64x2 s (Σx of
 * each row) and q (Σx² of each), into their triples at a and a + 24: stored as
 * block_merge into (0, 0, 0) would, when both triples are empty and both rows pass bn_stats'
 * sums_ok ((Σx)² ≤ ¾·S·Σx², Σx² finite and not underflowed: ≥ 2⁻¹⁰⁰ or 0; false for NaN);
 * else both rows go through stats_block.
 */
function finish_pair(a: usize, p: usize, S: i32, s: v128, q: v128): void {
  const nb = f64x2.splat(<f64>S), zero = f64x2.splat(0);
  const fits = v128.and(f64x2.le(f64x2.mul(s, s), f64x2.mul(f64x2.splat(0.75 * <f64>S), q)), f64x2.ne(q, f64x2.splat(Infinity)));
  const ok = v128.and(fits, v128.or(f64x2.ge(q, f64x2.splat(TINY)), f64x2.eq(q, zero)));
  if (v128.any_true(v128.or(v128.or(v128.load(a), v128.load(a, 16)), v128.load(a, 32))) || !i64x2.all_true(ok)) {
    stats_block(a, p, S); stats_block(a + 24, p + (<usize>S << 2), S);
    return;
  }
  const mean = f64x2.div(s, nb), m2 = f64x2.pmax(f64x2.sub(q, f64x2.mul(s, mean)), zero);
  v128.store(a, v128.shuffle<f64>(nb, mean, 0, 2));
  v128.store(a, v128.shuffle<f64>(m2, nb, 0, 3), 16);
  v128.store(a, v128.shuffle<f64>(mean, m2, 1, 3), 32);
}

/**
 * Merges the statistics of R rows of S values (4 ≤ S ≤ ROWS4_MAX; bn_stats_f32_cf sends
 * 128 ≤ S; row r at x + 4·r·S) into the
 * triples at acc + 24·r (fast when they are zero, as a fresh call's are). Tail: each row's last
 * vector ends at its last value, the lanes the body counts masked off.
 */
export function stats_rows4(R: i32, S: i32, x: usize, acc: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  const mask = tail_mask(S);
  let p = x, a = acc, r = 0;
  for (; r + 4 <= R; r += 4, p += stride << 2, a += 96) {
    const p1 = p + stride, p2 = p1 + stride, p3 = p2 + stride;
    const t0 = v128.and(v128.load(p + last), mask), t1 = v128.and(v128.load(p1 + last), mask);
    const t2 = v128.and(v128.load(p2 + last), mask), t3 = v128.and(v128.load(p3 + last), mask);
    let s0 = t0, q0 = f32x4.mul(t0, t0), s1 = t1, q1 = f32x4.mul(t1, t1);
    let s2 = t2, q2 = f32x4.mul(t2, t2), s3 = t3, q3 = f32x4.mul(t3, t3);
    for (let o: usize = 0; o < body; o += 16) {
      const u0 = v128.load(p + o), u1 = v128.load(p1 + o), u2 = v128.load(p2 + o), u3 = v128.load(p3 + o);
      s0 = f32x4.add(s0, u0); q0 = f32x4.add(q0, f32x4.mul(u0, u0));
      s1 = f32x4.add(s1, u1); q1 = f32x4.add(q1, f32x4.mul(u1, u1));
      s2 = f32x4.add(s2, u2); q2 = f32x4.add(q2, f32x4.mul(u2, u2));
      s3 = f32x4.add(s3, u3); q3 = f32x4.add(q3, f32x4.mul(u3, u3));
    }
    const s = sum4(s0, s1, s2, s3), q = sum4(q0, q1, q2, q3);
    finish_pair(a, p, S, f64x2.promote_low_f32x4(s), f64x2.promote_low_f32x4(q));
    finish_pair(a + 48, p2, S, f64x2.promote_low_f32x4(i64x2.splat(i64x2.extract_lane(s, 1))), f64x2.promote_low_f32x4(i64x2.splat(i64x2.extract_lane(q, 1))));
  }
  for (; r < R; r++, p += stride, a += 24) stats_block(a, p, S);
}
