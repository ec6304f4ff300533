// Normalize: y = (x − m)·scale + shift, per channel.
//
// m is the f32 rounding of the mean (JS passes the f64 residue folded into shift), so x − m is
// exact for x near the mean and offsets of 1e4–1e6 keep full precision; the DESIGN's
// y = x·scale + (beta − mean·scale) would lose |mean|·2⁻²⁴ to cancellation. When the data sits
// near zero (|mean| ≤ std) JS passes m = 0 and the kernel runs the plain multiply-add.
// y may alias x (each value is read before it is written, in place).
import { pattern_len, expand_pattern, streamed } from "./common";
import { normalize_short } from "./cf_short";

/**
 * One contiguous row: y = (x − m)·s + t — floor(S/4) vectors and an overlapping last one
 * (cf_short.ts norm_row) for S ≥ 4, scalars below. y may alias x.
 */
export function normalize_row(px: usize, py: usize, S: i32, ms: f32, ss: f32, ts: f32): void {
  if (S >= 4) {
    // One vector a step (the unrolled norm_row would add ~0.15 KB to a size-bound module).
    const mv = f32x4.splat(ms), sv = f32x4.splat(ss), tv = f32x4.splat(ts);
    const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, t = v128.load(px + last);
    for (let o: usize = 0; o < body; o += 16) v128.store(py + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), mv), sv), tv));
    v128.store(py + last, f32x4.add(f32x4.mul(f32x4.sub(t, mv), sv), tv));
    return;
  }
  for (let i = 0; i < S; i++) {
    const o = <usize>i << 2;
    store<f32>(py + o, (load<f32>(px + o) - ms) * ss + ts);
  }
}

/** Channels-first (N, C, S): parameters m, scale, shift are C f32 each. */
export function bn_normalize_f32_cf(N: i32, C: i32, S: i32, x: usize, m: usize, scale: usize, shift: usize, y: usize): void {
  // Rows of ≥ 4 values: each row floor(S/4) vectors and an overlapping last one (cf_short.ts).
  if (S >= 4) { normalize_short(N * C, C, S, x, y, m, scale, shift); return; }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
      const co = <usize>c << 2;
      normalize_row(x + base, y + base, S, load<f32>(m + co), load<f32>(scale + co), load<f32>(shift + co));
    }
  }
}

/**
 * Channels-last (R, C): parameters m, scale, shift are C f32 each, expanded into L-long
 * patterns in scratch (3·⌈L⌉₄ f32, 16-byte aligned). The stream is read in order, one super-row
 * of L values (L/C rows) after another: with L = 16 (C = 1, 2, 4, 8, 16) the patterns live in
 * registers; otherwise each 8-lane group loads its parameters once for four consecutive
 * super-rows (rows up to 96 values; long column sweeps defeat the prefetchers) or, for wider
 * rows, once for two rows (normalize_rows; figures in docs/performance.md). Tails: a row whose length is
 * not a multiple of 8 (L = C, wide C) ends in a 4-wide step and scalars; the last R mod (L/C)
 * rows (< L values) in scalar.
 */
export function bn_normalize_f32_cl(R: i32, C: i32, x: usize, m: usize, scale: usize, shift: usize, y: usize, scratch: usize): void {
  const L = pattern_len(C);
  const Lp = <usize>(L + 3) & ~3;
  const mp = scratch, sp = scratch + (Lp << 2), tp = scratch + (Lp << 3);
  expand_pattern(C, L, m, mp);
  expand_pattern(C, L, scale, sp);
  expand_pattern(C, L, shift, tp);
  const per = L / C, supers = R / per;
  const full = <usize>supers * <usize>L, total = <usize>R * <usize>C;
  if (L == 16) {
    const m0 = v128.load(mp), m1 = v128.load(mp, 16), m2 = v128.load(mp, 32), m3 = v128.load(mp, 48);
    const s0 = v128.load(sp), s1 = v128.load(sp, 16), s2 = v128.load(sp, 32), s3 = v128.load(sp, 48);
    const t0 = v128.load(tp), t1 = v128.load(tp, 16), t2 = v128.load(tp, 32), t3 = v128.load(tp, 48);
    for (let i: usize = 0; i < full; i += 16) {
      const o = i << 2;
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o), m0), s0), t0));
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o, 16), m1), s1), t1), 16);
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o, 32), m2), s2), t2), 32);
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o, 48), m3), s3), t3), 48);
    }
  } else if (L == 48 && 12 % C == 0) {
    normalize_p12(x, y, full, mp, sp, tp);
  } else if (L <= 96 && (L & 7) == 0) {
    normalize_quads(x, y, L, supers, mp, sp, tp);
  } else {
    normalize_rows(x, y, L, supers, mp, sp, tp, !streamed(R, C));
  }
  for (let i = full; i < total; i++) {
    const o = (i - full) << 2;
    store<f32>(y + (i << 2), (load<f32>(x + (i << 2)) - load<f32>(mp + o)) * load<f32>(sp + o) + load<f32>(tp + o));
  }
}

/**
 * Super-rows of L values (L a multiple of 8), four at a time: each 8-lane group loads its
 * parameters once for four rows (four sequential streams), then the remaining super-rows one by
 * one, parameters re-read from L1.
 */
function normalize_quads(x: usize, y: usize, L: i32, supers: i32, mp: usize, sp: usize, tp: usize): void {
  const stride = <usize>L << 2;
  const quads = supers & ~3;
  for (let r = 0; r < quads; r += 4) {
    const base = <usize>r * stride;
    for (let j: usize = 0; j < <usize>L; j += 8) {
      const o = j << 2;
      const m0 = v128.load(mp + o), m1 = v128.load(mp + o, 16);
      const s0 = v128.load(sp + o), s1 = v128.load(sp + o, 16);
      const t0 = v128.load(tp + o), t1 = v128.load(tp + o, 16);
      let px = x + base + o, py = y + base + o;
      for (let q = 0; q < 4; q++, px += stride, py += stride) {
        v128.store(py, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px), m0), s0), t0));
        v128.store(py, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px, 16), m1), s1), t1), 16);
      }
    }
  }
  const q0 = <usize>quads * stride;
  normalize_rows(x + q0, y + q0, L, supers - quads, mp, sp, tp, false);
}

/**
 * Super-rows of any L, two at a time when `paired`: each 8-lane group's parameters are loaded
 * once for both rows (one row at a time is load-bound on its three parameter loads per data
 * vector; four rows at a time were slower; docs/performance.md has the figures; past the caches
 * the two interleaved streams lose to
 * single rows, so streamed tensors go one row at a time). Row tail (row_tail): 4-wide, then scalar.
 */
function normalize_rows(x: usize, y: usize, L: i32, rows: i32, mp: usize, sp: usize, tp: usize, paired: bool): void {
  const L8 = <usize>(L & ~7), L4 = <usize>(L & ~3);
  const stride = <usize>L << 2;
  const pairs = paired ? rows & ~1 : 0;
  for (let r = 0; r < pairs; r += 2) {
    const px = x + <usize>r * stride, py = y + <usize>r * stride;
    for (let j: usize = 0; j < L8; j += 8) {
      const o = j << 2;
      const m0 = v128.load(mp + o), m1 = v128.load(mp + o, 16);
      const s0 = v128.load(sp + o), s1 = v128.load(sp + o, 16);
      const t0 = v128.load(tp + o), t1 = v128.load(tp + o, 16);
      const a = px + o, b = py + o;
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), m0), s0), t0));
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), m1), s1), t1), 16);
      v128.store(b + stride, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a + stride), m0), s0), t0));
      v128.store(b + stride, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a + stride, 16), m1), s1), t1), 16);
    }
    if (L8 < <usize>L) { row_tail(px, py, L8, L4, L, mp, sp, tp); row_tail(px + stride, py + stride, L8, L4, L, mp, sp, tp); }
  }
  for (let r = pairs; r < rows; r++) {
    const px = x + <usize>r * stride, py = y + <usize>r * stride;
    for (let j: usize = 0; j < L8; j += 8) {
      const o = j << 2;
      v128.store(py + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), v128.load(mp + o)), v128.load(sp + o)), v128.load(tp + o)));
      v128.store(py + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o, 16), v128.load(mp + o, 16)), v128.load(sp + o, 16)), v128.load(tp + o, 16)), 16);
    }
    row_tail(px, py, L8, L4, L, mp, sp, tp);
  }
}

/** Values L8 … L − 1 of one row: a 4-wide step, then scalars. */
function row_tail(px: usize, py: usize, L8: usize, L4: usize, L: i32, mp: usize, sp: usize, tp: usize): void {
  let j = L8;
  for (; j < L4; j += 4) {
    const o = j << 2;
    v128.store(py + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), v128.load(mp + o)), v128.load(sp + o)), v128.load(tp + o)));
  }
  for (; j < <usize>L; j++) {
    const o = j << 2;
    store<f32>(py + o, (load<f32>(px + o) - load<f32>(mp + o)) * load<f32>(sp + o) + load<f32>(tp + o));
  }
}

/**
 * C = 3, 6, 12 (images: RGB): the parameters repeat every 12 values, three vectors each, so all
 * nine stay in registers and the stream is read and written in order, 48 values (four periods)
 * per step. `full` (a multiple of 48) values.
 */
function normalize_p12(x: usize, y: usize, full: usize, mp: usize, sp: usize, tp: usize): void {
  const m0 = v128.load(mp), m1 = v128.load(mp, 16), m2 = v128.load(mp, 32);
  const s0 = v128.load(sp), s1 = v128.load(sp, 16), s2 = v128.load(sp, 32);
  const t0 = v128.load(tp), t1 = v128.load(tp, 16), t2 = v128.load(tp, 32);
  for (let i: usize = 0; i < full; i += 48) {
    const px = x + (i << 2), py = y + (i << 2);
    for (let q: usize = 0; q < 192; q += 48) {
      const a = px + q, b = py + q;
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), m0), s0), t0));
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), m1), s1), t1), 16);
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 32), m2), s2), t2), 32);
    }
  }
}
