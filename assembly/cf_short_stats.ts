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
// row merged as it is, tiny data exact); an odd last row through stats_block. Rows whose first
// values sit far from zero (far_pair) are summed around shifts, the mean of each row's first 4
// values (far_rows): around 0 they failed the check and were summed again (2.1–3.8× on such
// rows of 16–196 values, docs/performance.md).
// Batch norm's channels of (N > 1, C, S) with N·S ≤ PAIR_BLOCK go the same way, two channels side by
// side over their N rows (stats_channels_short): in channel order each channel's block paid its
// own fold, check and merge (100–150 cycles, more than two 49-value rows' sums).
import { stats_block, settle_block, channel_rows, TINY } from "./bn_stats";
import { tail_mask, body_of, pair_sum } from "./cf_short";
import { BLOCK } from "./common";

/**
 * Merges the statistics of R rows of S values (4 ≤ S ≤ BLOCK; row r at x + 4·r·S) into the
 * triples at acc + 24·r (fast when they are zero, as a fresh call's are). Tail: each row's last vector ends at its last value, the lanes the
 * body counted masked off. far: the rows are read from memory (past FAR_VALUES: common.ts past), where
 * rows of ≥ LONG_ROW values are summed one after the other. fresh: false continues the rows of
 * the previous call (a tile of gn_forward_short's, even in length): far pairs are found as one
 * call over all the rows finds them, so both give the same bits.
 */
export function stats_rows_short(R: i32, S: i32, x: usize, acc: usize, far: bool, fresh: bool = true): void {
  if (fresh) rows_mode = TEST;
  // Two loops in two functions: with both in one, the side-by-side loop ran 0.95× (a call in the
  // loop moves its constants to the stack).
  if (far && S >= LONG_ROW) pairs_long(R, S, x, acc);
  else pairs_short(R, S, x, acc);
  if (R & 1) stats_block(acc + <usize>(R - 1) * 24, x + (<usize>(R - 1) * <usize>S << 2), S);
}

/**
 * Channels of at most this many values go in pairs. A channel has two f32x4 chains there against
 * rows_sq's four, so its lanes sum about twice as many values: channels of a whole block (BLOCK
 * values) gained only 1.06–1.2× for M2 errors against float64 twice channel order's; up to half
 * a block they came to 1.0–2.1× of it (docs/performance.md).
 */
export const PAIR_BLOCK: i32 = BLOCK >> 1;

/**
 * Merges the statistics of (N, C, S) (N > 1, 4 ≤ S, N·S ≤ PAIR_BLOCK: one block a channel, from the
 * caches) into acc: channels two at a time (pairs_channels), an odd last one by channel_rows (the
 * channel-order path's block).
 */
export function stats_channels_short(N: i32, C: i32, S: i32, x: usize, acc: usize): void {
  pairs_channels(N, C, S, x, acc);
  if (C & 1) channel_rows(acc + <usize>(C - 1) * 24, x + (<usize>(C - 1) * <usize>S << 2), S, N, <usize>C * <usize>S << 2);
}

/**
 * Channel pairs (c, c + 1) of (N, C, S) (C rounded down to even), each channel's N rows of S
 * values (row n of channel c at x + 4·(n·C + c)·S; N·S ≤ PAIR_BLOCK: one block a channel) summed with
 * its partner's side by side. N = 1 is R rows of S values taken as R channels. `many` is a
 * constant (one compiled copy each): N > 1 (pairs_channels); false for N = 1 (pairs_short), whose
 * rows then run without the rows loop's step and test (the loop with them ran 0.93–0.97× there).
 */
@inline function pair_rows(N: i32, C: i32, S: i32, x: usize, acc: usize, many: bool): void {
  const body = body_of(S), last = <usize>(S - 4) << 2, row = <usize>S << 2, mask = tail_mask(S);
  const stride = <usize>C * row, span = <usize>N * stride;
  let p = x, a = acc, mode = many ? TEST : rows_mode;
  for (let c = 0; c + 2 <= C; c += 2, p += row << 1, a += 48) {
    const pb = p + row;
    // Channels whose first 8 values sit far from zero go by the channel-order path: it sums them
    // around a shift (first_shift) in one pass, where the sums around 0 would fail the check and
    // be taken again (0.6–0.85× on such data).
    if (many && S >= 8 && far_pair(p, pb)) {
      channel_rows(a, p, S, N, stride); channel_rows(a + 24, pb, S, N, stride);
      continue;
    }
    // Rows: far pairs are summed around shifts (far_rows). The test is asked of the first pair,
    // and again after a pair failed the check or a far pair came out near zero; after a far
    // pair the next one goes straight to far_rows (data near zero asks once, far data never
    // again).
    if (!many && mode != PLAIN && S >= 8) {
      if (mode == FAR || far_pair(p, pb)) { mode = far_rows(a, p, pb, S) ? FAR : TEST; continue; }
      mode = PLAIN;
    }
    // Two vectors of each row a step into two accumulator sets (eight chains): one vector a
    // step (four chains) was latency-bound, 1.16× slower on 7 × 7 rows (docs/performance.md).
    let ra = p, rb = pb;
    const ta = v128.and(v128.load(ra + last), mask), tb = v128.and(v128.load(rb + last), mask);
    let sa = ta, qa = f32x4.mul(ta, ta), sb = tb, qb = f32x4.mul(tb, tb);
    let sa1 = f32x4.splat(0), qa1 = f32x4.splat(0), sb1 = f32x4.splat(0), qb1 = f32x4.splat(0);
    // Row by row: the body, then (while rows remain) the next row's masked last vectors.
    for (const end = p + span; ;) {
      let o: usize = 0;
      for (; o + 32 <= body; o += 32) {
        const u = v128.load(ra + o), v = v128.load(rb + o), u1 = v128.load(ra + o, 16), v1 = v128.load(rb + o, 16);
        sa = f32x4.add(sa, u); qa = f32x4.add(qa, f32x4.mul(u, u));
        sb = f32x4.add(sb, v); qb = f32x4.add(qb, f32x4.mul(v, v));
        sa1 = f32x4.add(sa1, u1); qa1 = f32x4.add(qa1, f32x4.mul(u1, u1));
        sb1 = f32x4.add(sb1, v1); qb1 = f32x4.add(qb1, f32x4.mul(v1, v1));
      }
      if (o < body) {
        const u = v128.load(ra + o), v = v128.load(rb + o);
        sa1 = f32x4.add(sa1, u); qa1 = f32x4.add(qa1, f32x4.mul(u, u));
        sb1 = f32x4.add(sb1, v); qb1 = f32x4.add(qb1, f32x4.mul(v, v));
      }
      if (!many) break;
      ra += stride; rb += stride;
      if (ra == end) break;
      const ua = v128.and(v128.load(ra + last), mask), ub = v128.and(v128.load(rb + last), mask);
      sa = f32x4.add(sa, ua); qa = f32x4.add(qa, f32x4.mul(ua, ua));
      sb = f32x4.add(sb, ub); qb = f32x4.add(qb, f32x4.mul(ub, ub));
    }
    // Channels (many rows) add their lanes in f64: added in f32 (pair_sum) their M2 errors
    // against float64 came to 1.5–2.8× channel order's, in f64 1.0–2.1× (longer chains). Rows
    // (N = 1) keep pair_sum: the f64 form ran 0.90–0.97× on rows of 9–64 values.
    const s = f32x4.add(sa, sa1), q = f32x4.add(qa, qa1), s1 = f32x4.add(sb, sb1), q1 = f32x4.add(qb, qb1);
    if (many) pair_store(a, p, pb, S, N, stride, wide_sum(s, s1), wide_sum(q, q1), f64x2.splat(0), false);
    else if (pair_store(a, p, pb, S, 1, stride, pair_sum(s, s1), pair_sum(q, q1), f64x2.splat(0), false)) mode = TEST;
  }
  if (!many) rows_mode = mode;
}

/** pair_rows' modes for rows (N = 1): ask far_pair of the next pair, sum it around 0, or around shifts. */
const TEST = 0, PLAIN = 1, FAR = 2;
/** The mode the next pair of rows starts in (stats_rows_short). */
let rows_mode = TEST;

/**
 * Two rows of S ≥ 8 values at p and pb whose first values sit far from zero (far_pair), each
 * summed around the mean of its first 4 values into the triples at a and
 * a + 24: pair_rows' loop with the shifts taken off. A function of its own (two loops in one
 * function compile worse). Around 0 such rows failed the check and were summed again from L1
 * around their means (settle_block). Returns whether both shifts sit more than two standard
 * deviations from zero (the next pair is then taken as far without the test).
 */
function far_rows(a: usize, p: usize, pb: usize, S: i32): bool {
  const body = body_of(S), last = <usize>(S - 4) << 2, mask = tail_mask(S);
  // The shifts: the mean of each row's first 4 values (f32), in every lane of ha, hb (a short
  // chain of shuffles: the loop waits for it), and as the f64x2 k.
  const va = v128.load(p), vb = v128.load(pb);
  const h = f32x4.add(i32x4.shuffle(va, vb, 0, 1, 4, 5), i32x4.shuffle(va, vb, 2, 3, 6, 7));
  const h2 = f32x4.mul(f32x4.add(h, i32x4.shuffle(h, h, 1, 0, 3, 2)), f32x4.splat(0.25));
  const ha = i32x4.shuffle(h2, h2, 0, 0, 0, 0), hb = i32x4.shuffle(h2, h2, 2, 2, 2, 2);
  const k = f64x2.promote_low_f32x4(i32x4.shuffle(h2, h2, 0, 2, 0, 2));
  const ta = v128.and(f32x4.sub(v128.load(p + last), ha), mask), tb = v128.and(f32x4.sub(v128.load(pb + last), hb), mask);
  let sa = ta, qa = f32x4.mul(ta, ta), sb = tb, qb = f32x4.mul(tb, tb);
  let sa1 = f32x4.splat(0), qa1 = f32x4.splat(0), sb1 = f32x4.splat(0), qb1 = f32x4.splat(0);
  let o: usize = 0;
  for (; o + 32 <= body; o += 32) {
    const u = f32x4.sub(v128.load(p + o), ha), v = f32x4.sub(v128.load(pb + o), hb);
    const u1 = f32x4.sub(v128.load(p + o, 16), ha), v1 = f32x4.sub(v128.load(pb + o, 16), hb);
    sa = f32x4.add(sa, u); qa = f32x4.add(qa, f32x4.mul(u, u));
    sb = f32x4.add(sb, v); qb = f32x4.add(qb, f32x4.mul(v, v));
    sa1 = f32x4.add(sa1, u1); qa1 = f32x4.add(qa1, f32x4.mul(u1, u1));
    sb1 = f32x4.add(sb1, v1); qb1 = f32x4.add(qb1, f32x4.mul(v1, v1));
  }
  if (o < body) {
    const u = f32x4.sub(v128.load(p + o), ha), v = f32x4.sub(v128.load(pb + o), hb);
    sa1 = f32x4.add(sa1, u); qa1 = f32x4.add(qa1, f32x4.mul(u, u));
    sb1 = f32x4.add(sb1, v); qb1 = f32x4.add(qb1, f32x4.mul(v, v));
  }
  const n = f64x2.splat(<f64>S), sd = pair_sum(f32x4.add(sa, sa1), f32x4.add(sb, sb1)), qd = pair_sum(f32x4.add(qa, qa1), f32x4.add(qb, qb1));
  pair_store(a, p, pb, S, 1, <usize>S << 2, sd, qd, k, true);
  // Both shifts still more than two standard deviations from zero (k² > 4·(Σd²/n − (Σd/n)²),
  // times n²: no division): the next pair goes around shifts too.
  const kn = f64x2.mul(k, n);
  return i64x2.all_true(f64x2.gt(f64x2.mul(kn, kn), f64x2.mul(f64x2.splat(4), f64x2.sub(f64x2.mul(qd, n), f64x2.mul(sd, sd)))));
}

/** (Σ lanes of a, Σ lanes of b) as an f64x2, the lanes widened before they are added. */
@inline function wide_sum(a: v128, b: v128): v128 {
  const ra = f64x2.add(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(i32x4.shuffle(a, a, 2, 3, 2, 3)));
  const rb = f64x2.add(f64x2.promote_low_f32x4(b), f64x2.promote_low_f32x4(i32x4.shuffle(b, b, 2, 3, 2, 3)));
  return f64x2.add(v128.shuffle<f64>(ra, rb, 0, 2), v128.shuffle<f64>(ra, rb, 1, 3));
}

/**
 * first_shift's test on two channels at once: whether the first 8 values of row p or of row pb
 * sit more than two of their standard deviations from zero (mean² > 4·variance; NaN: false), the
 * four sums in the lanes of one f32x4 (it only routes a pair: either way is exact).
 */
@inline function far_pair(p: usize, pb: usize): bool {
  const u0 = v128.load(p), u1 = v128.load(p, 16), v0 = v128.load(pb), v1 = v128.load(pb, 16);
  const sa = f32x4.add(u0, u1), sb = f32x4.add(v0, v1);
  const qa = f32x4.add(f32x4.mul(u0, u0), f32x4.mul(u1, u1)), qb = f32x4.add(f32x4.mul(v0, v0), f32x4.mul(v1, v1));
  // (Σa, Σb, Σa², Σb²) in two shuffle-add steps.
  const h0 = f32x4.add(i32x4.shuffle(sa, sb, 0, 4, 1, 5), i32x4.shuffle(sa, sb, 2, 6, 3, 7));
  const h1 = f32x4.add(i32x4.shuffle(qa, qb, 0, 4, 1, 5), i32x4.shuffle(qa, qb, 2, 6, 3, 7));
  const t = f32x4.add(i32x4.shuffle(h0, h1, 0, 1, 4, 5), i32x4.shuffle(h0, h1, 2, 3, 6, 7));
  const m = f32x4.gt(f32x4.mul(f32x4.splat(5), f32x4.mul(t, t)), f32x4.mul(f32x4.splat(32), i32x4.shuffle(t, t, 2, 3, 2, 3)));
  return i64x2.extract_lane(m, 0) != 0;
}

/** Rows two at a time: R rows of S values as (1, R, S). */
function pairs_short(R: i32, S: i32, x: usize, acc: usize): void { pair_rows(1, R, S, x, acc, false); }

/** Channels two at a time over their N > 1 rows. */
function pairs_channels(N: i32, C: i32, S: i32, x: usize, acc: usize): void { pair_rows(N, C, S, x, acc, true); }

/**
 * Pairs of rows (R rounded down to even), row a then row b: one stream in memory order. Side by
 * side (two streams a row apart, and each row's last vector loaded before its body, which turns
 * the prefetchers' stream around on rows of ~100 values) rows of 96–784 values ran at 0.34–0.5 ×
 * the Σx, Σx² loop past the caches (docs/performance.md).
 */
function pairs_long(R: i32, S: i32, x: usize, acc: usize): void {
  // The body to S & ~3 and, when 4 divides S, the last vector masked whole: body_of's single
  // vector steps before the last ran 0.91× here at S = 128 (rows from memory).
  const body = <usize>(S & ~3) << 2, mask = S & 3 ? tail_mask(S) : i32x4.splat(0);
  const last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  let p = x, a = acc;
  for (let r = 0; r + 2 <= R; r += 2, p += stride << 1, a += 48) {
    const pb = p + stride, ra = row_sq(p, body, last, mask), rb = row_sq(pb, body, last, mask);
    pair_store(a, p, pb, S, 1, stride, v128.shuffle<f64>(ra, rb, 0, 2), v128.shuffle<f64>(ra, rb, 1, 3), f64x2.splat(0), false);
  }
}

/**
 * The triples of channels p and pb (rows of S values each, stride bytes apart) at a and a + 24
 * from their sums s = (Σa, Σb) and q = (Σa², Σb²) (f32 totals widened to f64) around the shifts
 * k (f64x2 of f32 values; SHIFTED false: both 0), or both channels through settle_block with
 * them. Returns whether they went through settle_block.
 */
@inline function pair_store(a: usize, p: usize, pb: usize, S: i32, rows: i32, stride: usize, s: v128, q: v128, k: v128, SHIFTED: bool): bool {
  // Both triples empty (a fresh start, as instance norm's are) and both rows' sums pass
  // sums_ok (false for NaN): Chan's merge into (0, 0, 0) stores the block's own (count, mean,
  // M2), block_merge's values with shift 0 (stats_block's method; the f32 sums in another order).
  // Σx² = 0 is not accepted: the row is all zero, or its squares underflowed (data within
  // 2⁻⁷⁵ of 0, e.g. ±1e-30) and the sums say nothing about its variance (stats_block decides).
  const cnt = <f64>S * <f64>rows, lim = f64x2.splat(0.75 * cnt);
  const ok = v128.and(v128.and(f64x2.le(f64x2.mul(s, s), f64x2.mul(lim, q)), f64x2.ne(q, f64x2.splat(Infinity))), f64x2.ge(q, f64x2.splat(TINY)));
  if (v128.any_true(v128.or(v128.or(v128.load(a), v128.load(a, 16)), v128.load(a, 32))) || !i64x2.all_true(ok)) {
    pair_settle(a, p, pb, S, rows, stride, s, q, k);
    return true;
  }
  const d = f64x2.div(s, f64x2.splat(cnt)), m2 = f64x2.pmax(f64x2.sub(q, f64x2.mul(s, d)), f64x2.splat(0));
  const mean = SHIFTED ? f64x2.add(k, d) : d;
  store<f64>(a, cnt); store<f64>(a, f64x2.extract_lane(mean, 0), 8); store<f64>(a, f64x2.extract_lane(m2, 0), 16);
  store<f64>(a, cnt, 24); store<f64>(a, f64x2.extract_lane(mean, 1), 32); store<f64>(a, f64x2.extract_lane(m2, 1), 40);
  return false;
}

/** Both channels of a pair through settle_block with their sums around k (a cold path: pair_store's copies call it). */
function pair_settle(a: usize, p: usize, pb: usize, S: i32, rows: i32, stride: usize, s: v128, q: v128, k: v128): void {
  settle_block(a, p, S, rows, stride, <f32>f64x2.extract_lane(k, 0), f64x2.extract_lane(s, 0), f64x2.extract_lane(q, 0));
  settle_block(a + 24, pb, S, rows, stride, <f32>f64x2.extract_lane(k, 1), f64x2.extract_lane(s, 1), f64x2.extract_lane(q, 1));
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
