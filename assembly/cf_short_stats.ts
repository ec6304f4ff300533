// One (count, mean, M2) per short channels-first row: instance norm's (1, N·C, S) view and
// batch norm at N = 1, rows of 4 ≤ S < 128 values. Row by row (stats_block) the data was the
// smaller part: a row's horizontal sums, check, division and merge (another division) form one
// dependency chain of ~55 cycles against ~11 for reading 49 values (docs/performance.md). Here
// two rows go together: their f32 sums side by side (one horizontal reduction for both), the
// check and the mean in f64x2 lanes. The same method as stats_block (f32 lanes around a shift of
// 0, what shift_of gives an empty triple; the same cancellation check, sums_ok; the values
// block_merge would store into an empty triple), except that Σx² = 0 is not taken as variance 0
// (tiny data's squares underflow) — but not the same bits: the lanes are summed in another order
// (eight chains, then one horizontal reduction in f32), so a row gets statistics a few ulp apart
// from the ones stats_block gives it (as the odd last row of an odd count). A pair whose triples
// already hold data and a pair where either row fails the check go row by row through
// settle_block with the sums already taken (redone around the row's mean, or exact: an all-zero
// row merged as it is, tiny data exact); an odd last row through stats_block.
import { stats_block, settle_block, TINY } from "./bn_stats";
import { tail_mask, pair_sum } from "./cf_short";

/**
 * Merges the statistics of R rows of S values (4 ≤ S ≤ BLOCK; row r at x + 4·r·S) into the
 * triples at acc + 24·r (fast when they are zero, as a fresh call's are). Tail: each row's last vector ends at its last value, the lanes the
 * body counted masked off. far: the rows are read from memory (past FAR_VALUES: common.ts past), where
 * rows of ≥ LONG_ROW values are summed one after the other.
 */
export function stats_rows_short(R: i32, S: i32, x: usize, acc: usize, far: bool): void {
  // Two loops in two functions: with both in one, the side-by-side loop ran 0.95× (a call in the
  // loop moves its constants to the stack).
  if (far && S >= LONG_ROW) pairs_long(R, S, x, acc);
  else pairs_short(R, S, x, acc);
  if (R & 1) stats_block(acc + <usize>(R - 1) * 24, x + (<usize>(R - 1) * <usize>S << 2), S);
}

/** Pairs of rows (R rounded down to even), each row's vectors side by side with its partner's. */
function pairs_short(R: i32, S: i32, x: usize, acc: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2, mask = tail_mask(S);
  let p = x, a = acc;
  for (let r = 0; r + 2 <= R; r += 2, p += stride << 1, a += 48) {
    const pb = p + stride;
    const ta = v128.and(v128.load(p + last), mask), tb = v128.and(v128.load(pb + last), mask);
    // Two vectors of each row a step into two accumulator sets (eight chains): one vector a
    // step (four chains) was latency-bound, 1.16× slower on 7 × 7 rows (docs/performance.md).
    let sa = ta, qa = f32x4.mul(ta, ta), sb = tb, qb = f32x4.mul(tb, tb);
    let sa1 = f32x4.splat(0), qa1 = f32x4.splat(0), sb1 = f32x4.splat(0), qb1 = f32x4.splat(0);
    let o: usize = 0;
    for (; o + 32 <= body; o += 32) {
      const u = v128.load(p + o), v = v128.load(pb + o), u1 = v128.load(p + o, 16), v1 = v128.load(pb + o, 16);
      sa = f32x4.add(sa, u); qa = f32x4.add(qa, f32x4.mul(u, u));
      sb = f32x4.add(sb, v); qb = f32x4.add(qb, f32x4.mul(v, v));
      sa1 = f32x4.add(sa1, u1); qa1 = f32x4.add(qa1, f32x4.mul(u1, u1));
      sb1 = f32x4.add(sb1, v1); qb1 = f32x4.add(qb1, f32x4.mul(v1, v1));
    }
    if (o < body) {
      const u = v128.load(p + o), v = v128.load(pb + o);
      sa1 = f32x4.add(sa1, u); qa1 = f32x4.add(qa1, f32x4.mul(u, u));
      sb1 = f32x4.add(sb1, v); qb1 = f32x4.add(qb1, f32x4.mul(v, v));
    }
    pair_store(a, p, pb, S, pair_sum(f32x4.add(sa, sa1), f32x4.add(sb, sb1)), pair_sum(f32x4.add(qa, qa1), f32x4.add(qb, qb1)));
  }
}

/**
 * Pairs of rows (R rounded down to even), row a then row b: one stream in memory order. Side by
 * side (two streams a row apart, and each row's last vector loaded before its body, which turns
 * the prefetchers' stream around on rows of ~100 values) rows of 96–784 values ran at 0.34–0.5 ×
 * the Σx, Σx² loop past the caches (docs/performance.md).
 */
function pairs_long(R: i32, S: i32, x: usize, acc: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2, mask = tail_mask(S);
  let p = x, a = acc;
  for (let r = 0; r + 2 <= R; r += 2, p += stride << 1, a += 48) {
    const pb = p + stride, ra = row_sq(p, body, last, mask), rb = row_sq(pb, body, last, mask);
    pair_store(a, p, pb, S, v128.shuffle<f64>(ra, rb, 0, 2), v128.shuffle<f64>(ra, rb, 1, 3));
  }
}

/**
 * The triples of rows p and pb (S values each) at a and a + 24 from their sums s = (Σa, Σb) and
 * q = (Σa², Σb²) (f32 totals widened to f64), or both rows through settle_block with them.
 */
@inline function pair_store(a: usize, p: usize, pb: usize, S: i32, s: v128, q: v128): void {
  // Both triples empty (a fresh start, as instance norm's are) and both rows' sums pass
  // sums_ok (false for NaN): Chan's merge into (0, 0, 0) stores the block's own (count, mean,
  // M2), block_merge's values with shift 0 (stats_block's method; the f32 sums in another order).
  // Σx² = 0 is not accepted: the row is all zero, or its squares underflowed (data within
  // 2⁻⁷⁵ of 0, e.g. ±1e-30) and the sums say nothing about its variance (stats_block decides).
  const cnt = <f64>S, lim = f64x2.splat(0.75 * cnt);
  const ok = v128.and(v128.and(f64x2.le(f64x2.mul(s, s), f64x2.mul(lim, q)), f64x2.ne(q, f64x2.splat(Infinity))), f64x2.ge(q, f64x2.splat(TINY)));
  if (v128.any_true(v128.or(v128.or(v128.load(a), v128.load(a, 16)), v128.load(a, 32))) || !i64x2.all_true(ok)) {
    settle_block(a, p, S, 1, 4, 0, f64x2.extract_lane(s, 0), f64x2.extract_lane(q, 0));
    settle_block(a + 24, pb, S, 1, 4, 0, f64x2.extract_lane(s, 1), f64x2.extract_lane(q, 1));
    return;
  }
  const mean = f64x2.div(s, f64x2.splat(cnt)), m2 = f64x2.pmax(f64x2.sub(q, f64x2.mul(s, mean)), f64x2.splat(0));
  store<f64>(a, cnt); store<f64>(a, f64x2.extract_lane(mean, 0), 8); store<f64>(a, f64x2.extract_lane(m2, 0), 16);
  store<f64>(a, cnt, 24); store<f64>(a, f64x2.extract_lane(mean, 1), 32); store<f64>(a, f64x2.extract_lane(m2, 1), 40);
}

/**
 * Rows from this many values of tensors past the caches are summed one after the other (row_sq),
 * shorter ones, and any from the caches, side by side: one after the other ran 1.7–3.1× at
 * 98–784 values at 16 Mi values, 1.5–1.7× (196–784) and 0.94–1.12× (96–127) just past 4 Mi, but
 * 0.85–0.94× from L2 / L3 (docs/performance.md).
 */
const LONG_ROW = 96;

/**
 * (Σx, Σx²) of one row as an f64x2: `body` bytes (a multiple of 16) from p, four vectors a step
 * into eight f32 chains (rows_sq's loop), then the masked last vector; the lanes added in f32
 * (pair_sum), the totals widened.
 */
function row_sq(p: usize, body: usize, last: usize, mask: v128): v128 {
  let s0 = f32x4.splat(0), q0 = s0, s1 = s0, q1 = s0, s2 = s0, q2 = s0, s3 = s0, q3 = s0;
  let o: usize = 0;
  for (; o + 64 <= body; o += 64) {
    const u0 = v128.load(p + o), u1 = v128.load(p + o, 16), u2 = v128.load(p + o, 32), u3 = v128.load(p + o, 48);
    s0 = f32x4.add(s0, u0); q0 = f32x4.add(q0, f32x4.mul(u0, u0));
    s1 = f32x4.add(s1, u1); q1 = f32x4.add(q1, f32x4.mul(u1, u1));
    s2 = f32x4.add(s2, u2); q2 = f32x4.add(q2, f32x4.mul(u2, u2));
    s3 = f32x4.add(s3, u3); q3 = f32x4.add(q3, f32x4.mul(u3, u3));
  }
  for (; o < body; o += 16) { const u = v128.load(p + o); s1 = f32x4.add(s1, u); q1 = f32x4.add(q1, f32x4.mul(u, u)); }
  const t = v128.and(v128.load(p + last), mask);
  s0 = f32x4.add(s0, t); q0 = f32x4.add(q0, f32x4.mul(t, t));
  return pair_sum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
}
