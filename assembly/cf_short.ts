// Channels-first rows shorter than SHORT_ROW values ((N, C, 7, 7) convolution maps: S = 49),
// where a row is only a dozen vectors and the per-row setup of the general loops (three loop
// tails, a 16-wide unroll that runs 0–3 times, a branch on m) cost as much as moving the row.
// Here a row is floor(S/4) vectors from its own start (unaligned loads) plus one vector ending
// at its last value, which overlaps the body by 4 − S mod 4 values: no scalar tail. That last
// vector is loaded before the body is stored, so y may alias x (in place): the overlapped
// values are computed twice from the same input and stored twice with the same result.
// Rows of 1–3 values (S < 4) never come here (js/ops/dispatch.ts sends S < 16 to the
// pseudo-channel path when it can; bn_normalize_f32_cf keeps the row loop for the rest).

/** Rows shorter than this take the short-row loops (and must have at least 4 values). */
export const SHORT_ROW: i32 = 64;

/** True when rows of S values take the short-row loops. */
@inline export function short_rows(S: i32): bool {
  return S >= 4 && S < SHORT_ROW;
}

/**
 * `rows` consecutive rows of S values (4 ≤ S < SHORT_ROW) from x to y, row r normalized with
 * the parameters of index r mod C (batch norm: r = n·C + c; instance norm's (1, N·C, S) view:
 * C = N·C, one parameter set per row): y = (x − m)·scale + shift.
 */
export function normalize_short(rows: i32, C: i32, S: i32, x: usize, y: usize, m: usize, scale: usize, shift: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  let px = x, py = y, c = 0;
  for (let r = 0; r < rows; r++, px += stride, py += stride) {
    const co = <usize>c << 2;
    const mv = v128.load32_splat(m + co), sv = v128.load32_splat(scale + co), tv = v128.load32_splat(shift + co);
    const t = v128.load(px + last);
    let o: usize = 0;
    for (; o + 64 <= body; o += 64) {
      const a = px + o, b = py + o;
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), mv), sv), tv));
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), mv), sv), tv), 16);
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 32), mv), sv), tv), 32);
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 48), mv), sv), tv), 48);
    }
    for (; o < body; o += 16) v128.store(py + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), mv), sv), tv));
    v128.store(py + last, f32x4.add(f32x4.mul(f32x4.sub(t, mv), sv), tv));
    if (++c == C) c = 0;
  }
}

/**
 * Backward dx for `rows` consecutive rows of S values (4 ≤ S < SHORT_ROW), parameters of index
 * r mod C: dx = dy·k + (x − m)·a + b. dx may alias x or dy (the last vectors are loaded first).
 */
export function dx_short(rows: i32, C: i32, S: i32, x: usize, dy: usize, dx: usize, m: usize, k: usize, a: usize, b: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  let px = x, pd = dy, po = dx, c = 0;
  for (let r = 0; r < rows; r++, px += stride, pd += stride, po += stride) {
    const co = <usize>c << 2;
    const mv = v128.load32_splat(m + co), kv = v128.load32_splat(k + co);
    const av = v128.load32_splat(a + co), bv = v128.load32_splat(b + co);
    const tx = v128.load(px + last), td = v128.load(pd + last);
    let o: usize = 0;
    for (; o + 32 <= body; o += 32) {
      const u = px + o, d = pd + o, w = po + o;
      v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d), kv), f32x4.mul(f32x4.sub(v128.load(u), mv), av)), bv));
      v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 16), kv), f32x4.mul(f32x4.sub(v128.load(u, 16), mv), av)), bv), 16);
    }
    for (; o < body; o += 16) {
      v128.store(po + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o), kv), f32x4.mul(f32x4.sub(v128.load(px + o), mv), av)), bv));
    }
    v128.store(po + last, f32x4.add(f32x4.add(f32x4.mul(td, kv), f32x4.mul(f32x4.sub(tx, mv), av)), bv));
    if (++c == C) c = 0;
  }
}
