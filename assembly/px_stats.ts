// Exact per-channel sums of byte images: isums[c] += Σ byte, isums[3 + c] += Σ byte² (u64) for
// the colour channels c = 0, 1, 2 of R pixels of C interleaved bytes (C = 3: RGB; anything
// else = 4: RGBA, alpha ignored). Integer arithmetic throughout, so the sums are exact and
// independent of order; JS turns them into the (count, mean, M2) triple (js/ops/pixels-stats.ts).
//
// Lanes: pair sums (i16x8.extadd_pairwise_i8x16_u, ≤ 510) accumulate in u16 lanes and pairs of
// squares (i32x4.dot_i16x8_s on bytes widened to u16, ≤ 130050) in i32 lanes, for at most
// ROUNDS iterations (128 · 510 < 2¹⁶; 128 · 4 · 65025 < 2³¹), then fold into u64 scalars.
// RGBA: one i8x16.shuffle puts the two pixels of each channel next to each other; RGB: 48 bytes
// (16 pixels) are de-interleaved into one vector per channel (two shuffles each). Reads never
// pass the last byte; leftover pixels (< 4 RGBA, < 16 RGB) go through a scalar tail.

const ROUNDS = 128;

// Sums of the current block, folded by flush*: Σ in s0..s2, Σ² in q0..q2.
let s0: u64 = 0, s1: u64 = 0, s2: u64 = 0, q0: u64 = 0, q1: u64 = 0, q2: u64 = 0;

@inline function sum16(v: v128): u64 {
  const w = i32x4.extadd_pairwise_i16x8_u(v);
  return <u64><u32>(i32x4.extract_lane(w, 0) + i32x4.extract_lane(w, 1) + i32x4.extract_lane(w, 2) + i32x4.extract_lane(w, 3));
}

@inline function sum32(v: v128): u64 {
  return <u64><u32>i32x4.extract_lane(v, 0) + <u64><u32>i32x4.extract_lane(v, 1) + <u64><u32>i32x4.extract_lane(v, 2) + <u64><u32>i32x4.extract_lane(v, 3);
}

/** Squares of the 16 bytes of v, summed by pairs into i32 lanes. */
@inline function squares(v: v128): v128 {
  const lo = i16x8.extend_low_i8x16_u(v), hi = i16x8.extend_high_i8x16_u(v);
  return i32x4.add(i32x4.dot_i16x8_s(lo, lo), i32x4.dot_i16x8_s(hi, hi));
}

/** RGBA, 4 pixels per iteration: returns the pixel index reached. */
function rgba(R: i32, px: usize): i32 {
  let i = 0;
  while (i + 4 <= R) {
    let s = i16x8.splat(0), q = i32x4.splat(0);
    const end = min(R & ~3, i + 4 * ROUNDS);
    for (; i < end; i += 4) {
      // r0 r1 g0 g1 b0 b1 a0 a1 | r2 r3 g2 g3 b2 b3 a2 a3
      const v = i8x16.shuffle(v128.load(px + (<usize>i << 2)), v128.splat<i32>(0), 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
      s = i16x8.add(s, i16x8.extadd_pairwise_i8x16_u(v));
      q = i32x4.add(q, squares(v));
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

/** RGB, 16 pixels (48 bytes) per iteration: returns the pixel index reached. */
function rgb(R: i32, px: usize): i32 {
  let i = 0;
  while (i + 16 <= R) {
    let sr = i16x8.splat(0), sg = i16x8.splat(0), sb = i16x8.splat(0);
    let qr = i32x4.splat(0), qg = i32x4.splat(0), qb = i32x4.splat(0);
    const end = min(R & ~15, i + 16 * ROUNDS);
    for (; i < end; i += 16) {
      const p = px + <usize>(3 * i);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
      const r = i8x16.shuffle(i8x16.shuffle(v0, v1, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29);
      const g = i8x16.shuffle(i8x16.shuffle(v0, v1, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30);
      const b = i8x16.shuffle(i8x16.shuffle(v0, v1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31);
      sr = i16x8.add(sr, i16x8.extadd_pairwise_i8x16_u(r));
      sg = i16x8.add(sg, i16x8.extadd_pairwise_i8x16_u(g));
      sb = i16x8.add(sb, i16x8.extadd_pairwise_i8x16_u(b));
      qr = i32x4.add(qr, squares(r));
      qg = i32x4.add(qg, squares(g));
      qb = i32x4.add(qb, squares(b));
    }
    s0 += sum16(sr); s1 += sum16(sg); s2 += sum16(sb);
    q0 += sum32(qr); q1 += sum32(qg); q2 += sum32(qb);
  }
  return i;
}

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
