// Per-channel parameters (gamma, beta, bias) are checked to be finite after JS copied them into
// wasm memory, where they are read 16 at a time (a JS loop over them cost ~0.75 ns a value:
// 3 µs a call for layer norm's gamma and beta at C = 2048). A value is non-finite (NaN or
// ±Infinity). A sum of values is non-finite when any of them is (NaN propagates, ±Infinity
// stays or meets ∓Infinity and gives NaN), so the vector loop only adds: one float add per
// vector into two accumulators, no branch per 16 values; when the sum is not finite — a value
// was, or finite values overflowed it (|sum| > 3.4e38, never for real parameters) — the scalar
// loop rescans from the start and returns the FIRST non-finite index (or −1 after an overflow).
// Tail: the same scalar loop.

/** The index of the first non-finite value among the C f32 at v, or −1 when all are finite. */
export function vec_finite_f32(C: i32, v: usize): i32 {
  let s0 = f32x4.splat(0), s1 = s0, i = 0;
  for (; i + 16 <= C; i += 16) {
    const p = v + (<usize>i << 2);
    s0 = f32x4.add(s0, f32x4.add(v128.load(p), v128.load(p, 16)));
    s1 = f32x4.add(s1, f32x4.add(v128.load(p, 32), v128.load(p, 48)));
  }
  const s = f32x4.add(s0, s1);
  if (v128.any_true(f32x4.ne(f32x4.sub(s, s), f32x4.splat(0)))) i = 0;
  for (; i < C; i++) {
    if ((load<u32>(v + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
