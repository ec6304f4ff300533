// Channel statistics in Welford form: per channel an f64 triple (count, mean, M2) at acc + 24·c.
// The kernels MERGE into acc (Chan's formula), so chunks, shards and workers reuse one path:
// zero acc to start afresh.
//
// Numerics: data is taken in blocks of ≤ 4096 values per channel (16 KB, stays in L1), summed
// in f32x4 lanes, merged in f64 (Chan). A block is summed once around a shift (0, or the
// channel's running mean when the data sits far from zero); when the sums show cancellation it
// is redone from L1 as a corrected two-pass around the block's own mean. So offsets of 1e6 and
// an outlier anywhere cost no precision, and common data costs one pass of add/mul/add.
import { tail_mask } from "./cf_short";
import { stats_rows_short, stats_channels_short, PAIR_BLOCK } from "./cf_short_stats";
import { stats_cf_rows } from "./cf_rows_stats";
import { stats_cf_stream, streamed } from "./cf_stream_stats";
import { pairs_sq } from "./cl_pairs_stats";
import { lanes_ok, lanes_ok_add, rest_ok_add, zero_lanes_ok, paired, set_shifts, flush_pending, lanes_flush, lanes_means, lanes_sound, merge_pair, PENDING, LAST, PATTERNS } from "./bn_stats_lanes";
import { BLOCK, MAX_PATTERN, sweep_rows, pattern_len, fold_lane, block_merge, ret0, ret1, hsum, touch_lines, past, CACHED_VALUES, WIDE_CACHED, FAR_VALUES } from "./common";

/**
 * Σ (x − k) and Σ (x − k)² over `rows` rows of len values, rowStride bytes apart (one block of a
 * channel: rows·len ≤ BLOCK; rowStride > 0; rows = 1 for a contiguous run) → ret0, ret1. k = 0
 * skips the subtraction. Rows of ≥ 4 values end without scalars: the len mod 16 values after
 * the 16-wide part go as single vectors, the last one ending at the row's last value with the
 * lanes already counted masked off (a scalar tail per row in f64 was a dependency chain of 4
 * cycles a value). Rows of 1–3 values are summed in scalar f64 after the vector loops.
 */
export function rows_sq(p: usize, len: i32, k: f32, rows: i32, rowStride: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
  const vec = len >= 4, tail = vec && (len & 3) != 0;
  const len16 = len & ~15, len4 = vec ? len & ~3 : len16, last = <usize>(len - 4) << 2;
  const mask = tail_mask(len);
  // Vector loops first, scalar rows (len < 4) after: nothing else is live in the hot loops.
  const end = p + <usize>rows * rowStride;
  const kv = f32x4.splat(k);
  if (k == 0) {
    for (let q = p; q != end; q += rowStride) {
      for (let i = 0; i < len16; i += 16) {
        const o = q + (<usize>i << 2);
        const d0 = v128.load(o), d1 = v128.load(o, 16), d2 = v128.load(o, 32), d3 = v128.load(o, 48);
        s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
        s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
        s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
        s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
      }
      for (let i = len16; i < len4; i += 4) {
        const d = v128.load(q + (<usize>i << 2));
        s2 = f32x4.add(s2, d); q2 = f32x4.add(q2, f32x4.mul(d, d));
      }
      if (tail) {
        const d = v128.and(v128.load(q + last), mask);
        s3 = f32x4.add(s3, d); q3 = f32x4.add(q3, f32x4.mul(d, d));
      }
    }
  } else {
    for (let q = p; q != end; q += rowStride) {
      for (let i = 0; i < len16; i += 16) {
        const o = q + (<usize>i << 2);
        const d0 = f32x4.sub(v128.load(o), kv), d1 = f32x4.sub(v128.load(o, 16), kv);
        const d2 = f32x4.sub(v128.load(o, 32), kv), d3 = f32x4.sub(v128.load(o, 48), kv);
        s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
        s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
        s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
        s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
      }
      for (let i = len16; i < len4; i += 4) {
        const d = f32x4.sub(v128.load(q + (<usize>i << 2)), kv);
        s2 = f32x4.add(s2, d); q2 = f32x4.add(q2, f32x4.mul(d, d));
      }
      if (tail) {
        const d = v128.and(f32x4.sub(v128.load(q + last), kv), mask);
        s3 = f32x4.add(s3, d); q3 = f32x4.add(q3, f32x4.mul(d, d));
      }
    }
  }
  let a = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  let b = hsum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  if (!vec) {
    for (let q = p; q != end; q += rowStride) {
      for (let i = 0; i < len; i++) {
        const d = <f64>(load<f32>(q + (<usize>i << 2)) - k);
        a += d; b += d * d;
      }
    }
  }
  ret0 = a; ret1 = b;
}

/**
 * Sums of squares below this lost precision to f32 underflow (each square < 2⁻¹²⁶ is rounded
 * to a multiple of 2⁻¹⁴⁹); at or above it the loss is < 2⁻³⁸ relative for a block of ≤ 2¹² values.
 */
export const TINY: f64 = 7.888609052210118e-31; // 2⁻¹⁰⁰

/**
 * 2⁻⁴⁰: around a shift at least this large any value other than the shift has a square that
 * survives f32 (the values' spacing there is ≥ 2⁻⁶⁴), so Σd² = 0 means every value equals it.
 */
export const SHIFT_FLOOR: f32 = 9.094947e-13;

/**
 * The block's sums (n values around a shift) keep M2 = Σd² − (Σd)²/n to within 2 bits:
 * (Σd)² ≤ ¾·n·Σd², i.e. Σd² ≤ 4·M2 (the block's mean, seen from the shift, is at most √3 of
 * its standard deviations away), the squares did not overflow, and did not underflow (Σd² ≥
 * 2⁻¹⁰⁰, or both sums 0: a block equal to its shift — all-zero data — or every |x − shift| <
 * 2⁻⁷⁵ with an f32 sum that cancels exactly, whose M2 would be taken as 0: the channels-first
 * callers (settle_block) check a block with Σd² = 0 with holds_shift before asking,
 * the channels-last kernel asks zero_lanes_ok). False for NaN. shift_of keeps 0 only
 * while |mean| ≤ std, so blocks of such data pass with a wide margin (a tighter bound, ¼, failed
 * a few per cent of 256-value blocks of data with |mean| ≈ std/2 at random, and each failure
 * cost a flush and a second pass).
 */
@inline export function sums_ok(s1: f64, s2: f64, n: f64): bool {
  return s1 * s1 <= 0.75 * n * s2 && s2 != Infinity && (s2 >= TINY || s2 == 0);
}

/**
 * Sums of a redone block (around its own mean k) that f32 could hold: finite, and Σd² neither
 * underflowed nor (for a constant block, both sums 0) hides values too close to a tiny k.
 */
@inline function sums_sound(s1: f64, s2: f64, k: f32): bool {
  return isFinite(s1) && isFinite(s2) && (s2 >= TINY || s1 == 0 && s2 == 0 && abs(k) >= SHIFT_FLOOR);
}

/** The shift for a channel's next block: 0 while its data sits near zero (|mean| ≤ std), else its running mean. */
export function shift_of(a: usize): f32 {
  const na = load<f64>(a);
  if (na > 0) { const mu = load<f64>(a, 8); if (mu * mu * na > load<f64>(a, 16)) return <f32>mu; }
  return 0;
}

/**
 * shift_of for a block of len values starting at p: for a channel with nothing merged yet (whose
 * shift would be 0), the mean of the block's first 8 values when they sit more than two of their
 * standard deviations from zero — data far from zero then passes the check at the first pass
 * instead of failing it and being summed again around its mean (docs/performance.md). A shift
 * among the block's own values is safe whatever it is (the check decides, a failing block is
 * redone around its mean); this one only saves the failing pass.
 */
export function first_shift(a: usize, p: usize, len: i32): f32 {
  if (load<f64>(a) > 0 || len < 8) return shift_of(a);
  const v0 = v128.load(p), v1 = v128.load(p, 16);
  const s = hsum(f32x4.add(v0, v1)), q = hsum(f32x4.add(f32x4.mul(v0, v0), f32x4.mul(v1, v1)));
  // mean² > 4·(mean of squares − mean²), written so that NaN and ±Inf (a NaN side) give false.
  return 5 * s * s > 32 * q ? <f32>(s / 8) : 0;
}

/**
 * One block of one channel, merged into the triple at a. Single pass around a shift k: 0 when
 * the channel's data so far sits near zero (|mean| ≤ std), else its running mean. If the block
 * shows the shift was poor ((Σd)² > ¾·n·Σd², i.e. M2 would lose more than 2 bits to
 * cancellation) or the squares overflowed, it is redone as an exact two-pass around its own
 * mean while it is still in L1. NaN propagates through either path.
 */
export function stats_block(a: usize, p: usize, len: i32): void {
  const k = shift_of(a);
  rows_sq(p, len, k, 1, 4);
  settle_block(a, p, len, 1, 4, k, ret0, ret1);
}

/**
 * A block after its pass — rows of len values at p, stride bytes apart (rows = 1: a contiguous
 * run), whose Σ(x − k), Σ(x − k)² are s1, s2 — merged into the triple at a: as it is when it
 * passes the check, else redone from L1 around its own mean as one block, or exact.
 */
export function settle_block(a: usize, p: usize, len: i32, rows: i32, stride: usize, k: f32, s1: f64, s2: f64): void {
  const cnt = <f64>len * <f64>rows;
  // Σd² = 0: a block equal to its shift (all-zero data: a dead ReLU channel) merged as it is,
  // the same bits as the exact pass gives it; else tiny data whose squares underflowed in f32
  // (within 2⁻⁷⁵ of k, e.g. data at 1e-30), whose sums say nothing: exact in f64 (a sum that
  // cancelled to 0 used to pass the check with M2 = 0: 5–40 % of such a channel's variance).
  if (s2 == 0) {
    if (s1 == 0 && holds_shift(p, len, k, rows, stride)) merge_block(a, cnt, <f64>k, 0, 0);
    else exact_block(a, p, len, rows, stride);
    return;
  }
  if (!sums_ok(s1, s2, cnt)) {
    const bm = <f32>(<f64>k + s1 / cnt);
    rows_sq(p, len, bm, rows, stride); // the corrected two-pass: Σ(x − m), Σ(x − m)² around the block mean
    s1 = ret0; s2 = ret1; k = bm;
    if (!sums_sound(s1, s2, k)) { exact_block(a, p, len, rows, stride); return; }
  }
  merge_block(a, cnt, <f64>k, s1, s2);
}

/**
 * Whether the rows of len values at p (stride bytes apart) all equal k up to the sign (asked when
 * their Σ(x − k)² is 0): true outright from SHIFT_FLOOR up; below, one OR of the values' bits XOR
 * k's (±0 for k = 0), four values at a time (the last vector ends at the row's last value).
 * All-zero channels (dead ReLU channels) take this path on every block (docs/performance.md,
 * dead channels).
 */
function holds_shift(p: usize, len: i32, k: f32, rows: i32, stride: usize): bool {
  if (abs(k) >= SHIFT_FLOOR) return true;
  // Rows of 1–3 values are summed in f64 (rows_sq): there Σd² = 0 only when every value is k.
  if (len < 4) return true;
  const kv = i32x4.splat(reinterpret<i32>(k)), body = <usize>(len & ~3) << 2, last = <usize>(len - 4) << 2;
  let t = i32x4.splat(0);
  for (let r = 0; r < rows; r++, p += stride) {
    for (let o: usize = 0; o < body; o += 16) t = v128.or(t, v128.xor(v128.load(p + o), kv));
    t = v128.or(t, v128.xor(v128.load(p + last), kv));
  }
  return !v128.any_true(i32x4.shl(t, 1)); // the sign bit shifted out
}

/** nb rows of S values of one channel (stride bytes apart) as one block merged into the triple at a (settle_block). */
export function channel_rows(a: usize, p: usize, S: i32, nb: i32, stride: usize): void {
  const k = first_shift(a, p, S);
  rows_sq(p, S, k, nb, stride);
  settle_block(a, p, S, nb, stride, k, ret0, ret1);
}

/**
 * Channels-first rows of 1–3 values past the caches (longer rows: stats_cf_stream): the
 * channel-order walk jumps C·S values from row to row, which the prefetchers do not follow.
 * Here samples go in tiles of ≤ 1 MiB (and ≤ BLOCK / S samples), each tile read once in memory
 * order (touch_lines) and then summed channel by channel from the caches. Per channel the blocks
 * are merged in the same sample order as the cache-resident path, only smaller when a tile
 * holds fewer samples.
 */
function stats_cf_tiles(N: i32, C: i32, S: i32, x: usize, acc: usize): void {
  const stride = <usize>C * <usize>S << 2;
  const rb = max(1, min(BLOCK / S, <i32>((<usize>1 << 20) / stride)));
  for (let n0 = 0; n0 < N; n0 += rb) {
    const nb = min(rb, N - n0), p0 = x + <usize>n0 * stride;
    touch_lines(p0, <usize>nb * stride);
    for (let c = 0; c < C; c++) channel_rows(acc + <usize>c * 24, p0 + (<usize>c * <usize>S << 2), S, nb, stride);
  }
}

/**
 * Channels-first (N, C, S): x row-major, channel c of sample n is S contiguous values.
 * Merges into acc (C triples); scratch: 36·C bytes (16-byte aligned: the long rows' pending sums, 24·C; in memory order (stats_cf_stream) the short rows' lane sums and shifts). Rows of ≥ 1024
 * values (and longer than a block at N = 1): memory order (n outer, c inner), one pass per
 * block, one merge per channel (stats_cf_rows, assembly/cf_rows_stats.ts). Shorter rows: channel order, up to BLOCK / S rows of a channel summed as one block
 * (accumulators kept across the rows), so the per-block fold, check and merge — 100–150 cycles,
 * as much as the work itself at S = 196 — is paid once per block instead of once per row. A
 * block failing the cancellation check is redone around its mean as one block (settle_block).
 * Tensors past CACHED_VALUES (some shorter ones: `streamed`) go in memory order
 * (stats_cf_stream, assembly/cf_stream_stats.ts, `streamed`: the same blocks, shifts and check;
 * rows of 1–3 values past CACHED_VALUES in sample tiles, stats_cf_tiles). N = 1 (the
 * (1, N·C, S) views of instance and group norm too) with rows of 4–4096 values: two rows at a
 * time (stats_rows_short, assembly/cf_short_stats.ts). N > 1 with N·S ≤ PAIR_BLOCK (4 ≤ S): two channels
 * at a time (stats_channels_short, the same file), channels whose data sits far from zero in channel order.
 */
export function bn_stats_f32_cf(N: i32, C: i32, S: i32, x: usize, acc: usize, scratch: usize): void {
  if (S < 1024 && N > 1) {
    if (S >= 4 && streamed(N, C, S)) { stats_cf_stream(N, C, S, x, acc, scratch); return; }
    if (S < 4 && past(N, C * S, CACHED_VALUES)) { stats_cf_tiles(N, C, S, x, acc); return; }
    if (S >= 4 && N * S <= PAIR_BLOCK) { stats_channels_short(N, C, S, x, acc); return; }
    const rb = BLOCK / S, stride = <usize>C * <usize>S << 2;
    for (let c = 0; c < C; c++) {
      const a = acc + <usize>c * 24, p0 = x + (<usize>c * <usize>S << 2);
      for (let n0 = 0; n0 < N; n0 += rb) channel_rows(a, p0 + <usize>n0 * stride, S, min(rb, N - n0), stride);
    }
    return;
  }
  // N = 1, rows up to a block: two at a time (stats_rows_short), not row by row (stats_block):
  // 1.02–1.8× at 128–4096 values (docs/performance.md).
  if (N == 1 && S <= BLOCK) {
    // Rows of 1–3 values: exact in f64 (cheaper than a pass in f32 lanes and its check).
    if (S >= 4) stats_rows_short(C, S, x, acc, past(C, S, FAR_VALUES));
    else for (let c = 0; c < C; c++) exact_block(acc + <usize>c * 24, x + (<usize>c * <usize>S << 2), S, 1, 0);
    return;
  }
  stats_cf_rows(N, C, S, x, acc, scratch);
}

/**
 * Σ (x − k) and Σ (x − k)² per lane of an L-long pattern over nb super-rows of L values
 * (p, p + 4L, …) → sp, qp (f32 patterns, overwritten). Register-blocked: 16 lanes (4 vectors)
 * at a time run down the super-rows with accumulators in registers; the rows are swept in
 * sub-blocks of ~8 KB so the column sweeps after the first hit L1. A chunk of all-zero shifts
 * skips the subtraction. mode TOUCH: each sub-block is first read in memory order (touch_lines),
 * and patterns under 96 values take sub-blocks of 16 KiB. mode PAIRS (L = 48, 64, 80): the
 * super-rows in memory order two at a time (pairs_sq, assembly/cl_pairs_stats.ts; the same
 * bits), an odd last one by the sweep loop.
 * Tail: when L is not a multiple of 16 (L = C, wide C), the last L mod 16
 * columns of each sub-block are summed in scalar f32 (tail_sq) while the rows are in L1.
 */
function pattern_sq(p: usize, nb: i32, L: i32, kp: usize, sp: usize, qp: usize, mode: i32): void {
  const stride = <usize>L << 2, L16 = L & ~15;
  memory.fill(sp, 0, stride);
  memory.fill(qp, 0, stride);
  if (mode == PAIRS) { pairs_block(p, nb, L, kp, sp, qp); return; }
  const touch = mode == TOUCH;
  const SUB = touch && L < 96 ? 4096 / L : sweep_rows(L);
  for (let r0 = 0; r0 < nb; r0 += SUB) {
    const rn = min(SUB, nb - r0);
    const pb = p + <usize>r0 * stride;
    if (touch) touch_lines(pb, <usize>rn * stride);
    if (L16 < L) tail_sq(pb, rn, L, L16, kp, sp, qp);
    for (let j = 0; j < L16; j += 16) {
      const o = <usize>j << 2;
      const k0 = v128.load(kp + o), k1 = v128.load(kp + o, 16), k2 = v128.load(kp + o, 32), k3 = v128.load(kp + o, 48);
      let s0 = v128.load(sp + o), s1 = v128.load(sp + o, 16), s2 = v128.load(sp + o, 32), s3 = v128.load(sp + o, 48);
      let q0 = v128.load(qp + o), q1 = v128.load(qp + o, 16), q2 = v128.load(qp + o, 32), q3 = v128.load(qp + o, 48);
      let q = pb + o;
      if (!v128.any_true(v128.or(v128.or(k0, k1), v128.or(k2, k3)))) {
        for (let r = 0; r < rn; r++, q += stride) {
          const d0 = v128.load(q), d1 = v128.load(q, 16), d2 = v128.load(q, 32), d3 = v128.load(q, 48);
          s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
          s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
          s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
          s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
        }
      } else {
        for (let r = 0; r < rn; r++, q += stride) {
          const d0 = f32x4.sub(v128.load(q), k0), d1 = f32x4.sub(v128.load(q, 16), k1);
          const d2 = f32x4.sub(v128.load(q, 32), k2), d3 = f32x4.sub(v128.load(q, 48), k3);
          s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
          s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
          s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
          s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
        }
      }
      v128.store(sp + o, s0); v128.store(sp + o, s1, 16); v128.store(sp + o, s2, 32); v128.store(sp + o, s3, 48);
      v128.store(qp + o, q0); v128.store(qp + o, q1, 16); v128.store(qp + o, q2, 32); v128.store(qp + o, q3, 48);
    }
  }
}

/**
 * pattern_sq by pairs_sq (two super-rows at a time) into the zeroed sp, qp, the odd last
 * super-row by tail_sq. A function of its own: inlined into pattern_sq, its loop slowed another
 * there (0.93×).
 */
function pairs_block(p: usize, nb: i32, L: i32, kp: usize, sp: usize, qp: usize): void {
  const stride = <usize>L << 2, n2 = nb & ~1;
  pairs_sq(p, n2, L, kp, sp, qp);
  if (nb & 1) tail_sq(p + <usize>n2 * stride, 1, L, 0, kp, sp, qp);
}

/** pattern_sq's ways through a block: column sweeps; sweeps of sub-blocks first read in memory order (touch_lines); super-rows in memory order, two at a time (pairs_sq). */
const SWEEP = 0, TOUCH = 1, PAIRS = 2;

/**
 * The way through (R, C) with L-value patterns. Past 4 Mi values 48-, 64- and 80-value patterns
 * go in memory order, two super-rows at a time (pairs_sq: 1.1–1.3× the sweeps there; 0.8–0.9× at
 * 4 Mi values and below). touch_lines before each sweep: past 1.5 Mi values from 96-value rows up
 * (just past 1 Mi values the plain sweeps were 1.08–1.14× faster, as normalize's and the sums'),
 * other 64–95-value rows past 4 Mi values (in sub-blocks of 16 KiB: pattern_sq; L = 16 did not gain).
 */
function sweep_mode(R: i32, C: i32, L: i32): i32 {
  const far = past(R, C, FAR_VALUES);
  if (far && L >= 48 && L <= 80 && (L & 15) == 0) return PAIRS;
  if (L >= 96 ? past(R, C, WIDE_CACHED) : L >= 64 && far) return TOUCH;
  return SWEEP;
}

/**
 * Columns L16 … L − 1 of rn super-rows of L values at p: Σ (x − k) and Σ (x − k)² ADDED to the
 * f32 lanes sp, qp (scalar f32, as a lane would). A function of its own: a second loop nest in
 * pattern_sq would slow its hot loop.
 */
function tail_sq(p: usize, rn: i32, L: i32, L16: i32, kp: usize, sp: usize, qp: usize): void {
  const stride = <usize>L << 2;
  for (let j = L16; j < L; j++) {
    const o = <usize>j << 2, k = load<f32>(kp + o);
    let s: f32 = load<f32>(sp + o), q2: f32 = load<f32>(qp + o);
    let q = p + o;
    for (let r = 0; r < rn; r++, q += stride) { const d = load<f32>(q) - k; s += d; q2 += d * d; }
    store<f32>(sp + o, s); store<f32>(qp + o, q2);
  }
}

/** Rows up to which channels-last statistics go by few_rows. */
const FEW_ROWS = 8;

/**
 * Channels-last statistics of R ≤ FEW_ROWS rows, in f64, two channels to an f64x2: each channel's
 * values summed around its first value k (d = x − k in f64), Σd and Σd² Chan-merged into acc. One
 * of the d is 0, so (Σd)² ≤ (R − 1)·Σd² (Cauchy–Schwarz) and M2 = Σd² − (Σd)²/R ≥ Σd²/R: at most
 * log2 R bits cancel, in f64. The f32 lanes' check instead fails often at so few values a channel
 * (at R = 2 for a third of zero-mean channels), and one failing channel redoes the whole block
 * (docs/performance.md).
 */
function few_rows(R: i32, C: i32, x: usize, acc: usize): void {
  const stride = <usize>C << 2, n = f64x2.splat(<f64>R), E = C & ~1;
  for (let c = 0; c < E; c += 2) {
    const p = x + (<usize>c << 2), k = f64x2.promote_low_f32x4(v128.load64_zero(p));
    let s1 = f64x2.splat(0), s2 = f64x2.splat(0);
    for (let q = p + stride, r = 1; r < R; r++, q += stride) {
      const d = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(q)), k);
      s1 = f64x2.add(s1, d); s2 = f64x2.add(s2, f64x2.mul(d, d));
    }
    merge_pair(acc + <usize>c * 24, n, k, s1, s2);
  }
  for (let c = E; c < C; c++) {
    const p = x + (<usize>c << 2), k = <f64>load<f32>(p);
    let s1: f64 = 0, s2: f64 = 0;
    for (let q = p + stride, r = 1; r < R; r++, q += stride) { const d = <f64>load<f32>(q) - k; s1 += d; s2 += d * d; }
    merge_block(acc + <usize>c * 24, <f64>R, k, s1, s2);
  }
}

/**
 * A block whose f32 sums overflowed or underflowed (data near ±3.4e38 or below ~1e-19 from its
 * mean), merged exactly: two passes in f64, which holds the square of any f32. Values at
 * p + r·stride + 4·i for r < rows, i < len (stride 0: one contiguous run of len values).
 */
function exact_block(a: usize, p: usize, len: i32, rows: i32, stride: usize): void {
  const m = two_pass(p, len, rows, stride);
  merge_block(a, <f64>len * <f64>rows, m, ret0, ret1);
}

/**
 * The values at p + r·stride + 4·i (r < rows, i < len) in two f64 passes: returns their mean m,
 * with Σ(x − m) in ret0 and Σ(x − m)² in ret1 (the first corrects m; f64 holds the square of any
 * f32).
 */
export function two_pass(p: usize, len: i32, rows: i32, stride: usize): f64 {
  let s: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const q = p + <usize>r * stride;
    for (let i = 0; i < len; i++) s += <f64>load<f32>(q + (<usize>i << 2));
  }
  const m = s / (<f64>len * <f64>rows);
  let s1: f64 = 0, s2: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const q = p + <usize>r * stride;
    for (let i = 0; i < len; i++) { const d = <f64>load<f32>(q + (<usize>i << 2)) - m; s1 += d; s2 += d * d; }
  }
  ret0 = s1; ret1 = s2;
  return m;
}


/** block_merge as a call, for the cold paths (one copy instead of one inlined per caller: size). */
export function merge_block(a: usize, cnt: f64, shift: f64, s1: f64, s2: f64): void {
  block_merge(a, cnt, shift, s1, s2);
}

/**
 * A block that failed the cancellation check, redone exactly: every channel shifted by its block
 * mean (from the sums around the old shifts), summed again from L1 and merged; then the shifts
 * of the blocks after it are chosen again from the merged statistics. A function of its own so that pattern_sq keeps two
 * callers and is not inlined into bn_stats_f32_cl (inlined, V8 compiles the hot loop worse: docs/performance.md).
 */
function redo_block(C: i32, L: i32, p: usize, nb: i32, cnt: f64, acc: usize, kp: usize, sp: usize, qp: usize, mode: i32): void {
  const E = paired(C, L);
  lanes_means(E, C, L, kp, sp, cnt);
  for (let c = E; c < C; c++) {
    const m = <f32>(<f64>load<f32>(kp + (<usize>c << 2)) + fold_lane(C, L, sp, c) / cnt);
    for (let j = c; j < L; j += C) store<f32>(kp + (<usize>j << 2), m);
  }
  pattern_sq(p, nb, L, kp, sp, qp, mode);
  // Channel pairs whose sums are all sound merge in f64x2 lanes (the same bits); else each below.
  let c0 = 0;
  if (lanes_sound(E, C, L, kp, sp, qp)) { lanes_flush(E, acc, kp, sp, qp, cnt, C, L); c0 = E; }
  for (let c = c0; c < C; c++) {
    const k = load<f32>(kp + (<usize>c << 2)), s1 = fold_lane(C, L, sp, c), s2 = fold_lane(C, L, qp, c);
    // A column f32 could not hold: redone exactly in f64, down the block's rows of C.
    if (sums_sound(s1, s2, k)) merge_block(acc + <usize>c * 24, cnt, <f64>k, s1, s2);
    else exact_block(acc + <usize>c * 24, p + (<usize>c << 2), 1, <i32>cnt, <usize>C << 2);
  }
  set_shifts(C, L, acc, kp); // back to 0 for channels near zero: their blocks skip the subtraction
}

/**
 * Channels-last (R, C): R rows of C contiguous channels. Merges into acc (C triples).
 * scratch: 12·⌈L⌉₄ + 16·C + 16·min(C, 1024) bytes (16-byte aligned; ⌈L⌉₄ = L rounded up to a multiple of 4),
 * L = pattern_len(C) ≤ max(C, 1024) (past 4 Mi values L = 48, 64, 80 are read in memory order:
 * pairs_sq, assembly/cl_pairs_stats.ts). Rows are grouped into super-rows of L values (L/C rows;
 * one row when L = C) so every lane keeps one channel; blocks of ≥ 256 super-rows and ≥ 4096
 * values are summed in f32 lanes around per-channel shifts (0 near zero, else the running
 * mean, chosen once per call) and their per-channel sums added in f64; one Chan merge per
 * channel at the end. A block where any channel shows cancellation is redone around the
 * block's own means (from L1/L2) and merged alone, and the shifts are chosen again. (Adding
 * blocks that each pass the check keeps the check true for their total, by Cauchy–Schwarz, so
 * deferring the merges costs no precision; it saves a division per channel per block, a third
 * of the time at C = 64.)
 * Tails: the last L mod 16 columns in scalar f32 lanes (tail_sq); the last R mod (L/C) rows
 * (< L values) merged per channel in scalar f64.
 */
export function bn_stats_f32_cl(R: i32, C: i32, x: usize, acc: usize, scratch: usize): void {
  if (R > 0 && R <= FEW_ROWS) { few_rows(R, C, x, acc); return; }
  const L = pattern_len(C);
  const per = L / C;
  const Lp = <usize>(L + 3) & ~3; // patterns 16-byte aligned when L = C is not a multiple of 4
  const sp = scratch, qp = scratch + (Lp << 2), kp = scratch + (Lp << 3);
  // Pending f64 sums per channel, Σd then Σd² (16·C bytes). Up to MAX_PATTERN channels in two
  // buffers: a block is checked and pending + its sums written to the other one in one pass, and
  // that one becomes the pending when the block passes. Wider C: checked, then added in place.
  const dbl = C <= MAX_PATTERN;
  let t1 = scratch + Lp * 12, u1 = dbl ? t1 + (<usize>C << 4) : t1;
  const E = paired(C, L);
  const supers = R / per;
  const SB = max(BLOCK / L, 256);
  const mode = sweep_mode(R, C, L);
  set_shifts(C, L, acc, kp);
  const one = supers <= SB; // a lone block merges straight from its lane patterns
  if (!one) memory.fill(t1, 0, <usize>C << 4);
  let pending: f64 = 0; // values per channel summed into t1/t2 around the shifts in kp
  for (let s0 = 0; s0 < supers; s0 += SB) {
    const nb = min(SB, supers - s0);
    const p = x + (<usize>s0 * <usize>L << 2);
    const cnt = <f64>(nb * per);
    pattern_sq(p, nb, L, kp, sp, qp, mode);
    // Channels 0 … E − 1 in pairs, the rest in scalar (bn_stats_lanes.ts); a lone block and wide
    // C only check here, the others also write pending + block to u1.
    // Σd² = 0 of a lane passes the checks; zero_lanes_ok sends tiny data that cancelled to the redo.
    const chk = one || !dbl;
    const bad = !(chk ? lanes_ok(E, C, L, sp, qp, cnt) : lanes_ok_add(E, C, L, sp, qp, cnt, t1, u1)) ||
      !zero_lanes_ok(p, nb, L, kp, qp) || !rest_ok_add(E, C, L, sp, qp, cnt, t1, u1, chk);
    if (!bad && one) { flush_pending(C, L, acc, kp, sp, qp, cnt, PATTERNS); break; }
    if (!bad) {
      if (!dbl) { lanes_ok_add(E, C, L, sp, qp, cnt, t1, t1); rest_ok_add(E, C, L, sp, qp, cnt, t1, t1, false); }
      const t = t1; t1 = u1; u1 = t;
      pending += cnt;
      continue;
    }
    // Merge what is pending around the old shifts, then redo this block exactly.
    flush_pending(C, L, acc, kp, t1, t1 + (<usize>C << 3), pending, PENDING);
    pending = 0;
    redo_block(C, L, p, nb, cnt, acc, kp, sp, qp, mode);
  }
  flush_pending(C, L, acc, kp, t1, t1 + (<usize>C << 3), pending, LAST);
  // Tail: the last R mod (L/C) rows (fewer than 16), per channel a column of scalars summed in
  // f64 (rows_sq's scalar path) around a value near the data.
  const r0 = supers * per;
  if (r0 < R) {
    for (let c = 0; c < C; c++) {
      const a = acc + <usize>c * 24;
      // Shift: the running mean, or (nothing merged yet) the column's first value.
      const p = x + ((<usize>r0 * <usize>C + <usize>c) << 2);
      const k: f32 = load<f64>(a) > 0 ? <f32>load<f64>(a, 8) : load<f32>(p);
      rows_sq(p, 1, k, R - r0, <usize>C << 2);
      if (isFinite(ret0) && isFinite(ret1)) merge_block(a, <f64>(R - r0), <f64>k, ret0, ret1);
      else exact_block(a, p, 1, R - r0, <usize>C << 2);
    }
  }
}
