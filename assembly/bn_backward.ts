// Backward in two passes (DESIGN: keep the (x − mean) form; a·x + b cancels at large offsets).
//
// Pass 1 (reduce): per channel Σdy and Σdy·(x − m) into f64 pairs at acc + 16·c (MERGED: zero
// acc first). f32 lanes over blocks of ≤ 4096 values, blocks added in f64.
// Pass 2 (dx): dx = dy·k + (x − m)·c1 + c0 with per-channel k, c1, c0 from JS. dx may alias dy
// or x (elementwise, in place).
import { dx_short, reduce_short, pair_sum, centred, m_vec } from "./cf_short";
import { BLOCK, reduce_rows, pattern_len, expand_pattern, fold_lane, touch_lines, interleave_all, zero_f32, past, CACHED_VALUES, WIDE_CACHED, BACKWARD_FAR, FAR_VALUES, zero_shift } from "./common";

/**
 * Σdy and Σdy·(x − m) over len ≤ BLOCK contiguous values ADDED to the f64 pair at acc; m: the f32
 * at mp. m = 0 (JS passes it when |mean| ≤ std; it corrects Σdy·x by −mean·Σdy in f64): no
 * subtraction, four chains 16 values a step (the short-row loop's subtraction and two chains
 * cost 0.75× on long rows), a scalar f64 tail. Otherwise the short-row loop (cf_short.ts
 * reduce_short: f32 lanes, the last vector masked) for len ≥ 4, the scalar tail below that.
 */
export function block_reduce(px: usize, pd: usize, len: i32, mp: usize, acc: usize): void {
  const m = load<f32>(mp);
  if (len >= 4 && !zero_shift(m)) { reduce_short(1, 1, len, px, pd, mp, acc); return; }
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  let i = 0;
  if (zero_shift(m)) {
    for (; i + 16 <= len; i += 16) {
      const o = <usize>i << 2;
      const d0 = v128.load(pd + o), d1 = v128.load(pd + o, 16), d2 = v128.load(pd + o, 32), d3 = v128.load(pd + o, 48);
      a0 = f32x4.add(a0, d0); b0 = f32x4.add(b0, f32x4.mul(d0, v128.load(px + o)));
      a1 = f32x4.add(a1, d1); b1 = f32x4.add(b1, f32x4.mul(d1, v128.load(px + o, 16)));
      a2 = f32x4.add(a2, d2); b2 = f32x4.add(b2, f32x4.mul(d2, v128.load(px + o, 32)));
      a3 = f32x4.add(a3, d3); b3 = f32x4.add(b3, f32x4.mul(d3, v128.load(px + o, 48)));
    }
  }
  let v = pair_sum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)));
  for (; i < len; i++) {
    const o = <usize>i << 2, d = <f64>load<f32>(pd + o);
    v = f64x2.add(v, f64x2(d, d * <f64>(load<f32>(px + o) - m)));
  }
  v128.store(acc, f64x2.add(v128.load(acc), v));
}

/** Channels-first (N, C, S). m: C f32. acc: C f64 pairs (Σdy, Σdy·(x−m)), merged into. */
export function bn_backward_reduce_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, acc: usize): void {
  // Rows of 4 … 127 values: per row f32 lanes, the last vector masked (cf_short.ts); longer
  // rows in blocks (block_reduce: its m = 0 loop is 1.2× faster there at 4096 values).
  if (S >= 4 && S < 128) { reduce_short(N * C, C, S, x, dy, m, acc); return; }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
      for (let off = 0; off < S; off += BLOCK) {
        const o = base + (<usize>off << 2);
        block_reduce(x + o, dy + o, min(BLOCK, S - off), m + (<usize>c << 2), acc + (<usize>c << 4));
      }
    }
  }
}

/**
 * Channels-last (R, C). scratch: 3·⌈L⌉₄ f32 (16-byte aligned). Super-rows of L values (L/C
 * rows); per block of ~4096 values, 8 lanes at a time run down the super-rows with accumulators
 * in registers (past the caches: the super-rows in memory order with the lane sums in L1; L = 16
 * with m = 0 and the 12-value period: all lanes in registers, in memory order), then lanes fold
 * into f64 per channel. Every lane adds its rows in row order on every path. Tails: the last
 * L mod 8 columns (L = C, wide C) in scalar f32 lanes (tail_reduce); the last R mod (L/C) rows in
 * scalar f64.
 */
export function bn_backward_reduce_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, acc: usize, scratch: usize): void {
  const L = pattern_len(C), L8 = L & ~7;
  const Lp = <usize>(L + 3) & ~3;
  const mp = scratch, ap = scratch + (Lp << 2), bp = scratch + (Lp << 3);
  expand_pattern(C, L, m, mp);
  const per = L / C, supers = R / per;
  const SB = max(BLOCK / L, 256); // amortize the per-block fold
  const stride = <usize>L << 2;
  // Past the caches (1.5 Mi values: the sweeps still won 1.3–1.45× at 1.2 Mi; 2 Mi for 48–80-value
  // rows, 4 Mi for 32) rows of a multiple of 8 values from 32 up go in memory order (reduce_flat:
  // the column sweeps' strided streams ran at 0.3–0.55 of a copy there); other rows of ≥ 96
  // values read each sub-block in memory order first (touch_lines; L = 16 lost with it).
  const far = past(R, C, WIDE_CACHED);
  const flat = (L >= 96 ? far : past(R, C, narrow_far(L))) && L >= 32 && (L & 7) == 0;
  // Tensors in L2 (≤ DX_VALUES): sweeps of 16 KiB of rows, fewer accumulator reloads (1.1–1.2×;
  // 64 KiB lost). Each lane still adds its rows in row order: the same bits.
  const touch = far && L >= 96, SUB = <u64>R * <u64>C <= <u64>DX_VALUES ? max(reduce_rows(L), 4096 / L) : reduce_rows(L), p12 = L == 48 && 12 % C == 0, zero0 = (L == 16 || p12) && zero_f32(m, C), zero = L == 16 && zero0;
  for (let b0 = 0; b0 < supers; b0 += SB) {
    const nb = min(SB, supers - b0);
    memory.fill(ap, 0, Lp << 3);
    const ob = <usize>b0 * stride;
    if (p12) reduce_p12(x + ob, dy + ob, nb, mp, ap, bp, zero0);
    else if (zero) reduce_p16(x + ob, dy + ob, nb, ap, bp);
    else if (flat) reduce_flat(x + ob, dy + ob, <usize>nb * stride, stride, mp, ap, bp);
    else for (let r0 = 0; r0 < nb; r0 += SUB) {
      const rn = min(SUB, nb - r0);
      const base = <usize>(b0 + r0) * <usize>L << 2;
      if (touch) { touch_lines(x + base, <usize>rn * stride); touch_lines(dy + base, <usize>rn * stride); }
      if (L8 < L) tail_reduce(x + base, dy + base, rn, L, L8, mp, ap, bp);
      for (let j = 0; j < L8; j += 8) {
        const o = <usize>j << 2;
        const m0 = v128.load(mp + o), m1 = v128.load(mp + o, 16);
        let a0 = v128.load(ap + o), a1 = v128.load(ap + o, 16), c0 = v128.load(bp + o), c1 = v128.load(bp + o, 16);
        let px = x + base + o, pd = dy + base + o;
        for (let r = 0; r < rn; r++, px += stride, pd += stride) {
          const d0 = v128.load(pd), d1 = v128.load(pd, 16);
          a0 = f32x4.add(a0, d0); a1 = f32x4.add(a1, d1);
          c0 = f32x4.add(c0, f32x4.mul(d0, f32x4.sub(v128.load(px), m0)));
          c1 = f32x4.add(c1, f32x4.mul(d1, f32x4.sub(v128.load(px, 16), m1)));
        }
        v128.store(ap + o, a0); v128.store(ap + o, a1, 16);
        v128.store(bp + o, c0); v128.store(bp + o, c1, 16);
      }
    }
    fold_block(C, L, ap, bp, acc);
  }
  for (let r = supers * per; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const q = (<usize>r * <usize>C + <usize>c) << 2;
      const d = <f64>load<f32>(dy + q);
      const a = acc + (<usize>c << 4);
      store<f64>(a, load<f64>(a) + d);
      store<f64>(a, load<f64>(a, 8) + d * <f64>(load<f32>(x + q) - load<f32>(m + (<usize>c << 2))), 8);
    }
  }
}

/**
 * `bytes` bytes of super-rows of `stride` bytes (a multiple of 32) in memory order, 8 lanes a
 * step, the lane sums in L1 (ap, bp: ADDED to). Each lane adds its rows in the column sweeps'
 * order, so the sums are the same bits.
 */
function reduce_flat(x: usize, dy: usize, bytes: usize, stride: usize, mp: usize, ap: usize, bp: usize): void {
  let q: usize = 0;
  for (let o: usize = 0; o < bytes; o += 32) {
    const d0 = v128.load(dy + o), d1 = v128.load(dy + o, 16), a = ap + q, b = bp + q, m = mp + q;
    v128.store(a, f32x4.add(v128.load(a), d0));
    v128.store(a, f32x4.add(v128.load(a, 16), d1), 16);
    v128.store(b, f32x4.add(v128.load(b), f32x4.mul(d0, f32x4.sub(v128.load(x + o), v128.load(m)))));
    v128.store(b, f32x4.add(v128.load(b, 16), f32x4.mul(d1, f32x4.sub(v128.load(x + o, 16), v128.load(m, 16)))), 16);
    q += 32;
    if (q == stride) q = 0;
  }
}

/** Add the block's lane sums (patterns ap, bp of L f32) into the f64 pairs at acc, per channel. */
function fold_block(C: i32, L: i32, ap: usize, bp: usize, acc: usize): void {
  for (let c = 0; c < C; c++) {
    const a = acc + (<usize>c << 4);
    store<f64>(a, load<f64>(a) + fold_lane(C, L, ap, c));
    store<f64>(a, load<f64>(a, 8) + fold_lane(C, L, bp, c), 8);
  }
}

/**
 * C = 3, 6, 12: nb super-rows of 48 values read in order, Σdy and Σdy·(x − m) per lane of the
 * 12-value period in registers (m: three vectors; zero, every m +0: none, no subtraction),
 * written to ap[0…12), bp[0…12) (the rest of the 48-lane patterns stays zero, so fold_lane sums
 * them unchanged).
 */
function reduce_p12(x: usize, dy: usize, nb: i32, mp: usize, ap: usize, bp: usize, zero: bool): void {
  if (zero) p12_sums(x, dy, nb, mp, ap, bp, true);
  else p12_sums(x, dy, nb, mp, ap, bp, false);
}

/** reduce_p12's loop, one compiled copy per zero. */
@inline function p12_sums(x: usize, dy: usize, nb: i32, mp: usize, ap: usize, bp: usize, zero: bool): void {
  const m0 = m_vec(mp, zero), m1 = m_vec(mp + 16, zero), m2 = m_vec(mp + 32, zero);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
  const end = <usize>nb * 192;
  for (let i: usize = 0; i < end; i += 48) {
    const u = x + i, d = dy + i;
    const d0 = v128.load(d), d1 = v128.load(d, 16), d2 = v128.load(d, 32);
    a0 = f32x4.add(a0, d0); c0 = f32x4.add(c0, f32x4.mul(d0, centred(v128.load(u), m0, zero)));
    a1 = f32x4.add(a1, d1); c1 = f32x4.add(c1, f32x4.mul(d1, centred(v128.load(u, 16), m1, zero)));
    a2 = f32x4.add(a2, d2); c2 = f32x4.add(c2, f32x4.mul(d2, centred(v128.load(u, 32), m2, zero)));
  }
  v128.store(ap, a0); v128.store(ap, a1, 16); v128.store(ap, a2, 32);
  v128.store(bp, c0); v128.store(bp, c1, 16); v128.store(bp, c2, 32);
}

/**
 * L = 16 with m = 0 (x − 0 = x, so the same bits): nb super-rows read in order, Σdy and Σdy·x of
 * the 16 lanes in eight registers, written to ap, bp (1.4–1.6× the column sweeps on
 * cache-resident data; with m in four more registers the loop spilled and ran at half speed).
 */
function reduce_p16(x: usize, dy: usize, nb: i32, ap: usize, bp: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const end = <usize>nb << 6;
  for (let i: usize = 0; i < end; i += 64) {
    const u = x + i, d = dy + i;
    const d0 = v128.load(d), d1 = v128.load(d, 16), d2 = v128.load(d, 32), d3 = v128.load(d, 48);
    a0 = f32x4.add(a0, d0); c0 = f32x4.add(c0, f32x4.mul(d0, v128.load(u)));
    a1 = f32x4.add(a1, d1); c1 = f32x4.add(c1, f32x4.mul(d1, v128.load(u, 16)));
    a2 = f32x4.add(a2, d2); c2 = f32x4.add(c2, f32x4.mul(d2, v128.load(u, 32)));
    a3 = f32x4.add(a3, d3); c3 = f32x4.add(c3, f32x4.mul(d3, v128.load(u, 48)));
  }
  v128.store(ap, a0); v128.store(ap, a1, 16); v128.store(ap, a2, 32); v128.store(ap, a3, 48);
  v128.store(bp, c0); v128.store(bp, c1, 16); v128.store(bp, c2, 32); v128.store(bp, c3, 48);
}

/** Columns L8 … L − 1 of rn super-rows of L values: Σdy and Σdy·(x − m) ADDED to the f32 lanes ap, bp. */
function tail_reduce(x: usize, dy: usize, rn: i32, L: i32, L8: i32, mp: usize, ap: usize, bp: usize): void {
  const stride = <usize>L << 2;
  for (let j = L8; j < L; j++) {
    const o = <usize>j << 2, mj = load<f32>(mp + o);
    let a: f32 = load<f32>(ap + o), b: f32 = load<f32>(bp + o);
    for (let r = 0; r < rn; r++) {
      const q = <usize>r * stride + o, d = load<f32>(dy + q);
      a += d; b += d * (load<f32>(x + q) - mj);
    }
    store<f32>(ap + o, a); store<f32>(bp + o, b);
  }
}

/** One contiguous row: dx = dy·k + (x − m)·a + b. Tail: 8-wide, 4-wide, then scalar. */
export function dx_row(px: usize, pd: usize, po: usize, S: i32, ms: f32, ks: f32, as: f32, bs: f32): void {
  const mv = f32x4.splat(ms), kv = f32x4.splat(ks), av = f32x4.splat(as), bv = f32x4.splat(bs);
  let i = 0;
  if (zero_shift(ms)) {
    for (; i + 16 <= S; i += 16) {
      const o = <usize>i << 2;
      const r0 = f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o), kv), f32x4.mul(v128.load(px + o), av)), bv);
      const r1 = f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o, 16), kv), f32x4.mul(v128.load(px + o, 16), av)), bv);
      const r2 = f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o, 32), kv), f32x4.mul(v128.load(px + o, 32), av)), bv);
      const r3 = f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o, 48), kv), f32x4.mul(v128.load(px + o, 48), av)), bv);
      v128.store(po + o, r0);
      v128.store(po + o, r1, 16);
      v128.store(po + o, r2, 32);
      v128.store(po + o, r3, 48);
    }
  }
  for (; i + 8 <= S; i += 8) {
    const o = <usize>i << 2;
    const r0 = f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o), kv), f32x4.mul(f32x4.sub(v128.load(px + o), mv), av)), bv);
    const r1 = f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o, 16), kv), f32x4.mul(f32x4.sub(v128.load(px + o, 16), mv), av)), bv);
    v128.store(po + o, r0);
    v128.store(po + o, r1, 16);
  }
  for (; i + 4 <= S; i += 4) {
    const o = <usize>i << 2;
    v128.store(po + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o), kv), f32x4.mul(f32x4.sub(v128.load(px + o), mv), av)), bv));
  }
  for (; i < S; i++) {
    const o = <usize>i << 2;
    store<f32>(po + o, load<f32>(pd + o) * ks + (load<f32>(px + o) - ms) * as + bs);
  }
}

/** Channels-first (N, C, S): dx = dy·k + (x − m)·c1 + c0; m, k, c1, c0: C f32 each. */
export function bn_backward_dx_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, k: usize, c1: usize, c0: usize, dx: usize): void {
  // Rows of 4 … 127 values: floor((S − 1)/4) vectors and the last one (cf_short.ts); longer
  // rows keep dx_row's m = 0 loop (5–7 % faster there).
  if (S >= 4 && S < 128) { dx_short(N * C, C, S, x, dy, dx, m, k, c1, c0); return; }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
      const co = <usize>c << 2;
      dx_row(x + base, dy + base, dx + base, S, load<f32>(m + co), load<f32>(k + co), load<f32>(c1 + co), load<f32>(c0 + co));
    }
  }
}

/**
 * Where a backward on patterns of fewer than 96 values leaves its cache-resident loops (the sums'
 * column sweeps, dx's four-super-row sweeps) for memory order: BACKWARD_FAR from 48-value
 * patterns, FAR_VALUES below (memory order lost 0.87–0.98× at 3 Mi values on 32-value ones).
 */
@inline function narrow_far(L: i32): i32 {
  return L >= 48 ? BACKWARD_FAR : FAR_VALUES;
}

/**
 * Channels-last (R, C): dx = dy·k + (x − m)·c1 + c0. scratch: 4·⌈L⌉₄ f32 (16-byte aligned): the
 * four parameters interleaved per 4-lane group (common.ts interleave). Super-rows of L values:
 * the 12-value period (C = 3, 6, 12) keeps the parameters in registers, in memory order, and so
 * does L = 16 with m = 0 at every size (dx_sweeps0 over its one 16-lane group); tensors
 * of ≤ DX_VALUES values with m = 0 (JS passes it for data near zero) and L a multiple of 16 up to
 * 512 take 16-lane sweeps with k, c1, c0 in registers (dx_sweeps0); other
 * cache-resident tensors with rows up to 64 values (L a multiple of 8) load each 8-lane group's
 * parameters once for four consecutive super-rows (four sequential streams), wider rows two at a
 * time (dx_pairs); past the caches (1.125·CACHED_VALUES: dx moves 12 bytes a value, and the pairs
 * won 1.15–1.3× just past 1 Mi values, lost 0.85× at 1.2 Mi; for the four-row sweeps, which win
 * on L3-resident data, 2 Mi values from 48-value rows and FAR_VALUES for 16 and 32) the
 * super-rows go in memory order (dx_span, one call when L is a multiple of 16; figures in
 * docs/performance.md). Tails (dx_span: 4-wide steps, then scalars): the last L mod 8 values of a
 * row (L = C, wide C) and the last R mod (L/C) rows (< L values).
 */
export function bn_backward_dx_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, k: usize, c1: usize, c0: usize, dx: usize, scratch: usize): void {
  const L = pattern_len(C), pp = scratch;
  interleave_all(C, L, pp, 4, m, k, c1, c0);
  const supers = R / (L / C), stride = <usize>L << 2;
  const full = <usize>supers * stride, total = <usize>R * <usize>C << 2;
  const quads = L <= 64 && (L & 7) == 0;
  if (L == 48 && 12 % C == 0) {
    dx_p12(x, dy, dx, full, pp);
  } else if ((L == 16 || (<u64>R * <u64>C <= <u64>DX_VALUES && (L & 15) == 0 && L <= 512)) && zero_f32(m, C)) {
    // (Tensors of ≤ DX_VALUES values are never past the caches: the order of the tests is free.)
    dx_sweeps0(x, dy, dx, stride, supers, pp);
  } else if (past(R, C, quads ? narrow_far(L) : CACHED_VALUES + (CACHED_VALUES >> 3))) {
    // One call for all super-rows when their parameters wrap at a 16-value step (a call per
    // 16-value super-row cost a third of the time past the caches).
    if (stride & 63) for (let o: usize = 0; o < full; o += stride) dx_span(x + o, dy + o, dx + o, stride, pp);
    else dx_span(x, dy, dx, full, pp, stride << 2);
  } else if (quads) {
    dx_quads(x, dy, dx, stride, supers, pp);
  } else {
    dx_pairs(x, dy, dx, stride, supers, pp);
  }
  dx_span(x + full, dy + full, dx + full, total - full, pp);
}

/** dx = dy·k + (x − m)·c1 + c0 of two vectors (32 bytes) from u (x), d (dy) into w (dx); parameters of each vector. */
@inline function dx_two(u: usize, d: usize, w: usize, m0: v128, k0: v128, a0: v128, b0: v128, m1: v128, k1: v128, a1: v128, b1: v128): void {
  v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d), k0), f32x4.mul(f32x4.sub(v128.load(u), m0), a0)), b0));
  v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 16), k1), f32x4.mul(f32x4.sub(v128.load(u, 16), m1), a1)), b1), 16);
}

/** dx_sweeps0 up to this many values (x, dy and dx in L2; at 2 Mi values the sweeps ran at 0.5–0.6×). */
const DX_VALUES: i32 = 1 << 17;
/** Bytes of x per block of rows a dx_sweeps0 group runs down (16 KiB beat 4 KiB and 64 KiB). */
const DX_BYTES: usize = 16384;

/** dx = dy·k + x·c1 + c0 of one vector at offset o (m = 0: x − 0 is x, the same bits); k, c1, c0 of the vector. */
@inline function dx0(u: usize, d: usize, w: usize, o: usize, k: v128, a: v128, b: v128): void {
  v128.store(w + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(d + o), k), f32x4.mul(v128.load(u + o), a)), b));
}

/**
 * m = 0: super-rows of `stride` bytes (a multiple of 64, ≤ 2 KiB), 16 lanes at a time, each
 * 16-lane group's k, c1, c0 (twelve vectors) in registers while it runs down a block of rows
 * (~16 KiB of x). With m the sixteen vectors do not fit (V8 leaves fifteen xmm registers).
 */
function dx_sweeps0(x: usize, dy: usize, dx: usize, stride: usize, supers: i32, pp: usize): void {
  const B = <i32>(DX_BYTES / stride);
  for (let r0 = 0; r0 < supers; r0 += B) {
    const rn = min(B, supers - r0), base = <usize>r0 * stride;
    for (let o: usize = 0; o < stride; o += 64) {
      const q = pp + (o << 2);
      const k0 = v128.load(q, 16), a0 = v128.load(q, 32), b0 = v128.load(q, 48);
      const k1 = v128.load(q, 80), a1 = v128.load(q, 96), b1 = v128.load(q, 112);
      const k2 = v128.load(q, 144), a2 = v128.load(q, 160), b2 = v128.load(q, 176);
      const k3 = v128.load(q, 208), a3 = v128.load(q, 224), b3 = v128.load(q, 240);
      let p = base + o;
      for (let r = 0; r < rn; r++, p += stride) {
        const u = x + p, d = dy + p, w = dx + p;
        dx0(u, d, w, 0, k0, a0, b0); dx0(u, d, w, 16, k1, a1, b1); dx0(u, d, w, 32, k2, a2, b2); dx0(u, d, w, 48, k3, a3, b3);
      }
    }
  }
}

/**
 * Super-rows of `stride` bytes (L a multiple of 8), four at a time: each 8-lane group loads its
 * parameters once for four rows; the remaining super-rows in order (dx_span).
 */
function dx_quads(x: usize, dy: usize, dx: usize, stride: usize, supers: i32, pp: usize): void {
  const quads = supers & ~3;
  for (let r = 0; r < quads; r += 4) {
    const base = <usize>r * stride;
    for (let o: usize = 0; o < stride; o += 32) {
      const q = pp + (o << 2);
      const m0 = v128.load(q), k0 = v128.load(q, 16), a0 = v128.load(q, 32), b0 = v128.load(q, 48);
      const m1 = v128.load(q, 64), k1 = v128.load(q, 80), a1 = v128.load(q, 96), b1 = v128.load(q, 112);
      let u = x + base + o, d = dy + base + o, w = dx + base + o;
      for (let i = 0; i < 4; i++, u += stride, d += stride, w += stride) dx_two(u, d, w, m0, k0, a0, b0, m1, k1, a1, b1);
    }
  }
  for (let o = <usize>quads * stride, e = <usize>supers * stride; o < e; o += stride) dx_span(x + o, dy + o, dx + o, stride, pp);
}

/**
 * Super-rows of any L, two at a time: each 8-lane group's parameters are loaded once for both
 * rows (1.3–1.7× over one row at a time from 96 values up on cache-resident data: four parameter
 * loads per two data vectors made single rows load-bound). Row tails and an odd last row: dx_span.
 */
function dx_pairs(x: usize, dy: usize, dx: usize, stride: usize, rows: i32, pp: usize): void {
  const b8 = stride & ~31;
  const pairs = rows & ~1;
  for (let r = 0; r < pairs; r += 2) {
    const base = <usize>r * stride;
    for (let o: usize = 0; o < b8; o += 32) {
      const q = pp + (o << 2), p = base + o;
      const m0 = v128.load(q), k0 = v128.load(q, 16), a0 = v128.load(q, 32), b0 = v128.load(q, 48);
      const m1 = v128.load(q, 64), k1 = v128.load(q, 80), a1 = v128.load(q, 96), b1 = v128.load(q, 112);
      const u = x + p, d = dy + p, w = dx + p;
      dx_two(u, d, w, m0, k0, a0, b0, m1, k1, a1, b1);
      dx_two(u + stride, d + stride, w + stride, m0, k0, a0, b0, m1, k1, a1, b1);
    }
    if (b8 < stride) {
      const p = base + b8;
      dx_span(x + p, dy + p, dx + p, stride - b8, pp + (b8 << 2));
      dx_span(x + p + stride, dy + p + stride, dx + p + stride, stride - b8, pp + (b8 << 2));
    }
  }
  if (pairs < rows) { const p = <usize>pairs * stride; dx_span(x + p, dy + p, dx + p, stride, pp); }
}

/**
 * C = 3, 6, 12: the parameters repeat every 12 values (three 4-lane groups, twelve registers),
 * so the streams are read and written in order, 48 values per step. `full` bytes (a multiple of
 * 192).
 */
function dx_p12(x: usize, dy: usize, dx: usize, full: usize, pp: usize): void {
  const m0 = v128.load(pp), k0 = v128.load(pp, 16), a0 = v128.load(pp, 32), b0 = v128.load(pp, 48);
  const m1 = v128.load(pp, 64), k1 = v128.load(pp, 80), a1 = v128.load(pp, 96), b1 = v128.load(pp, 112);
  const m2 = v128.load(pp, 128), k2 = v128.load(pp, 144), a2 = v128.load(pp, 160), b2 = v128.load(pp, 176);
  for (let o: usize = 0; o < full; o += 48) {
    const u = x + o, d = dy + o, w = dx + o;
    v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d), k0), f32x4.mul(f32x4.sub(v128.load(u), m0), a0)), b0));
    v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 16), k1), f32x4.mul(f32x4.sub(v128.load(u, 16), m1), a1)), b1), 16);
    v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 32), k2), f32x4.mul(f32x4.sub(v128.load(u, 32), m2), a2)), b2), 32);
  }
}

/** dx = dy·k + (x − m)·c1 + c0 over one 4-lane group: data at u, d, w; parameters at q. */
@inline function dx4(u: usize, d: usize, w: usize, q: usize): void {
  v128.store(w, f32x4.add(f32x4.add(f32x4.mul(v128.load(d), v128.load(q, 16)),
    f32x4.mul(f32x4.sub(v128.load(u), v128.load(q)), v128.load(q, 32))), v128.load(q, 48)));
}

/**
 * `bytes` bytes of a super-row from its start (parameters interleaved at q), in order: 16 values
 * a step with one address per stream, then 4-wide steps, then scalars.
 */
function dx_span(u: usize, d: usize, w: usize, bytes: usize, q: usize, wrap: usize = 0): void {
  const e = u + bytes, e16 = u + (bytes & ~63), e4 = u + (bytes & ~15), q0 = q, qe = q + wrap;
  for (; u < e16; u += 64, d += 64, w += 64) {
    dx4(u, d, w, q); dx4(u + 16, d + 16, w + 16, q + 64); dx4(u + 32, d + 32, w + 32, q + 128); dx4(u + 48, d + 48, w + 48, q + 192);
    q += 256;
    if (q == qe) q = q0;
  }
  for (; u < e4; u += 16, d += 16, w += 16, q += 64) dx4(u, d, w, q);
  for (; u < e; u += 4, d += 4, w += 4, q += 4) {
    store<f32>(w, load<f32>(d) * load<f32>(q, 16) + (load<f32>(u) - load<f32>(q)) * load<f32>(q, 32) + load<f32>(q, 48));
  }
}
