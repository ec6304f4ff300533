// Per-channel parameters (gamma, beta, bias) are checked to be finite after JS copied them into
// wasm memory, where they are read 16 at a time (a JS loop over them cost ~0.75 ns a value:
// 3 µs a call for layer norm's gamma and beta at C = 2048). A value is non-finite (NaN or
// ±Infinity) when its exponent bits are all ones. The vector loop only ORs the hits together (no
// branch per 16 values); when any lane hit, the scalar loop rescans from the start so the FIRST
// non-finite index is returned. Tail: the same scalar loop.

/** The index of the first non-finite value among the C f32 at v, or −1 when all are finite. */
export function vec_finite_f32(C: i32, v: usize): i32 {
  const E = i32x4.splat(0x7f800000);
  let hit = i32x4.splat(0), i = 0;
  for (; i + 16 <= C; i += 16) {
    const p = v + (<usize>i << 2);
    const h0 = i32x4.eq(v128.and(v128.load(p), E), E), h1 = i32x4.eq(v128.and(v128.load(p, 16), E), E);
    const h2 = i32x4.eq(v128.and(v128.load(p, 32), E), E), h3 = i32x4.eq(v128.and(v128.load(p, 48), E), E);
    hit = v128.or(hit, v128.or(v128.or(h0, h1), v128.or(h2, h3)));
  }
  if (v128.any_true(hit)) i = 0;
  for (; i < C; i++) {
    if ((load<u32>(v + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
