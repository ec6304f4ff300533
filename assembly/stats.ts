// Channel statistics in Welford form: per channel an f64 triple (count, mean, M2) at acc + 24·c.
// The kernels MERGE into acc (Chan's formula), so chunks, shards and workers reuse one path:
// zero acc to start afresh.
//
// Numerics: data is taken in blocks of ≤ 4096 values per channel (16 KB, stays in L1), summed
// in f32x4 lanes, merged in f64 (Chan). A block is summed once around a shift (0, or the
// channel's running mean when the data sits far from zero); when the sums show cancellation it
// is redone from L1 as a corrected two-pass around the block's own mean. So offsets of 1e6 and
// an outlier anywhere cost no precision, and common data costs one pass of add/mul/add.
import { pattern_len, fold_lane, block_merge, ret0, ret1, hsum } from "./common";

const BLOCK: i32 = 4096;

/** Σ (x − m) and Σ (x − m)² over len contiguous values → ret0, ret1. */
function block_dev(p: usize, len: i32, m: f32): void {
  const mv = f32x4.splat(m);
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), q0 = f32x4.splat(0), q1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const q = p + (<usize>i << 2);
    const d0 = f32x4.sub(v128.load(q), mv);
    const d1 = f32x4.sub(v128.load(q, 16), mv);
    s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
    s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
  }
  for (; i + 4 <= len; i += 4) {
    const d0 = f32x4.sub(v128.load(p + (<usize>i << 2)), mv);
    s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
  }
  let a = hsum(f32x4.add(s0, s1)), b = hsum(f32x4.add(q0, q1));
  for (; i < len; i++) {
    const d = <f64>(load<f32>(p + (<usize>i << 2)) - m);
    a += d; b += d * d;
  }
  ret0 = a; ret1 = b;
}

/** Σ (x − k) and Σ (x − k)² in one pass → ret0, ret1. k = 0 skips the subtraction. */
function block_sq(p: usize, len: i32, k: f32): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
  let i = 0;
  if (k == 0) {
    for (; i + 16 <= len; i += 16) {
      const q = p + (<usize>i << 2);
      const d0 = v128.load(q), d1 = v128.load(q, 16), d2 = v128.load(q, 32), d3 = v128.load(q, 48);
      s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
      s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
      s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
      s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
    }
  } else {
    const kv = f32x4.splat(k);
    for (; i + 16 <= len; i += 16) {
      const q = p + (<usize>i << 2);
      const d0 = f32x4.sub(v128.load(q), kv), d1 = f32x4.sub(v128.load(q, 16), kv);
      const d2 = f32x4.sub(v128.load(q, 32), kv), d3 = f32x4.sub(v128.load(q, 48), kv);
      s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
      s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
      s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
      s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
    }
  }
  let a = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  let b = hsum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  for (; i < len; i++) {
    const d = <f64>(load<f32>(p + (<usize>i << 2)) - k);
    a += d; b += d * d;
  }
  ret0 = a; ret1 = b;
}

/**
 * One block of one channel, merged into the triple at a. Single pass around a shift k: 0 when
 * the channel's data so far sits near zero (|mean| ≤ std), else its running mean. If the block
 * shows the shift was poor ((Σd)² > ¼·n·Σd², i.e. M2 would lose more than 2 bits to
 * cancellation) or the squares overflowed, it is redone as an exact two-pass around its own
 * mean while it is still in L1. NaN propagates through either path.
 */
function stats_block(a: usize, p: usize, len: i32): void {
  const cnt = <f64>len;
  const na = load<f64>(a);
  let k: f32 = 0;
  if (na > 0) {
    const mu = load<f64>(a, 8);
    if (mu * mu * na > load<f64>(a, 16)) k = <f32>mu;
  }
  block_sq(p, len, k);
  let s1 = ret0, s2 = ret1;
  if (!(s1 * s1 <= 0.25 * cnt * s2) || s2 == Infinity) {
    const bm = <f32>(<f64>k + s1 / cnt);
    block_dev(p, len, bm);
    s1 = ret0; s2 = ret1; k = bm;
  }
  block_merge(a, cnt, <f64>k, s1, s2);
}

/**
 * Channels-first (N, C, S): x row-major, channel c of sample n is S contiguous values.
 * Merges into acc (C triples). Reads x in memory order (n outer, c inner), one pass per block.
 */
export function stats_f32_cf(N: i32, C: i32, S: i32, x: usize, acc: usize): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const row = x + ((<usize>n * <usize>C + <usize>c) * <usize>S << 2);
      const a = acc + <usize>c * 24;
      for (let off = 0; off < S; off += BLOCK) stats_block(a, row + (<usize>off << 2), min(BLOCK, S - off));
    }
  }
}

/**
 * Channels-last (R, C): R rows of C contiguous channels. Merges into acc (C triples).
 * scratch: 4·L f32 (16-byte aligned), L = pattern_len(C). Tail: rows that do not fill a whole
 * pattern are added lane by lane (scalar) into the same pattern slots.
 */
export function stats_f32_cl(R: i32, C: i32, x: usize, acc: usize, scratch: usize): void {
  const L = pattern_len(C);
  const sum = scratch, mpat = scratch + (<usize>L << 2);
  const s1p = scratch + (<usize>L << 3), s2p = scratch + (<usize>L * 12);
  // Rows per block: whole patterns, ≥ 4096 values and ≥ 16 rows so the per-block fold is cheap.
  const perPat = L / C;
  let B = max(BLOCK / C, 16);
  B = (B + perPat - 1) / perPat * perPat;
  for (let r0 = 0; r0 < R; r0 += B) {
    const rb = min(B, R - r0);
    const vals = rb * C;
    const full = vals - vals % L;
    const p = x + (<usize>r0 * <usize>C << 2);
    // Pass 1: lane sums into the pattern.
    memory.fill(sum, 0, <usize>L << 2);
    for (let i = 0; i < full; i += L) {
      const q = p + (<usize>i << 2);
      for (let j = 0; j < L; j += 4) {
        const o = <usize>j << 2;
        v128.store(sum + o, f32x4.add(v128.load(sum + o), v128.load(q + o)));
      }
    }
    for (let i = full; i < vals; i++) {
      const o = <usize>(i - full) << 2;
      store<f32>(sum + o, load<f32>(sum + o) + load<f32>(p + (<usize>i << 2)));
    }
    for (let c = 0; c < C; c++) {
      const m = <f32>(fold_lane(C, L, sum, c) / <f64>rb);
      for (let j = c; j < L; j += C) store<f32>(mpat + (<usize>j << 2), m);
    }
    // Pass 2: shifted sums, block still in L1.
    memory.fill(s1p, 0, <usize>L << 3);
    for (let i = 0; i < full; i += L) {
      const q = p + (<usize>i << 2);
      for (let j = 0; j < L; j += 4) {
        const o = <usize>j << 2;
        const d = f32x4.sub(v128.load(q + o), v128.load(mpat + o));
        v128.store(s1p + o, f32x4.add(v128.load(s1p + o), d));
        v128.store(s2p + o, f32x4.add(v128.load(s2p + o), f32x4.mul(d, d)));
      }
    }
    for (let i = full; i < vals; i++) {
      const o = <usize>(i - full) << 2;
      const d = load<f32>(p + (<usize>i << 2)) - load<f32>(mpat + o);
      store<f32>(s1p + o, load<f32>(s1p + o) + d);
      store<f32>(s2p + o, load<f32>(s2p + o) + d * d);
    }
    for (let c = 0; c < C; c++) {
      block_merge(acc + <usize>c * 24, <f64>rb, <f64>load<f32>(mpat + (<usize>c << 2)),
                  fold_lane(C, L, s1p, c), fold_lane(C, L, s2p, c));
    }
  }
}
