// Channels-first row loops without scalar tails, written for short rows ((N, C, 7, 7)
// convolution maps: S = 49, a dozen vectors) where the per-row setup of the general loops (a
// 16-wide unroll that runs 0–3 times, a branch on m, a 4-wide loop and a scalar tail, f64
// horizontal sums) cost as much as moving the row; they run channels-first rows of ≥ 4
// values (normalize: all; dx and sums: up to 127, longer rows keep their m = 0 loops)
// (docs/performance.md). A row is floor((S − 1)/4) vectors from its own start (unaligned loads,
// body_of) plus one vector ending at its last value, which overlaps the body by the other
// (4 − S mod 4) mod 4 values (none when 4 divides S: a body of S/4 vectors took the last one
// twice, 1.1–1.2× slower on 16-value rows): written rows store it (computed twice from the same
// input, the same result; it is loaded before the body is stored, so y may alias x), summed rows
// mask the overlapped lanes (tail_mask). The normalize's body is floor(S/4) vectors: its steps of
// four vectors ran 0.90–0.95× on rows of 16 and 32 values with body_of's single steps after them.
// Rows of 1–3 values never come here.
import { zero_f32 } from "./common";

/** x − m, or x itself when the rows' m are all +0 (zero: a constant after inlining; zero_f32). */
@inline export function centred(x: v128, mv: v128, zero: bool): v128 {
  return zero ? x : f32x4.sub(x, mv);
}

/** The m vector at p, or +0 without a load when every m is +0 (zero: a constant after inlining). */
@inline export function m_vec(p: usize, zero: bool): v128 {
  return zero ? f32x4.splat(0) : v128.load(p);
}

/**
 * `rows` consecutive rows of S ≥ 4 values from x to y, row r normalized with
 * the parameters of index r mod C (batch norm: r = n·C + c; instance norm's (1, N·C, S) view:
 * C = N·C, one parameter set per row): y = (x − m)·scale + shift.
 */
export function normalize_short(rows: i32, C: i32, S: i32, x: usize, y: usize, m: usize, scale: usize, shift: usize): void {
  if (zero_f32(m, C)) normalize_rows(rows, C, S, x, y, m, scale, shift, true);
  else normalize_rows(rows, C, S, x, y, m, scale, shift, false);
}

/** normalize_short's rows; zero (every m is +0, zero_f32): y = x·scale + shift. */
@inline function normalize_rows(rows: i32, C: i32, S: i32, x: usize, y: usize, m: usize, scale: usize, shift: usize, zero: bool): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  let px = x, py = y, c = 0;
  for (let r = 0; r < rows; r++, px += stride, py += stride) {
    const co = <usize>c << 2;
    norm_row(px, py, body, last, v128.load32_splat(m + co), v128.load32_splat(scale + co), v128.load32_splat(shift + co), zero);
    if (++c == C) c = 0;
  }
}

/** One row: `body` bytes (a multiple of 16) as vectors, then the vector ending at `last` + 16. */
@inline function norm_row(px: usize, py: usize, body: usize, last: usize, mv: v128, sv: v128, tv: v128, zero: bool): void {
  const t = v128.load(px + last);
  let o: usize = 0;
  for (; o + 64 <= body; o += 64) {
    const a = px + o, b = py + o;
    v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a), mv, zero), sv), tv));
    v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a, 16), mv, zero), sv), tv), 16);
    v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a, 32), mv, zero), sv), tv), 32);
    v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a, 48), mv, zero), sv), tv), 48);
  }
  for (; o < body; o += 16) v128.store(py + o, f32x4.add(f32x4.mul(centred(v128.load(px + o), mv, zero), sv), tv));
  v128.store(py + last, f32x4.add(f32x4.mul(centred(t, mv, zero), sv), tv));
}

/**
 * Backward dx for `rows` consecutive rows of S ≥ 4 values, parameters of index
 * r mod C: dx = dy·k + (x − m)·a + b. dx may alias x or dy (the last vectors are loaded first).
 */
export function dx_short(rows: i32, C: i32, S: i32, x: usize, dy: usize, dx: usize, m: usize, k: usize, a: usize, b: usize): void {
  if (zero_f32(m, C)) dx_rows(rows, C, S, x, dy, dx, m, k, a, b, true);
  else dx_rows(rows, C, S, x, dy, dx, m, k, a, b, false);
}

/** dx_short's rows; zero (every m is +0, zero_f32): dx = dy·k + x·a + b. */
@inline function dx_rows(rows: i32, C: i32, S: i32, x: usize, dy: usize, dx: usize, m: usize, k: usize, a: usize, b: usize, zero: bool): void {
  const body = body_of(S), last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  let px = x, pd = dy, po = dx, c = 0;
  for (let r = 0; r < rows; r++, px += stride, pd += stride, po += stride) {
    const co = <usize>c << 2;
    const mv = v128.load32_splat(m + co), kv = v128.load32_splat(k + co);
    const av = v128.load32_splat(a + co), bv = v128.load32_splat(b + co);
    const tx = v128.load(px + last), td = v128.load(pd + last);
    // Two vectors a step, then the odd one: 1.11–1.24× over one vector a step (docs/performance.md).
    let o: usize = 0;
    for (; o + 32 <= body; o += 32) {
      v128.store(po + o, dx_vec(v128.load(pd + o), v128.load(px + o), mv, kv, av, bv, zero));
      v128.store(po + o, dx_vec(v128.load(pd + o, 16), v128.load(px + o, 16), mv, kv, av, bv, zero), 16);
    }
    if (o < body) v128.store(po + o, dx_vec(v128.load(pd + o), v128.load(px + o), mv, kv, av, bv, zero));
    v128.store(po + last, dx_vec(td, tx, mv, kv, av, bv, zero));
    if (++c == C) c = 0;
  }
}

/** dy·k + (x − m)·a + b of one vector (zero: x·a, centred). */
@inline function dx_vec(d: v128, x: v128, mv: v128, kv: v128, av: v128, bv: v128, zero: bool): v128 {
  return f32x4.add(f32x4.add(f32x4.mul(d, kv), f32x4.mul(centred(x, mv, zero), av)), bv);
}

/** Bytes of a row's body: the whole vectors before the vector ending at its last value (values below (S − 1) & ~3). */
@inline export function body_of(S: i32): usize {
  return <usize>((S - 1) & ~3) << 2;
}

/**
 * Lanes of the last vector of a row (values S − 4 … S − 1) that the body (body_of) did not
 * already count: the top ((S − 1) mod 4) + 1 lanes (all four when 4 divides S).
 */
@inline export function tail_mask(S: i32): v128 {
  return i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat((4 - (S & 3)) & 3));
}

/** Horizontal sums of two f32x4 as an f64x2 (Σa, Σb): lanes added in f32, the totals widened. */
@inline export function pair_sum(a: v128, b: v128): v128 {
  const h = f32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  return f64x2.promote_low_f32x4(f32x4.add(i32x4.shuffle(h, h, 0, 2, 1, 3), i32x4.shuffle(h, h, 1, 3, 0, 2)));
}

/**
 * Backward sums of `rows` consecutive rows of 4 ≤ S ≤ BLOCK values, row r into the f64
 * pair at acc + 16·(r mod C): Σdy and Σdy·(x − m) (m of index r mod C), added in f64 (merged).
 * Each row is summed in f32 lanes (≤ BLOCK values), the last vector masked.
 */
export function reduce_short(rows: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, acc: usize): void {
  if (zero_f32(m, C)) sums_rows(rows, C, S, x, dy, m, acc, true);
  else sums_rows(rows, C, S, x, dy, m, acc, false);
}

/** reduce_short's rows; zero (every m is +0, zero_f32): no subtraction. */
@inline function sums_rows(rows: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, acc: usize, zero: bool): void {
  const body = body_of(S), last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  const mask = tail_mask(S);
  let px = x, pd = dy, c = 0;
  for (let r = 0; r < rows; r++, px += stride, pd += stride) {
    const q = acc + (<usize>c << 4);
    v128.store(q, f64x2.add(v128.load(q), reduce_row(px, pd, body, last, mask, v128.load32_splat(m + (<usize>c << 2)), zero)));
    if (++c == C) c = 0;
  }
}

/** (Σdy, Σdy·(x − m)) of one row as an f64x2: f32 lanes, two chains, the last vector masked. */
@inline function reduce_row(px: usize, pd: usize, body: usize, last: usize, mask: v128, mv: v128, zero: bool): v128 {
  // Mask the product too: 0·(±Inf − m) in a lane the body already counted would be NaN.
  const dl = v128.load(pd + last);
  let a0 = v128.and(dl, mask), a1 = f32x4.splat(0);
  let b0 = v128.and(f32x4.mul(dl, centred(v128.load(px + last), mv, zero)), mask), b1 = f32x4.splat(0);
  let o: usize = 0;
  for (; o + 32 <= body; o += 32) {
    const d0 = v128.load(pd + o), d1 = v128.load(pd + o, 16);
    a0 = f32x4.add(a0, d0); b0 = f32x4.add(b0, f32x4.mul(d0, centred(v128.load(px + o), mv, zero)));
    a1 = f32x4.add(a1, d1); b1 = f32x4.add(b1, f32x4.mul(d1, centred(v128.load(px + o, 16), mv, zero)));
  }
  if (o < body) {
    const d0 = v128.load(pd + o);
    a1 = f32x4.add(a1, d0); b1 = f32x4.add(b1, f32x4.mul(d0, centred(v128.load(px + o), mv, zero)));
  }
  return pair_sum(f32x4.add(a0, a1), f32x4.add(b0, b1));
}
