// One (count, mean, M2) per short channels-first row: instance norm's (1, N·C, S) view and
// batch norm at N = 1, rows of 4 ≤ S < 128 values. Row by row (stats_block) the data was the
// smaller part: a row's horizontal sums, check, division and merge (another division) form one
// dependency chain of ~55 cycles against ~11 for reading 49 values (docs/performance.md). Here
// two rows go together: their f32 sums side by side (one horizontal reduction for both), the
// check and the mean in f64x2 lanes. Same numerics as stats_block: f32 lanes around a shift of
// 0 (what shift_of gives an empty triple), the same cancellation check (sums_ok), the values
// block_merge would store into an empty triple. A pair whose triples already hold data, a pair
// where either row fails the check, and an odd last row go through stats_block.
// The pair helpers also serve the one-pass instance-norm forward (assembly/gn_forward.ts).
import { stats_block, TINY } from "./bn_stats";
import { tail_mask } from "./cf_short";

/**
 * Σa, Σb, Σa², Σb² of rows a (at p) and b (at pb) of S ≥ 4 values as one f32x4: f32 lanes, the
 * last vector ending at the row's last value with the lanes the body counted masked off, then
 * one horizontal reduction for all four ((l0 + l2) + (l1 + l3) per sum).
 */
@inline export function pair_sums(p: usize, pb: usize, body: usize, last: usize, mask: v128): v128 {
  const ta = v128.and(v128.load(p + last), mask), tb = v128.and(v128.load(pb + last), mask);
  let sa = ta, qa = f32x4.mul(ta, ta), sb = tb, qb = f32x4.mul(tb, tb);
  for (let o: usize = 0; o < body; o += 16) {
    const u = v128.load(p + o), v = v128.load(pb + o);
    sa = f32x4.add(sa, u); qa = f32x4.add(qa, f32x4.mul(u, u));
    sb = f32x4.add(sb, v); qb = f32x4.add(qb, f32x4.mul(v, v));
  }
  const hs = f32x4.add(i32x4.shuffle(sa, sb, 0, 1, 4, 5), i32x4.shuffle(sa, sb, 2, 3, 6, 7));
  const hq = f32x4.add(i32x4.shuffle(qa, qb, 0, 1, 4, 5), i32x4.shuffle(qa, qb, 2, 3, 6, 7));
  return f32x4.add(i32x4.shuffle(hs, hq, 0, 2, 4, 6), i32x4.shuffle(hs, hq, 1, 3, 5, 7));
}

/**
 * Both rows' sums (f64x2 s = Σx, q = Σx² of S values) pass stats_block's check (sums_ok, lane
 * by lane): (Σx)² ≤ ¾·S·Σx², Σx² finite, and Σx² ≥ TINY or 0. False for NaN.
 */
@inline export function pair_ok(s: v128, q: v128, S: i32): bool {
  const ok = v128.and(v128.and(f64x2.le(f64x2.mul(s, s), f64x2.mul(f64x2.splat(0.75 * <f64>S), q)), f64x2.ne(q, f64x2.splat(Infinity))),
    v128.or(f64x2.ge(q, f64x2.splat(TINY)), f64x2.eq(q, f64x2.splat(0))));
  return i64x2.all_true(ok);
}

/**
 * Merges the statistics of R rows of S values (4 ≤ S ≤ BLOCK; row r at x + 4·r·S) into the
 * triples at acc + 24·r (fast when they are zero, as a fresh call's are). Tail: each row's last vector ends at its last value, the lanes the
 * body counted masked off.
 */
export function stats_rows_short(R: i32, S: i32, x: usize, acc: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  const mask = tail_mask(S), cnt = <f64>S, nb = f64x2.splat(cnt), zero = f64x2.splat(0);
  let p = x, a = acc, r = 0;
  for (; r + 2 <= R; r += 2, p += stride << 1, a += 48) {
    const pb = p + stride, t = pair_sums(p, pb, body, last, mask);
    const s = f64x2.promote_low_f32x4(t), q = f64x2.promote_low_f32x4(i32x4.shuffle(t, t, 2, 3, 0, 1));
    // Both triples empty (a fresh start, as instance norm's are) and both rows' sums pass
    // sums_ok (false for NaN): Chan's merge into (0, 0, 0) stores the block's own (count, mean,
    // M2), block_merge's values with shift 0 — the same as stats_block, lane by lane.
    if (v128.any_true(v128.or(v128.or(v128.load(a), v128.load(a, 16)), v128.load(a, 32))) || !pair_ok(s, q, S)) {
      stats_block(a, p, S); stats_block(a + 24, pb, S); continue;
    }
    const mean = f64x2.div(s, nb), m2 = f64x2.pmax(f64x2.sub(q, f64x2.mul(s, mean)), zero);
    store<f64>(a, cnt); store<f64>(a, f64x2.extract_lane(mean, 0), 8); store<f64>(a, f64x2.extract_lane(m2, 0), 16);
    store<f64>(a, cnt, 24); store<f64>(a, f64x2.extract_lane(mean, 1), 32); store<f64>(a, f64x2.extract_lane(m2, 1), 40);
  }
  if (r < R) stats_block(a, p, S);
}
