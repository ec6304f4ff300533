// Channels-first statistics of short rows (4 ≤ S < 1024, N > 1) past the caches (some from L2 / L3:
// `streamed`), in memory order.
// The channel-order walk (channel_rows in bn_stats.ts) jumps C·S values from row to row; in
// sample tiles read first in memory order (touch_lines) and then summed from the caches, the
// reads and the sums do not overlap: the call took the time of its cache-resident sums plus a
// read of the tensor (docs/performance.md). Here every row is summed as it streams by, into
// f32x4 lane sums of its channel kept in scratch; only after a block of samples are the lanes
// folded and merged, as channel_rows merges its block.
//
// Numerics: channel_rows' method. Per channel and block of ≤ BLOCK / S samples (≤ BLOCK values)
// the same shift (first_shift of the triple and the block's first row when the block starts: 0
// near zero, else the running mean, or for a channel with nothing merged yet the mean of its
// first values when they sit far from zero), f32 lanes, the same check and settling
// (settle_block: a failing block redone around its mean as one block, a block with Σd² = 0
// checked to hold its shift and merged, else the block exact), one Chan merge per block. Only
// the order of the f32 additions inside a block differs (lane sums per row position instead of
// rows_sq's 16-wide chains), so results differ from the cache-resident path in the last bits of
// the f32 sums.
import { BLOCK, CACHED_VALUES, hsum, past, zero_f32 } from "./common";
import { tail_mask, body_of, centred } from "./cf_short";
import { first_shift, settle_block } from "./bn_stats";

/**
 * Whether (N, C, S) (4 ≤ S < 1024, N > 1) goes by stats_cf_stream rather than channel order: past
 * CACHED_VALUES; rows of 48–127 values (7 × 7, 8 × 8, 10 × 10 maps) of up to 128 channels past a
 * quarter of it, where the channel-order walk reads its strided rows from L2 / L3 (1.0–1.3× there;
 * with wider C the lane sums leave L1, and shorter or longer rows stayed faster in channel order:
 * 0.6–0.96×, docs/performance.md).
 */
export function streamed(N: i32, C: i32, S: i32): bool {
  return past(N, C * S, C <= 128 && S >= 48 && S < 128 ? CACHED_VALUES >> 2 : CACHED_VALUES);
}

/**
 * Merges the statistics of (N, C, S) channels-first x into the C triples at acc, rows in memory
 * order. scratch: 36·C bytes (16-byte aligned): per channel Σd and Σd² as f32x4 lanes (32 bytes
 * at scratch + 32·c), then C f32 shifts.
 */
export function stats_cf_stream(N: i32, C: i32, S: i32, x: usize, acc: usize, scratch: usize): void {
  const rb = BLOCK / S, stride = <usize>C * <usize>S << 2, kp = scratch + (<usize>C << 5);
  for (let n0 = 0; n0 < N; n0 += rb) {
    const nb = min(rb, N - n0), p0 = x + <usize>n0 * stride;
    memory.fill(scratch, 0, <usize>C << 5);
    for (let c = 0; c < C; c++) store<f32>(kp + (<usize>c << 2), first_shift(acc + <usize>c * 24, p0 + (<usize>c * <usize>S << 2), S));
    const zero = zero_f32(kp, C);
    for (let n = 0; n < nb; n++) sample_rows(C, S, p0 + <usize>n * stride, scratch, kp, zero);
    for (let c = 0; c < C; c++) {
      const t = scratch + (<usize>c << 5);
      settle_block(acc + <usize>c * 24, p0 + (<usize>c * <usize>S << 2), S, nb, stride, load<f32>(kp + (<usize>c << 2)), hsum(v128.load(t)), hsum(v128.load(t, 16)));
    }
  }
}

/**
 * One sample's C rows of S values at p, each ADDED as Σ(x − k), Σ(x − k)² to its channel's f32x4
 * lanes at t + 32·c (k: the channel's shift at kp + 4·c; zero: every shift of the block is +0,
 * so the loop without the subtraction runs: with it the loop was bound by its float adds,
 * docs/performance.md). A row is its body (body_of)
 * as vectors in two chains plus the vector ending at its last value, the lanes the body counted
 * masked off.
 */
function sample_rows(C: i32, S: i32, p: usize, t: usize, kp: usize, zero: bool): void {
  if (zero) rows_of(C, S, p, t, kp, true);
  else rows_of(C, S, p, t, kp, false);
}

/** sample_rows' loop; zero (every shift is +0): x − 0 is x, the same bits, without the subtraction. */
@inline function rows_of(C: i32, S: i32, p: usize, t: usize, kp: usize, zero: bool): void {
  const body = body_of(S), last = <usize>(S - 4) << 2, rowb = <usize>S << 2;
  const mask = tail_mask(S);
  for (let c = 0; c < C; c++, p += rowb, t += 32) {
    const kv = zero ? f32x4.splat(0) : v128.load32_splat(kp + (<usize>c << 2));
    let s = v128.load(t), q = v128.load(t, 16);
    const tl = v128.and(centred(v128.load(p + last), kv, zero), mask);
    let s1 = tl, q1 = f32x4.mul(tl, tl);
    let o: usize = 0;
    for (; o + 64 <= body; o += 64) {
      const u = centred(v128.load(p + o), kv, zero), v = centred(v128.load(p + o, 16), kv, zero);
      const w = centred(v128.load(p + o, 32), kv, zero), z = centred(v128.load(p + o, 48), kv, zero);
      s = f32x4.add(s, u); q = f32x4.add(q, f32x4.mul(u, u));
      s1 = f32x4.add(s1, v); q1 = f32x4.add(q1, f32x4.mul(v, v));
      s = f32x4.add(s, w); q = f32x4.add(q, f32x4.mul(w, w));
      s1 = f32x4.add(s1, z); q1 = f32x4.add(q1, f32x4.mul(z, z));
    }
    for (; o < body; o += 16) {
      const u = centred(v128.load(p + o), kv, zero);
      s = f32x4.add(s, u); q = f32x4.add(q, f32x4.mul(u, u));
    }
    v128.store(t, f32x4.add(s, s1));
    v128.store(t, f32x4.add(q, q1), 16);
  }
}
