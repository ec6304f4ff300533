// Exact per-channel sums of byte images: isums[c] += Σ byte, isums[3 + c] += Σ byte² (u64) for
// the colour channels c = 0, 1, 2 of R pixels of C interleaved bytes (C = 3: RGB; anything
// else = 4: RGBA, alpha ignored). Integer arithmetic throughout, so the sums are exact and
// independent of order; JS turns them into the (count, mean, M2) triple (js/ops/pixels-stats.ts).
//
// Lanes: each channel's bytes of two pixels are put side by side (RGBA: the bytes of pixels
// i…i+3 interleaved with those of i+4…i+7, a punpck; RGB: one i8x16.swizzle per 4 pixels);
// pair sums (i16x8.extadd_pairwise_i8x16_u, ≤ 510) accumulate in u16 lanes and pairs of squares
// (i32x4.dot_i16x8_s on bytes widened to u16, ≤ 130050) in i32 lanes, for at most ROUNDS vectors
// (128 · 510 < 2¹⁶; 128 · 2 · 130050 < 2³¹), then fold into u64 scalars.
// Reads never pass the last byte (RGB reads 16 bytes per 12); leftover pixels (< 18) go through
// a scalar tail.

const ROUNDS = 128;
const Z: i8 = -128; // swizzle index ≥ 16: the lane becomes 0

// Exact sums of this call (no multi-value returns): Σ in s0..s2, Σ² in q0..q2.
let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, q0: u64 = 0, q1: u64 = 0, q2: u64 = 0;

/** Squares of the 16 bytes of v, summed by pairs into i32 lanes. */
@inline function squares(v: v128): v128 {
  const lo = i16x8.extend_low_i8x16_u(v), hi = i16x8.extend_high_i8x16_u(v);
  return i32x4.add(i32x4.dot_i16x8_s(lo, lo), i32x4.dot_i16x8_s(hi, hi));
}

/**
 * The 12 bytes of 4 RGB pixels at p + off reordered so each channel's pixels sit in adjacent
 * byte pairs: r0 r1 g0 g1 b0 b1 0 0 | r2 r3 g2 g3 b2 b3 0 0 (the 16-byte load reads 4 bytes beyond).
 */
@inline function pairs(p: usize, off: usize): v128 {
  return i8x16.swizzle(v128.load(p + off), i8x16(0, 3, 1, 4, 2, 5, Z, Z, 6, 9, 7, 10, 8, 11, Z, Z));
}

/** 16 pixels per iteration, a block of ROUNDS vectors per lane between folds: returns the pixel index reached. */
@inline function run(R: i32, px: usize, rgb: bool): i32 {
  const K: i32 = rgb ? 3 : 4;
  // RGB loads read 4 bytes past their pixels: stop while the last one stays inside.
  const last = rgb ? (R - 2) & ~15 : R & ~15;
  let i = 0;
  while (i < last) {
    let s = i16x8.splat(0), q = i32x4.splat(0);
    const end = min(last, i + 4 * ROUNDS);
    for (; i < end; i += 16) {
      const p = px + <usize>(i * K);
      let v0: v128, v1: v128, v2: v128, v3: v128;
      if (rgb) {
        v0 = pairs(p, 0); v1 = pairs(p, 12); v2 = pairs(p, 24); v3 = pairs(p, 36);
      } else {
        // Interleaving the bytes of pixels i…i+3 with those of i+4…i+7 pairs each pixel's
        // channel with the same channel four pixels on (punpck: no shuffle mask).
        const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
        v0 = i8x16.shuffle(w0, w1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        v1 = i8x16.shuffle(w0, w1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        v2 = i8x16.shuffle(w2, w3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        v3 = i8x16.shuffle(w2, w3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      }
      const e01 = i16x8.add(i16x8.extadd_pairwise_i8x16_u(v0), i16x8.extadd_pairwise_i8x16_u(v1));
      const e23 = i16x8.add(i16x8.extadd_pairwise_i8x16_u(v2), i16x8.extadd_pairwise_i8x16_u(v3));
      s = i16x8.add(s, i16x8.add(e01, e23));
      q = i32x4.add(q, i32x4.add(i32x4.add(squares(v0), squares(v1)), i32x4.add(squares(v2), squares(v3))));
    }
    s0 += <u64>i16x8.extract_lane_u(s, 0) + <u64>i16x8.extract_lane_u(s, 4);
    s1 += <u64>i16x8.extract_lane_u(s, 1) + <u64>i16x8.extract_lane_u(s, 5);
    s2 += <u64>i16x8.extract_lane_u(s, 2) + <u64>i16x8.extract_lane_u(s, 6);
    q0 += <u64><u32>i32x4.extract_lane(q, 0);
    q1 += <u64><u32>i32x4.extract_lane(q, 1);
    q2 += <u64><u32>i32x4.extract_lane(q, 2);
  }
  return i;
}

function rgba(R: i32, px: usize): i32 { return run(R, px, false); }
function rgb(R: i32, px: usize): i32 { return run(R, px, true); }

export function px_stats_u8(R: i32, C: i32, px: usize, isums: usize): void {
  const c = C == 3 ? 3 : 4;
  s0 = 0; s1 = 0; s2 = 0; q0 = 0; q1 = 0; q2 = 0;
  let i = c == 3 ? rgb(R, px) : rgba(R, px);
  for (; i < R; i++) {
    const p = px + <usize>(i * c);
    const r = <u64>load<u8>(p), g = <u64>load<u8>(p, 1), b = <u64>load<u8>(p, 2);
    s0 += r; s1 += g; s2 += b;
    q0 += r * r; q1 += g * g; q2 += b * b;
  }
  store<u64>(isums, load<u64>(isums) + s0);
  store<u64>(isums, load<u64>(isums, 8) + s1, 8);
  store<u64>(isums, load<u64>(isums, 16) + s2, 16);
  store<u64>(isums, load<u64>(isums, 24) + q0, 24);
  store<u64>(isums, load<u64>(isums, 32) + q1, 32);
  store<u64>(isums, load<u64>(isums, 40) + q2, 40);
}
