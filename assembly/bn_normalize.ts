// Normalize: y = (x − m)·scale + shift, per channel.
//
// m is the f32 rounding of the mean (JS passes the f64 residue folded into shift), so x − m is
// exact for x near the mean and offsets of 1e4–1e6 keep full precision; the DESIGN's
// y = x·scale + (beta − mean·scale) would lose |mean|·2⁻²⁴ to cancellation. When the data sits
// near zero (|mean| ≤ std) JS passes m = 0 and the kernel runs the plain multiply-add.
// y may alias x (each value is read before it is written, in place).
import { pattern_len, interleave_all, zero_f32, past, WIDE_CACHED, FAR_VALUES } from "./common";
import { normalize_short, centred, m_vec } from "./cf_short";

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
 * Channels-last (R, C): parameters m, scale, shift are C f32 each, interleaved into one L-lane
 * pattern in scratch (common.ts interleave: per 4-lane group m, scale, shift; 3·⌈L⌉₄ f32,
 * 16-byte aligned). The stream is read in super-rows of L values (L/C rows): with L = 16
 * (C = 1, 2, 4, 8, 16) and the 12-value period (C = 3, 6, 12) the parameters live in registers
 * and the tensor goes in memory order. Otherwise, on cache-resident tensors, 16-lane column
 * sweeps keep a 16-lane group's twelve parameter vectors in registers down ~16 KiB of rows
 * (≤ SWEEP_VALUES values, L a multiple of 16) or four consecutive super-rows (L ≤ 96, up to
 * FAR_VALUES: they win on L3-resident data); wider rows of larger tensors load each 8-lane
 * group's parameters once for two super-rows (normalize_pairs); past the caches (WIDE_CACHED:
 * the two-row loops still won 1.25× at 1.2 Mi values) the super-rows go in memory order, in one
 * norm_span call when L is a multiple of 16 (figures in docs/performance.md). Tails (norm_span:
 * 4-wide steps, then scalars): the last L mod 8 values of a row (L = C, wide C) and the last
 * R mod (L/C) rows (< L values). Every in-register loop has a copy for m = +0 in every channel
 * (JS passes it for data near zero: zero_f32), which drops the subtraction and its m vectors
 * (the adds bound these loops from the caches: docs/performance.md).
 */
export function bn_normalize_f32_cl(R: i32, C: i32, x: usize, m: usize, scale: usize, shift: usize, y: usize, scratch: usize): void {
  const L = pattern_len(C), pp = scratch;
  interleave_all(C, L, pp, 3, m, scale, shift, 0);
  const supers = R / (L / C), stride = <usize>L << 2;
  const full = <usize>supers * stride, total = <usize>R * <usize>C << 2;
  const quads = L <= 96 && (L & 7) == 0, zero = zero_f32(m, C);
  if (L == 16) {
    normalize_regs(x, y, full, pp, zero, true);
  } else if (L == 48 && 12 % C == 0) {
    normalize_regs(x, y, full, pp, zero, false);
  } else if (past(R, C, quads ? FAR_VALUES : WIDE_CACHED)) {
    if (stride & 63) for (let o: usize = 0; o < full; o += stride) norm_span(x + o, y + o, stride, pp);
    else norm_span(x, y, full, pp, stride * 3);
  } else if (quads || (<u64>R * <u64>C <= <u64>SWEEP_VALUES && (L & 15) == 0)) {
    normalize_sweeps(x, y, stride, supers, pp, quads && <u64>R * <u64>C > <u64>SWEEP_VALUES ? 4 : max(<i32>(<usize>16384 / stride), 4), zero);
  } else {
    normalize_pairs(x, y, stride, supers, pp, zero);
  }
  norm_span(x + full, y + full, total - full, pp);
}

/**
 * Tensors up to this many values (512 KiB: x and y stay in L2) take 16-lane sweeps of ~16 KiB of
 * rows for any L that is a multiple of 16; past it the strided rows of power-of-two widths lost
 * (0.8–0.9× at 256–512 Ki values, C = 128, 256, 1024).
 */
const SWEEP_VALUES: i32 = 1 << 17;

/**
 * Super-rows of `stride` bytes (a multiple of 64), 16 lanes at a time: each 16-lane group's twelve
 * parameter vectors stay in registers while the group runs down B super-rows, then the next
 * group; every row's 64-byte pieces are whole cache lines (8-lane sweeps read half lines and
 * were 0.7–0.9× as fast in bench/cl-bound.mjs).
 */
function normalize_sweeps(x: usize, y: usize, stride: usize, supers: i32, pp: usize, B: i32, zero: bool): void {
  if (zero) sweeps(x, y, stride, supers, pp, B, true);
  else sweeps(x, y, stride, supers, pp, B, false);
}

/** normalize_sweeps' loops; zero (every m is +0: zero_f32): scale and shift only, eight parameter vectors in registers. */
@inline function sweeps(x: usize, y: usize, stride: usize, supers: i32, pp: usize, B: i32, zero: bool): void {
  for (let r0 = 0; r0 < supers; r0 += B) {
    const rn = min(B, supers - r0), base = <usize>r0 * stride;
    for (let o: usize = 0; o < stride; o += 64) {
      const q = pp + o * 3;
      const m0 = m_vec(q, zero), s0 = v128.load(q, 16), t0 = v128.load(q, 32);
      const m1 = m_vec(q + 48, zero), s1 = v128.load(q, 64), t1 = v128.load(q, 80);
      const m2 = m_vec(q + 96, zero), s2 = v128.load(q, 112), t2 = v128.load(q, 128);
      const m3 = m_vec(q + 144, zero), s3 = v128.load(q, 160), t3 = v128.load(q, 176);
      let a = x + base + o, b = y + base + o;
      for (let r = 0; r < rn; r++, a += stride, b += stride) {
        norm4(a, b, m0, s0, t0, m1, s1, t1, m2, s2, t2, m3, s3, t3, zero);
      }
    }
  }
}

/**
 * Super-rows of any L, two at a time: each 8-lane group's parameters are loaded once for both
 * rows (one row at a time is load-bound on its three parameter loads per data vector; four rows
 * at a time were slower; docs/performance.md has the figures). zero (every m is +0, which JS
 * passes for data near zero: zero_f32): scale and shift only, two parameter loads fewer a step.
 * Row tails and an odd last row: norm_span.
 */
function normalize_pairs(x: usize, y: usize, stride: usize, rows: i32, pp: usize, zero: bool): void {
  const b8 = stride & ~31;
  const pairs = rows & ~1;
  for (let r = 0; r < pairs; r += 2) {
    const px = x + <usize>r * stride, py = y + <usize>r * stride;
    if (zero) for (let o: usize = 0; o < b8; o += 32) {
      const q = pp + o * 3;
      const s0 = v128.load(q, 16), t0 = v128.load(q, 32), s1 = v128.load(q, 64), t1 = v128.load(q, 80);
      const a = px + o, b = py + o;
      v128.store(b, f32x4.add(f32x4.mul(v128.load(a), s0), t0));
      v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 16), s1), t1), 16);
      v128.store(b + stride, f32x4.add(f32x4.mul(v128.load(a + stride), s0), t0));
      v128.store(b + stride, f32x4.add(f32x4.mul(v128.load(a + stride, 16), s1), t1), 16);
    } else for (let o: usize = 0; o < b8; o += 32) {
      const q = pp + o * 3;
      const m0 = v128.load(q), s0 = v128.load(q, 16), t0 = v128.load(q, 32);
      const m1 = v128.load(q, 48), s1 = v128.load(q, 64), t1 = v128.load(q, 80);
      const a = px + o, b = py + o;
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), m0), s0), t0));
      v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), m1), s1), t1), 16);
      v128.store(b + stride, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a + stride), m0), s0), t0));
      v128.store(b + stride, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a + stride, 16), m1), s1), t1), 16);
    }
    if (b8 < stride) {
      norm_span(px + b8, py + b8, stride - b8, pp + b8 * 3);
      norm_span(px + stride + b8, py + stride + b8, stride - b8, pp + b8 * 3);
    }
  }
  if (pairs < rows) norm_span(x + <usize>pairs * stride, y + <usize>pairs * stride, stride, pp);
}

/**
 * `bytes` bytes of a super-row from a 4-lane group boundary (its parameters interleaved at q), in
 * order: 16 values a step with one address per stream (x, y, q), then 4-wide steps, then scalars.
 */
function norm_span(a: usize, b: usize, bytes: usize, q: usize, wrap: usize = 0): void {
  const e = a + bytes, e16 = a + (bytes & ~63), e4 = a + (bytes & ~15), q0 = q, qe = q + wrap;
  for (; a < e16; a += 64, b += 64) {
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), v128.load(q)), v128.load(q, 16)), v128.load(q, 32)));
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), v128.load(q, 48)), v128.load(q, 64)), v128.load(q, 80)), 16);
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 32), v128.load(q, 96)), v128.load(q, 112)), v128.load(q, 128)), 32);
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 48), v128.load(q, 144)), v128.load(q, 160)), v128.load(q, 176)), 48);
    q += 192;
    if (q == qe) q = q0;
  }
  for (; a < e4; a += 16, b += 16, q += 48) {
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), v128.load(q)), v128.load(q, 16)), v128.load(q, 32)));
  }
  for (; a < e; a += 4, b += 4, q += 4) store<f32>(b, (load<f32>(a) - load<f32>(q)) * load<f32>(q, 16) + load<f32>(q, 32));
}

/**
 * The parameters in registers, the stream read and written in order: L = 16 (four: 4-lane
 * groups, twelve vectors, 64 bytes a step) or C = 3, 6, 12 (the parameters repeat every 12
 * values: three groups, nine vectors, 48 bytes — four periods — a step; images: RGB). `full`
 * bytes (a multiple of the step). zero (every m is +0: zero_f32): the vectors of scale and shift
 * only, no subtraction.
 */
function normalize_regs(x: usize, y: usize, full: usize, pp: usize, zero: bool, four: bool): void {
  if (four) {
    if (zero) regs(x, y, full, pp, true, true);
    else regs(x, y, full, pp, false, true);
  } else if (zero) regs(x, y, full, pp, true, false);
  else regs(x, y, full, pp, false, false);
}

/** normalize_regs' loops, one compiled copy per (zero, four). */
@inline function regs(x: usize, y: usize, full: usize, pp: usize, zero: bool, four: bool): void {
  const m0 = m_vec(pp, zero), s0 = v128.load(pp, 16), t0 = v128.load(pp, 32);
  const m1 = m_vec(pp + 48, zero), s1 = v128.load(pp, 64), t1 = v128.load(pp, 80);
  const m2 = m_vec(pp + 96, zero), s2 = v128.load(pp, 112), t2 = v128.load(pp, 128);
  const m3 = four ? m_vec(pp + 144, zero) : f32x4.splat(0), s3 = four ? v128.load(pp, 160) : f32x4.splat(0), t3 = four ? v128.load(pp, 176) : f32x4.splat(0);
  const step: usize = four ? 64 : 48;
  for (let o: usize = 0; o < full; o += step) {
    if (four) norm4(x + o, y + o, m0, s0, t0, m1, s1, t1, m2, s2, t2, m3, s3, t3, zero);
    else norm3(x + o, y + o, m0, s0, t0, m1, s1, t1, m2, s2, t2, zero);
  }
}

/** Three consecutive vectors from a to b, parameters (m, s, t) of each in registers; zero (m = +0): no subtraction (centred). */
@inline function norm3(a: usize, b: usize, m0: v128, s0: v128, t0: v128, m1: v128, s1: v128, t1: v128, m2: v128, s2: v128, t2: v128, zero: bool): void {
  v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a), m0, zero), s0), t0));
  v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a, 16), m1, zero), s1), t1), 16);
  v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a, 32), m2, zero), s2), t2), 32);
}

/** norm3 and a fourth vector (64 bytes). */
@inline function norm4(a: usize, b: usize, m0: v128, s0: v128, t0: v128, m1: v128, s1: v128, t1: v128, m2: v128, s2: v128, t2: v128, m3: v128, s3: v128, t3: v128, zero: bool): void {
  norm3(a, b, m0, s0, t0, m1, s1, t1, m2, s2, t2, zero);
  v128.store(b, f32x4.add(f32x4.mul(centred(v128.load(a, 48), m3, zero), s3), t3), 48);
}
