// Image bytes to float32: y = byte·scale[c] + shift[c] for the colour channels c = 0, 1, 2.
//
// Input: R pixels of C interleaved bytes, C = 3 (RGB) or anything else = 4 (RGBA, alpha
// dropped), any alignment. scale, shift: 3 f32 each (JS folds y = (byte·s − mean)/std into
// scale = s/std, shift = −mean/std). Output f32, no alignment needed:
//   px_normalize_f32_cf: planar, channel c of pixel i at y + 4·(c·S + i) (S = plane stride in
//     values, so a run of pixels inside one image lands in the right place of each plane);
//   px_normalize_f32_cl: interleaved, 3 values per pixel.
// One pass: 16 bytes loaded per 4 pixels, i8x16.swizzle (constant masks, out-of-range lanes
// zero) widens the bytes of one channel (cf) or of three output vectors (cl) straight to i32
// lanes, convert, multiply-add, store. Reads never pass the input's last byte: the SIMD loop
// stops while 16 bytes still fit (RGB: 4 pixels are 12 bytes), the rest is a scalar tail.
// y must not overlap px.

const Z: i8 = -128; // swizzle index ≥ 16: the lane becomes 0

@inline function lanes(v: v128, mask: v128, a: v128, b: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i8x16.swizzle(v, mask)), a), b);
}

/** Pixels [i, R) one at a time (a function of its own: it runs once per call). */
function tailCf(i: i32, R: i32, C: i32, S: i32, px: usize, a: usize, b: usize, y: usize): void {
  const s4 = <usize>S << 2;
  for (; i < R; i++) {
    const p = px + <usize>(i * C), o = y + (<usize>i << 2);
    store<f32>(o, <f32>load<u8>(p) * load<f32>(a) + load<f32>(b));
    store<f32>(o + s4, <f32>load<u8>(p, 1) * load<f32>(a, 4) + load<f32>(b, 4));
    store<f32>(o + 2 * s4, <f32>load<u8>(p, 2) * load<f32>(a, 8) + load<f32>(b, 8));
  }
}

function tailCl(i: i32, R: i32, C: i32, px: usize, a: usize, b: usize, y: usize): void {
  for (; i < R; i++) {
    const p = px + <usize>(i * C), o = y + <usize>(i * 12);
    store<f32>(o, <f32>load<u8>(p) * load<f32>(a) + load<f32>(b));
    store<f32>(o, <f32>load<u8>(p, 1) * load<f32>(a, 4) + load<f32>(b, 4), 4);
    store<f32>(o, <f32>load<u8>(p, 2) * load<f32>(a, 8) + load<f32>(b, 8), 8);
  }
}

/** Planar store of 4 pixels whose bytes are in v (channel c at bytes c, c + K, c + 2K, c + 3K). */
@inline function planes4(v: v128, o: usize, s4: usize, a0: v128, a1: v128, a2: v128, b0: v128, b1: v128, b2: v128): void {
  v128.store(o, lanes(v, i8x16(0, Z, Z, Z, 4, Z, Z, Z, 8, Z, Z, Z, 12, Z, Z, Z), a0, b0));
  v128.store(o + s4, lanes(v, i8x16(1, Z, Z, Z, 5, Z, Z, Z, 9, Z, Z, Z, 13, Z, Z, Z), a1, b1));
  v128.store(o + 2 * s4, lanes(v, i8x16(2, Z, Z, Z, 6, Z, Z, Z, 10, Z, Z, Z, 14, Z, Z, Z), a2, b2));
}

@inline function planes3(v: v128, o: usize, s4: usize, a0: v128, a1: v128, a2: v128, b0: v128, b1: v128, b2: v128): void {
  v128.store(o, lanes(v, i8x16(0, Z, Z, Z, 3, Z, Z, Z, 6, Z, Z, Z, 9, Z, Z, Z), a0, b0));
  v128.store(o + s4, lanes(v, i8x16(1, Z, Z, Z, 4, Z, Z, Z, 7, Z, Z, Z, 10, Z, Z, Z), a1, b1));
  v128.store(o + 2 * s4, lanes(v, i8x16(2, Z, Z, Z, 5, Z, Z, Z, 8, Z, Z, Z, 11, Z, Z, Z), a2, b2));
}

// 16 pixels per iteration (V8 rematerializes v128 constants at every use inside a loop: four
// uses per mask share one), then 4 at a time, then the scalar tail.
function cf4(R: i32, S: i32, px: usize, a: usize, b: usize, y: usize): void {
  const a0 = v128.load32_splat(a), a1 = v128.load32_splat(a, 4), a2 = v128.load32_splat(a, 8);
  const b0 = v128.load32_splat(b), b1 = v128.load32_splat(b, 4), b2 = v128.load32_splat(b, 8);
  const s4 = <usize>S << 2;
  let i = 0;
  for (; i + 16 <= R; i += 16) {
    const p = px + (<usize>i << 2), o = y + (<usize>i << 2);
    planes4(v128.load(p), o, s4, a0, a1, a2, b0, b1, b2);
    planes4(v128.load(p, 16), o + 16, s4, a0, a1, a2, b0, b1, b2);
    planes4(v128.load(p, 32), o + 32, s4, a0, a1, a2, b0, b1, b2);
    planes4(v128.load(p, 48), o + 48, s4, a0, a1, a2, b0, b1, b2);
  }
  for (; i + 4 <= R; i += 4) planes4(v128.load(px + (<usize>i << 2)), y + (<usize>i << 2), s4, a0, a1, a2, b0, b1, b2);
  tailCf(i, R, 4, S, px, a, b, y);
}

function cf3(R: i32, S: i32, px: usize, a: usize, b: usize, y: usize): void {
  const a0 = v128.load32_splat(a), a1 = v128.load32_splat(a, 4), a2 = v128.load32_splat(a, 8);
  const b0 = v128.load32_splat(b), b1 = v128.load32_splat(b, 4), b2 = v128.load32_splat(b, 8);
  const s4 = <usize>S << 2;
  let i = 0;
  // 16-byte loads at 12-byte steps: the last one reads 4 bytes past its pixels.
  for (; 3 * i + 52 <= 3 * R; i += 16) {
    const p = px + <usize>(3 * i), o = y + (<usize>i << 2);
    planes3(v128.load(p), o, s4, a0, a1, a2, b0, b1, b2);
    planes3(v128.load(p, 12), o + 16, s4, a0, a1, a2, b0, b1, b2);
    planes3(v128.load(p, 24), o + 32, s4, a0, a1, a2, b0, b1, b2);
    planes3(v128.load(p, 36), o + 48, s4, a0, a1, a2, b0, b1, b2);
  }
  for (; 3 * i + 16 <= 3 * R; i += 4) planes3(v128.load(px + <usize>(3 * i)), y + (<usize>i << 2), s4, a0, a1, a2, b0, b1, b2);
  tailCf(i, R, 3, S, px, a, b, y);
}

/** Per-lane parameters of the three output vectors of 4 interleaved pixels: c0c1c2c0, c1c2c0c1, c2c0c1c2. */
@inline function rot0(p: usize): v128 { return f32x4(load<f32>(p), load<f32>(p, 4), load<f32>(p, 8), load<f32>(p)); }
@inline function rot1(p: usize): v128 { return f32x4(load<f32>(p, 4), load<f32>(p, 8), load<f32>(p), load<f32>(p, 4)); }
@inline function rot2(p: usize): v128 { return f32x4(load<f32>(p, 8), load<f32>(p), load<f32>(p, 4), load<f32>(p, 8)); }

/** Interleaved store of 4 pixels (12 values) whose bytes are in v. */
@inline function rows4(v: v128, o: usize, a0: v128, a1: v128, a2: v128, b0: v128, b1: v128, b2: v128): void {
  v128.store(o, lanes(v, i8x16(0, Z, Z, Z, 1, Z, Z, Z, 2, Z, Z, Z, 4, Z, Z, Z), a0, b0));
  v128.store(o, lanes(v, i8x16(5, Z, Z, Z, 6, Z, Z, Z, 8, Z, Z, Z, 9, Z, Z, Z), a1, b1), 16);
  v128.store(o, lanes(v, i8x16(10, Z, Z, Z, 12, Z, Z, Z, 13, Z, Z, Z, 14, Z, Z, Z), a2, b2), 32);
}

@inline function rows3(v: v128, o: usize, a0: v128, a1: v128, a2: v128, b0: v128, b1: v128, b2: v128): void {
  v128.store(o, lanes(v, i8x16(0, Z, Z, Z, 1, Z, Z, Z, 2, Z, Z, Z, 3, Z, Z, Z), a0, b0));
  v128.store(o, lanes(v, i8x16(4, Z, Z, Z, 5, Z, Z, Z, 6, Z, Z, Z, 7, Z, Z, Z), a1, b1), 16);
  v128.store(o, lanes(v, i8x16(8, Z, Z, Z, 9, Z, Z, Z, 10, Z, Z, Z, 11, Z, Z, Z), a2, b2), 32);
}

function cl4(R: i32, px: usize, a: usize, b: usize, y: usize): void {
  const a0 = rot0(a), a1 = rot1(a), a2 = rot2(a), b0 = rot0(b), b1 = rot1(b), b2 = rot2(b);
  let i = 0;
  for (; i + 16 <= R; i += 16) {
    const p = px + (<usize>i << 2), o = y + <usize>(i * 12);
    rows4(v128.load(p), o, a0, a1, a2, b0, b1, b2);
    rows4(v128.load(p, 16), o + 48, a0, a1, a2, b0, b1, b2);
    rows4(v128.load(p, 32), o + 96, a0, a1, a2, b0, b1, b2);
    rows4(v128.load(p, 48), o + 144, a0, a1, a2, b0, b1, b2);
  }
  for (; i + 4 <= R; i += 4) rows4(v128.load(px + (<usize>i << 2)), y + <usize>(i * 12), a0, a1, a2, b0, b1, b2);
  tailCl(i, R, 4, px, a, b, y);
}

function cl3(R: i32, px: usize, a: usize, b: usize, y: usize): void {
  const a0 = rot0(a), a1 = rot1(a), a2 = rot2(a), b0 = rot0(b), b1 = rot1(b), b2 = rot2(b);
  let i = 0;
  for (; 3 * i + 52 <= 3 * R; i += 16) {
    const p = px + <usize>(3 * i), o = y + <usize>(i * 12);
    rows3(v128.load(p), o, a0, a1, a2, b0, b1, b2);
    rows3(v128.load(p, 12), o + 48, a0, a1, a2, b0, b1, b2);
    rows3(v128.load(p, 24), o + 96, a0, a1, a2, b0, b1, b2);
    rows3(v128.load(p, 36), o + 144, a0, a1, a2, b0, b1, b2);
  }
  for (; 3 * i + 16 <= 3 * R; i += 4) rows3(v128.load(px + <usize>(3 * i)), y + <usize>(i * 12), a0, a1, a2, b0, b1, b2);
  tailCl(i, R, 3, px, a, b, y);
}

/** Planar output: R pixels of one image into three planes of stride S values. */
export function px_normalize_f32_cf(R: i32, S: i32, C: i32, px: usize, scale: usize, shift: usize, y: usize): void {
  if (C == 3) cf3(R, S, px, scale, shift, y);
  else cf4(R, S, px, scale, shift, y);
}

/** Interleaved output: R pixels, 3 values each. */
export function px_normalize_f32_cl(R: i32, C: i32, px: usize, scale: usize, shift: usize, y: usize): void {
  if (C == 3) cl3(R, px, scale, shift, y);
  else cl4(R, px, scale, shift, y);
}
