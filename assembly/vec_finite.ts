// Per-channel parameters (gamma, beta, bias) are checked to be finite after JS copied them into
// wasm memory, where they are read 16 at a time (a JS loop over them cost ~0.75 ns a value:
// 3 µs a call for layer norm's gamma and beta at C = 2048). A value is non-finite (NaN or
// ±Infinity) when its exponent bits are all ones, i.e. when its bits without the sign are
// ≥ 0x7f800000 unsigned: the vector loop keeps the unsigned maximum of those bits in four
// independent vectors (no branch per 16 values, two operations per vector); when the maximum is
// non-finite the scalar loop rescans from the start so the FIRST non-finite index is returned.
// Tail: the same scalar loop.

/** The index of the first non-finite value among the C f32 at v, or −1 when all are finite. */
export function vec_finite_f32(C: i32, v: usize): i32 {
  const M = i32x4.splat(0x7fffffff);
  let m0 = i32x4.splat(0), m1 = m0, m2 = m0, m3 = m0, i = 0;
  for (; i + 16 <= C; i += 16) {
    const p = v + (<usize>i << 2);
    m0 = i32x4.max_u(m0, v128.and(v128.load(p), M)); m1 = i32x4.max_u(m1, v128.and(v128.load(p, 16), M));
    m2 = i32x4.max_u(m2, v128.and(v128.load(p, 32), M)); m3 = i32x4.max_u(m3, v128.and(v128.load(p, 48), M));
  }
  const m = i32x4.max_u(i32x4.max_u(m0, m1), i32x4.max_u(m2, m3));
  if (v128.any_true(i32x4.ge_u(m, i32x4.splat(0x7f800000)))) i = 0;
  for (; i < C; i++) {
    if ((load<u32>(v + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
