// Layer norm over the last axis as a row kernel: R rows of C contiguous values (channels-last
// layouts and (N, C)), one statistic per row, gamma/beta per column.
//
// Per row: Σ(x − h) and Σ(x − h)² around a shift h while the row is read from memory: h = 0
// (plain Σx, Σx²: one subtraction less per vector) for the first row and after a row whose
// mean² ≤ var/16, else the previous row's f32 mean. When h is not within half a standard
// deviation of the mean the deviation pass is redone around the mean from L1 (rows.ts
// ln_row_stats: offsets of 1e4–1e6 keep full precision either way). Then
// y = ((x − m)·a + b)·γ + β with m the f32 mean (0 for a row taken exactly in f64 whose mean is
// within a std of zero: ln_row_stats), a = invstd and b = −(mean − m)·a folding the
// f64 residue of the mean (dropped when below 2⁻²⁴), and the activation over the row, both while
// it is in L1. So x is read from memory once and y written once.
// y may alias x. Tails: scalar remainder (assembly/rows.ts).
import { ret0, ret1 } from "./common";
import { row_dev, row_sums, row_norm, ln_row_stats, row_m, row_a, row_b, row_h, exact_stats, exact_center } from "./rows";
import { TINY } from "./bn_stats";
import { act_row } from "./act";
import { norm_tile } from "./ln_normalize";
import { ln_short_tile, ln_short_declined, SHORT_TILE } from "./rows_short";
import { rms_forward_f32_cl } from "./rms_forward";

/**
 * y = act(((x − mean)·invstd)·gamma + beta) per row of C; mean, invstd (R f32) written.
 * gamma, beta: C f32 (the identity when the op has none). act: ids of assembly/act.ts.
 */
export function ln_forward_f32_cl(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32): void {
  if (R <= 0) return;
  const rs = <usize>C << 2;
  let h: f32 = 0;
  row_sums(x, C);
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs, ro = <usize>r << 2, nx = px + rs;
    ln_row_stats(px, C, h, ret0, ret1, eps, mean + ro, rstd + ro);
    h = row_h;
    const m = row_m, a = row_a, b = row_b;
    // Row r + 1's sums before row r's normalize (rows that fit L1 twice): they need only the
    // shift, so they run while the square root and division of row r's invstd complete.
    const early = r + 1 < R && C <= EARLY;
    if (early) row_next(nx, C, h);
    row_norm(px, py, C, m, a, b, gamma, beta);
    if (act) act_row(py, py, C, act);
    if (!early && r + 1 < R) row_next(nx, C, h);
  }
}

/**
 * ln_forward_f32_cl for rows of 1 ≤ C ≤ 32 values, in tiles of up to 64 rows four at a time
 * (assembly/rows_short.ts). The last 1–4 rows run on a copy in scratch (their last vector would
 * read past x), the last row repeated to make four. Four rows whose variance f32 cannot hold run
 * the row kernel. scratch: 32·⌈C/4⌉ + 16·C + 944 bytes, 16-byte aligned.
 */
export function ln_forward_short_f32_cl(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32, scratch: usize): void {
  short_rows(R, C, x, gamma, beta, y, mean, rstd, eps, act, scratch, false);
}

/**
 * The four-row layer norm (rms false) or RMS norm (rms true: beta and mean unused) of R rows of
 * C: tiles of ln_short_tile, declined groups and an eps f32 cannot hold to the row kernels, the
 * last 1–4 rows on a copy in scratch.
 */
export function short_rows(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32, scratch: usize, rms: bool): void {
  if (R <= 0) return;
  // eps is added in f32: one f32 cannot hold (below its normal range but not 0, or past its range)
  // leaves the rows to the row kernel, which adds it in f64.
  if (eps != 0 && !(eps >= F32_NORMAL && eps <= <f64>f32.MAX_VALUE)) { row_kernel(R, C, x, gamma, beta, y, mean, rstd, eps, act, rms); return; }
  const rs = <usize>C << 2, vb = <usize>((C + 3) >> 2) << 4, e = <f32>eps;
  const g = scratch, b = g + vb, t = b + vb, tm = t + 4 * rs + 16, tr = tm + 16, w = tr + 16;
  memory.fill(g, 0, 2 * vb);
  memory.copy(g, gamma, rs);
  if (!rms) memory.copy(b, beta, rs);
  const F = (R - 1) >> 2;
  for (let j0 = 0; j0 < F; j0 += SHORT_TILE) {
    const n = min(SHORT_TILE, F - j0), o = <usize>j0 * 4 * rs, so = <usize>j0 << 4;
    if (ln_short_tile(n, x + o, y + o, C, g, b, e, rms ? 0 : mean + so, rstd + so, act, w, rms)) {
      for (let j = 0; j < n; j++) {
        if (!ln_short_declined(w, n, j)) continue;
        const oj = o + <usize>j * 4 * rs, sj = so + (<usize>j << 4);
        row_kernel(4, C, x + oj, gamma, beta, y + oj, mean + sj, rstd + sj, eps, act, rms);
      }
    }
  }
  const k = R - 4 * F, o = <usize>F * 4 * rs, so = <usize>F << 4, p = x + o, kb = <usize>k * rs;
  memory.copy(t, p, kb);
  for (let j = k; j < 4; j++) memory.copy(t + <usize>j * rs, p + kb - rs, rs);
  v128.store(t + 4 * rs, v128.splat<i32>(0));
  if (ln_short_tile(1, t, t, C, g, b, e, rms ? 0 : tm, tr, act, w, rms)) row_kernel(4, C, t, gamma, beta, t, tm, tr, eps, act, rms);
  memory.copy(y + o, t, kb);
  if (!rms) memory.copy(mean + so, tm, <usize>k << 2);
  memory.copy(rstd + so, tr, <usize>k << 2);
}

/** R rows by the row kernel of layer norm, or of RMS norm. */
function row_kernel(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32, rms: bool): void {
  if (rms) rms_forward_f32_cl(R, C, x, gamma, y, rstd, eps, act);
  else ln_forward_f32_cl(R, C, x, gamma, beta, y, mean, rstd, eps, act);
}

/** The smallest normal f32, 2⁻¹²⁶. */
const F32_NORMAL: f64 = 1.1754943508222875e-38;


/** Rows of up to this many values take the next row's sums before their normalize. */
const EARLY: i32 = 2048;

/** The next row's sums (ret0, ret1): plain around 0, else around h. */
@inline function row_next(p: usize, C: i32, h: f32): void {
  if (h == 0) row_sums(p, C);
  else row_dev(p, C, h);
}

// ---- channels-first (N, C, S): ConvNeXt's LayerNorm; the statistic of position s runs down ---
// the C channel rows at a stride of S values. Positions are taken in tiles of T ≤ TILE, read in
// memory order (four channel rows at a time, the per-position sums in f32 arrays in L1):
// Σ(x − h), Σ(x − h)² per position, then mean, invstd and the mean's residue 4 positions per
// f32x4, then the tile normalized while its C·T values are in L2. h is 0 unless a position of
// the previous tile had a mean farther than ¼ std from zero; then it is that tile's f32 means.
// Up to four channels h is channel 0's values (FIRST_SHIFT).
// Where a position's shift is off by more than √3 std (the variance would lose more than a
// factor 4 to cancellation) the tile is summed again around its means, from L2; positions whose
// sums f32 cannot hold (past its range, off again, or a variance under its normal range with eps
// smaller) are then taken exactly in f64, as the rows are (exact_tile). Rows are
// summed in f32 in chunks of CBLOCK, added in f64 across chunks. The normalize drops the
// residue b when every |b| of the tile is below the rounding of x̂. Tails: the last T % 4
// positions in scalar. What bounds this is measured in docs/performance.md.
const TILE: i32 = 512;
/** Up to this many channels the tiles are summed around channel 0's values. */
const FIRST_SHIFT: i32 = 4;

/** Lanes j < k of a vector of positions (all four when k ≥ 4; none when k ≤ 0). */
@inline function live(k: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(k));
}
const CBLOCK: i32 = 512;

// Per-position Σ(x − h) and Σ(x − h)² over n ≤ CBLOCK channel rows of a tile's first T & ~3
// positions, added to the f32 arrays f1, f2. Four rows per sweep share the loads and stores of
// the sums.
function tile_dev(px: usize, rs: usize, n: i32, T: i32, h: usize, f1: usize, f2: usize): void {
  const T4 = T & ~3;
  let c = 0;
  for (; c < n; c += 4) {
    const k = n - c, p0 = px + <usize>c * rs;
    // Rows past n (the last group of fewer than four) are read as row c again and weighted 0.
    const p1 = k > 1 ? p0 + rs : p0, p2 = k > 2 ? p1 + rs : p0, p3 = k > 3 ? p2 + rs : p0;
    const w1 = f32x4.splat(k > 1 ? 1 : 0), w2 = f32x4.splat(k > 2 ? 1 : 0), w3 = f32x4.splat(k > 3 ? 1 : 0);
    for (let t = 0; t < T4; t += 4) {
      const o = <usize>t << 2;
      const hv = v128.load(h + o);
      let u0 = f32x4.sub(v128.load(p0 + o), hv), u1 = f32x4.sub(v128.load(p1 + o), hv);
      let u2 = f32x4.sub(v128.load(p2 + o), hv), u3 = f32x4.sub(v128.load(p3 + o), hv);
      if (k < 4) { u1 = f32x4.mul(u1, w1); u2 = f32x4.mul(u2, w2); u3 = f32x4.mul(u3, w3); }
      v128.store(f1 + o, f32x4.add(v128.load(f1 + o), f32x4.add(f32x4.add(u0, u1), f32x4.add(u2, u3))));
      const q = f32x4.add(f32x4.add(f32x4.mul(u0, u0), f32x4.mul(u1, u1)), f32x4.add(f32x4.mul(u2, u2), f32x4.mul(u3, u3)));
      v128.store(f2 + o, f32x4.add(v128.load(f2 + o), q));
    }
  }
}

/** The tile's sums over all C rows into f1, f2 (f32; across CBLOCK chunks added in f64 at d). */
function tile_stats(px: usize, rs: usize, C: i32, T: i32, h: usize, f1: usize, f2: usize, d: usize): void {
  const bytes = (<usize>(T + 3) & ~3) << 2;
  if (C > CBLOCK) memory.fill(d, 0, <usize>T << 4);
  for (let c0 = 0; c0 < C; c0 += CBLOCK) {
    const p = px + <usize>c0 * rs, n = min(CBLOCK, C - c0);
    memory.fill(f1, 0, bytes); memory.fill(f2, 0, bytes);
    tile_dev(p, rs, n, T, h, f1, f2);
    // The last T % 4 positions in scalar.
    for (let t = T & ~3; t < T; t++) {
      const o = <usize>t << 2, hs = load<f32>(h + o);
      let s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, c = 0;
      for (; c + 2 <= n; c += 2) {
        const u = load<f32>(p + <usize>c * rs + o) - hs, v = load<f32>(p + <usize>(c + 1) * rs + o) - hs;
        s1 += u; s2 += u * u; s3 += v; s4 += v * v;
      }
      if (c < n) { const u = load<f32>(p + <usize>c * rs + o) - hs; s1 += u; s2 += u * u; }
      store<f32>(f1 + o, s1 + s3); store<f32>(f2 + o, s2 + s4);
    }
    // Chunk sums into f64 at d; after the last chunk the totals go back to f1, f2 (f32).
    if (C > CBLOCK) for (let t = 0; t < T; t++) {
      const o = <usize>t << 4, q = <usize>t << 2;
      const a = load<f64>(d + o) + <f64>load<f32>(f1 + q), b = load<f64>(d + o, 8) + <f64>load<f32>(f2 + q);
      store<f64>(d + o, a); store<f64>(d + o, b, 8);
      store<f32>(f1 + q, <f32>a); store<f32>(f2 + q, <f32>b);
    }
  }
}

const BAD = 1, NEAR = 2, FAR = 4, LOW = 8;
/** With eps below this a variance under TINY is not swamped by eps (f32 squares may have underflowed). */
const EPS_TINY: f32 = 8.271806e-25; // 2⁻⁸⁰

/**
 * The statistics of a tile's T positions from their sums f1, f2 around hs, 4
 * per f32x4: f1 ← m (the f32 mean), f2 ← a (invstd), pb ← b = (m − mean)·a (the residue:
 * (h + d) − m is exact by Fast2Sum, |h| ≥ |d| wherever h ≠ 0 matters), hs ← the finite means
 * (0 elsewhere and past T: the next sums' shift). Returns BAD when a shift was off by more than
 * √3 std (NaN too), NEAR when every |b| is below x̂'s rounding, FAR when a mean is farther
 * than ¼ std from zero, LOW when a variance is below TINY and eps below EPS_TINY (f32 squares
 * may have underflowed). Lanes past T hold leftovers: computed, never used.
 */
function finish(T: i32, hs: usize, f1: usize, f2: usize, pb: usize, C: i32, eps: f32): i32 {
  const invC = f32x4.splat(<f32>1 / <f32>C), zero = f32x4.splat(0), tiny = f32x4.splat(eps < EPS_TINY ? <f32>TINY : 0);
  let bad = zero, wide = zero, far = zero, low = zero;
  for (let t = 0; t < T; t += 4) {
    const o = <usize>t << 2, hv = v128.load(hs + o), lv = live(T - t);
    const dv = f32x4.mul(v128.load(f1 + o), invC), sv = f32x4.mul(v128.load(f2 + o), invC), d2 = f32x4.mul(dv, dv);
    const v = f32x4.pmax(f32x4.sub(sv, d2), zero); // rounding; NaN stays NaN
    const av = f32x4.div(f32x4.splat(1), f32x4.sqrt(f32x4.add(v, f32x4.splat(eps))));
    const mv = f32x4.add(hv, dv), bv = f32x4.mul(f32x4.sub(f32x4.sub(mv, hv), dv), av);
    v128.store(f1 + o, mv); v128.store(f2 + o, av); v128.store(pb + o, bv);
    v128.store(hs + o, v128.and(v128.and(mv, f32x4.eq(f32x4.sub(mv, mv), zero)), lv));
    bad = v128.or(bad, v128.andnot(lv, v128.and(f32x4.le(d2, f32x4.mul(sv, f32x4.splat(0.75))), f32x4.lt(sv, f32x4.splat(Infinity)))));
    low = v128.or(low, v128.and(lv, f32x4.lt(v, tiny)));
    wide = v128.or(wide, v128.and(lv, f32x4.gt(f32x4.abs(bv), f32x4.splat(5.9604645e-8))));
    far = v128.or(far, v128.and(lv, f32x4.gt(f32x4.mul(mv, mv), f32x4.mul(v, f32x4.splat(0.0625)))));
  }
  return (v128.any_true(bad) ? BAD : 0) | (v128.any_true(wide) ? 0 : NEAR) | (v128.any_true(far) ? FAR : 0) | (v128.any_true(low) ? LOW : 0);
}

/**
 * A tile whose sums f32 could not hold, every position again exactly in f64 down its C channel
 * rows, as ln_row_stats takes such a row: m around exact_center, a, b = (m − mean)·a; the f32 mean
 * and invstd into pm, pi (the outputs). Scalar and strided: only for tiles past f32's range.
 */
function exact_tile(px: usize, rs: usize, C: i32, T: i32, f1: usize, f2: usize, pb: usize, pm: usize, pi: usize, eps: f64): void {
  for (let t = 0; t < T; t++) {
    const o = <usize>t << 2;
    exact_stats(px + o, 1, C, rs);
    const mu = ret0, v = ret1, inv = 1 / Math.sqrt(v + eps), mn = exact_center(mu, v);
    store<f32>(f1 + o, mn); store<f32>(f2 + o, <f32>inv); store<f32>(pb + o, <f32>((<f64>mn - mu) * inv));
    store<f32>(pm + o, <f32>mu); store<f32>(pi + o, <f32>inv);
  }
}

/**
 * Channels-first layer norm (N, C, S): per (n, s) statistics over the C channel rows; mean,
 * rstd (N·S f32) written; y = act(((x − mean)·rstd)·gamma[c] + beta[c]). y may alias x.
 * scratch: 32·⌈min(S, TILE)⌉₄ bytes (16-byte aligned): h, f1, f2, b (f32) per position; and
 * when C > CBLOCK 16 more per position (the f64 sums).
 */
export function ln_forward_f32_cf(N: i32, C: i32, S: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32, scratch: usize): void {
  const TT = <usize>(min(S, TILE) + 3) & ~3;
  const h = scratch, f1 = h + (TT << 2), f2 = f1 + (TT << 2), pb = f2 + (TT << 2), d = pb + (TT << 2);
  const rs = <usize>S << 2;
  memory.fill(h, 0, TT << 2);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += TILE) {
      const T = min(TILE, S - s0), base = ((<usize>n * <usize>C) * <usize>S + <usize>s0) << 2;
      const px = x + base, py = y + base, po = (<usize>n * <usize>S + <usize>s0) << 2;
      // Few channels: around channel 0's values (the shift then within √(C − 1) std of the mean:
      // never off by more than √3 std up to four channels).
      if (C <= FIRST_SHIFT) memory.copy(h, px, <usize>T << 2);
      tile_stats(px, rs, C, T, h, f1, f2, d);
      let f = finish(T, h, f1, f2, pb, C, <f32>eps);
      if (f & BAD) {
        // Summed again around the f32 means (now in h), from L2.
        tile_stats(px, rs, C, T, h, f1, f2, d);
        f = finish(T, h, f1, f2, pb, C, <f32>eps);
      }
      memory.copy(mean + po, f1, <usize>T << 2);
      memory.copy(rstd + po, f2, <usize>T << 2);
      // Still off after the redo, sums not finite, or variances under f32's normal range.
      const exact = (f & (BAD | LOW)) != 0;
      if (exact) exact_tile(px, rs, C, T, f1, f2, pb, mean + po, rstd + po, eps);
      norm_tile(px, py, rs, C, T, f1, f2, pb, gamma, beta, (f & NEAR) != 0 && !exact);
      if (act) for (let c = 0; c < C; c++) act_row(py + <usize>c * rs, py + <usize>c * rs, T, act);
      // The next tile: around 0 when every mean here was within ¼ std of zero, else around
      // these means (h).
      if (!(f & FAR)) memory.fill(h, 0, TT << 2);
    }
  }
}
