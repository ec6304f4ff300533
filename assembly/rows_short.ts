// Layer norm (and RMS norm: h = c = 0) over rows of 1–32 values (tabular features, small MLPs,
// the groups of a group norm of (N, C)) four rows at a time, their statistics in the four lanes of one vector. A row is V =
// ⌈C/4⌉ vectors read at its own (unaligned) address; the last one's lanes past C belong to the
// next row and are masked off. Per four rows: Σ(x − h) around each row's first value h, the four
// sums folded into one vector (hsum4) and divided by C (c = mean − h); Σ((x − h) − c)² the same
// way; invstd = 1/sqrt(var + eps) for the four rows in one f32x4 square root and division; then
// y = ((x − h) − c)·invstd·γ + β, of the last vector only the row's lanes stored (store_lanes).
// The row kernel (rows.ts) spends a division, a square root and a division and their latency
// per row, and a horizontal sum per pass; here they are shared by four rows and overlap.
//
// Precision: x − h and (x − h) − c keep a mean far from zero out of the deviations (a row at
// 1e4 ± 1 loses nothing to its offset); the sums are of at most 8 f32 values a lane. The mean
// written is h + c rounded once. Rows whose Σ((x − h) − c)²/C is not finite or below 2⁻¹⁰⁰
// (past f32's range, or subnormal squares), unless the row is constant, are left to the caller
// (ln_forward.ts takes those four rows with the row kernel, exact in f64 where f32 cannot hold
// them).
import { TINY } from "./bn_stats";
import { flat_row } from "./rows";
import { act_row } from "./act";

/** Groups of four rows per tile call (64 rows: ≤ 8 KiB of x at C = 32; the row backward's f32 column sums also flush every 64 rows). */
export const SHORT_TILE: i32 = 16;

/** How many lanes of a row's last vector are the row's (1–4). */
@inline function tail_lanes(C: i32): i32 {
  return C - ((C - 1) & ~3);
}

/** The lanes of the last vector of a row of C values that are the row's. */
@inline function short_mask(C: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(tail_lanes(C)));
}

/** Lanes 0 … k − 1 (k = 1 … 4) of v to p: a row's last vector, nothing past the row written. */
@inline function store_lanes(p: usize, v: v128, k: i32): void {
  if (k == 4) v128.store(p, v);
  else if (k == 2) v128.store64_lane(p, v, 0);
  else if (k == 1) v128.store32_lane(p, v, 0);
  else { v128.store64_lane(p, v, 0); v128.store32_lane(p, v, 2, 8); }
}

/** [Σa, Σb, Σc, Σd]: the lanes of four vectors summed, one vector per lane. */
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Σ(x − h) over a row of V vectors at p (the last one masked), per lane. */
function dev(p: usize, V: i32, h: v128, mask: v128): v128 {
  const last = p + (<usize>(V - 1) << 4);
  let s = v128.and(f32x4.sub(v128.load(last), h), mask);
  for (let q = p; q < last; q += 16) s = f32x4.add(s, f32x4.sub(v128.load(q), h));
  return s;
}

/** Σ((x − h) − c)² over a row of V vectors at p (the last one masked), per lane. */
function devsq(p: usize, V: i32, h: v128, c: v128, mask: v128): v128 {
  const last = p + (<usize>(V - 1) << 4);
  const e = v128.and(f32x4.sub(f32x4.sub(v128.load(last), h), c), mask);
  let s = f32x4.mul(e, e);
  for (let q = p; q < last; q += 16) {
    const d = f32x4.sub(f32x4.sub(v128.load(q), h), c);
    s = f32x4.add(s, f32x4.mul(d, d));
  }
  return s;
}

/**
 * y = ((x − h) − c)·a·γ + β over a row of V vectors from p to q; γ, β: V whole vectors at g, b.
 * Of the last vector only the row's k lanes are stored.
 */
@inline function norm(p: usize, q: usize, V: i32, h: v128, c: v128, a: v128, g: usize, b: usize, k: i32): void {
  const lo = <usize>(V - 1) << 4;
  for (let o: usize = 0; o < lo; o += 16) {
    const t = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(p + o), h), c), a);
    v128.store(q + o, f32x4.add(f32x4.mul(t, v128.load(g + o)), v128.load(b + o)));
  }
  const t = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(p + lo), h), c), a);
  store_lanes(q + lo, f32x4.add(f32x4.mul(t, v128.load(g + lo)), v128.load(b + lo)), k);
}

/** [Σ lanes of the vector at t, at t + 16, t + 32, t + 48]. */
@inline function fold4(t: usize): v128 {
  return hsum4(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48));
}

/** Scratch bytes of ln_short_tile for n groups of four rows: h, c and invstd (48 bytes a group), a flag a group, the per-row sums. */
@inline export function short_tile_bytes(n: i32): usize {
  return <usize>n * 52 + 64 + 15 & ~15;
}

/**
 * Layer norm of n groups of four rows of C values at p (row i at p + 4·C·i; up to 3 values past
 * the last row are read) into q; the f32 means and invstds of group j stored at pm + 16j,
 * pr + 16j. g, b: γ and β as ⌈C/4⌉ whole vectors; act: the activation after each group (ids of
 * assembly/act.ts). The passes run over all n groups in turn (rows in L1: n·4·C ≤ 2,048 values),
 * so one group's chain of sums, division, square root and division overlaps the next group's.
 * Returns how many groups it declined (a row's variance past f32's range, see the header): those
 * are flagged in the scratch (ln_short_declined) and neither written nor read past their sums.
 * t: short_tile_bytes(n) bytes, 16-byte aligned. rms: RMS norm (h = c = 0: Σx², y = x·invstd·γ
 * with b zeros); pm 0: no means written.
 */
export function ln_short_tile(n: i32, p: usize, q: usize, C: i32, g: usize, b: usize, eps: f32, pm: usize, pr: usize, act: i32, t: usize, rms: bool): i32 {
  const V = (C + 3) >> 2, rs = <usize>C << 2, gs = rs << 2, mask = short_mask(C), last = tail_lanes(C), cn = f32x4.splat(<f32>C);
  const w = t + <usize>n * 52 + 15 & ~15, fl = t + <usize>n * 48;
  // RMS norm: h = c = 0 (the passes below then sum x², and normalize x·invstd·γ with β = 0).
  if (rms) memory.fill(t, 0, <usize>n * 48);
  // Σ(x − h) per row, h its first value; c = Σ/C.
  if (!rms) for (let j = 0; j < n; j++) {
    const pj = p + <usize>j * gs, tj = t + <usize>j * 48;
    let h = v128.load32_splat(pj);
    h = f32x4.replace_lane(h, 1, load<f32>(pj + rs));
    h = f32x4.replace_lane(h, 2, load<f32>(pj + 2 * rs));
    h = f32x4.replace_lane(h, 3, load<f32>(pj + 3 * rs));
    v128.store(tj, h);
    for (let r: usize = 0; r < 4; r++) v128.store(w + (r << 4), dev(pj + r * rs, V, v128.load32_splat(tj + (r << 2)), mask));
    v128.store(tj, f32x4.div(fold4(w), cn), 16);
  }
  // Σ((x − h) − c)² per row; v = Σ/C.
  for (let j = 0; j < n; j++) {
    const pj = p + <usize>j * gs, tj = t + <usize>j * 48;
    for (let r: usize = 0; r < 4; r++) {
      const l = r << 2;
      v128.store(w + (r << 4), devsq(pj + r * rs, V, v128.load32_splat(tj + l), v128.load32_splat(tj + 16 + l), mask));
    }
    v128.store(tj, f32x4.div(fold4(w), cn), 32);
  }
  // invstd = 1/sqrt(v + eps), the means and invstds out; a group with a row f32 cannot hold is flagged.
  const lo = f32x4.splat(<f32>TINY), hi = f32x4.splat(Infinity), e = f32x4.splat(eps), one = f32x4.splat(1);
  let declined = 0;
  for (let j = 0; j < n; j++) {
    const tj = t + <usize>j * 48, h = v128.load(tj), v = v128.load(tj, 32), o = <usize>j << 4;
    const ok = v128.and(f32x4.ge(v, lo), f32x4.lt(v, hi));
    const bad = !i32x4.all_true(ok) && !flat_lanes(p + <usize>j * gs, C, h, v, ok);
    store<i32>(fl + (<usize>j << 2), <i32>bad);
    declined += <i32>bad;
    const a = f32x4.div(one, f32x4.sqrt(f32x4.add(v, e)));
    v128.store(tj, a, 32);
    if (!bad) { v128.store(pr + o, a); if (pm) v128.store(pm + o, f32x4.add(h, v128.load(tj, 16))); }
  }
  // y = ((x − h) − c)·invstd·γ + β, then the activation over the group's rows.
  for (let j = 0; j < n; j++) {
    if (load<i32>(fl + (<usize>j << 2))) continue;
    const pj = p + <usize>j * gs, qj = q + <usize>j * gs, tj = t + <usize>j * 48;
    for (let r: usize = 0; r < 4; r++) {
      const l = r << 2;
      norm(pj + r * rs, qj + r * rs, V, v128.load32_splat(tj + l), v128.load32_splat(tj + 16 + l), v128.load32_splat(tj + 32 + l), g, b, last);
    }
    if (act) act_row(qj, qj, C << 2, act);
  }
  return declined;
}

/** Whether ln_short_tile (scratch t, n groups) declined group j. */
@inline export function ln_short_declined(t: usize, n: i32, j: i32): bool {
  return load<i32>(t + <usize>n * 48 + (<usize>j << 2)) != 0;
}

/** True when every lane that failed the range check has variance 0 and its row is constant. */
function flat_lanes(p: usize, C: i32, h: v128, v: v128, ok: v128): bool {
  const rs = <usize>C << 2;
  for (let r = 0; r < 4; r++, p += rs) {
    if (i32x4.extract_lane(ok, 0) == 0 && (f32x4.extract_lane(v, 0) != 0 || !flat_row(p, C, f32x4.extract_lane(h, 0)))) return false;
    ok = v128.shuffle<i32>(ok, ok, 1, 2, 3, 0); v = v128.shuffle<f32>(v, v, 1, 2, 3, 0); h = v128.shuffle<f32>(h, h, 1, 2, 3, 0);
  }
  return true;
}

// ---- backward: the same groups of four rows ------------------------------------------------
// Per row (see rows_backward.ts): x̂ = (x − m)·a + b, Sg = Σγ·dy, Sx = Σγ·dy·x̂; then
// dx = γ·dy·a + (x − m)·k1 + k0 with c1 = −a·Sx/C, c0 = −a·Sg/C, k1 = a·c1, k0 = b·c1 + c0 (four
// rows' k1, k0 in one f32x4 each); per column Σdy (dbeta) and Σdy·x̂ (dgamma) added in f32.

/** Scratch bytes of ln_back_tile for n groups: k1, k0 (32 bytes a group), the per-row sums. */
@inline export function back_tile_bytes(n: i32): usize {
  return <usize>n * 32 + 128;
}

/**
 * Σγ·dy and Σγ·dy·x̂ over a row of V vectors (the last one masked), per lane, at w and w + 64;
 * dy and dy·x̂ added into the V column vectors at cb and cg.
 */
@inline function back_sums(px: usize, pd: usize, V: i32, m: v128, a: v128, b: v128, g: usize, cb: usize, cg: usize, mask: v128, w: usize): void {
  const lo = <usize>(V - 1) << 4;
  const d = v128.and(v128.load(pd + lo), mask), xh = v128.and(f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + lo), m), a), b), mask);
  let gg = f32x4.mul(d, v128.load(g + lo)), s1 = gg, s2 = f32x4.mul(gg, xh);
  v128.store(cb + lo, f32x4.add(v128.load(cb + lo), d));
  v128.store(cg + lo, f32x4.add(v128.load(cg + lo), f32x4.mul(d, xh)));
  for (let o: usize = 0; o < lo; o += 16) {
    const d = v128.load(pd + o), xh = f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), m), a), b);
    const gg = f32x4.mul(d, v128.load(g + o));
    s1 = f32x4.add(s1, gg); s2 = f32x4.add(s2, f32x4.mul(gg, xh));
    v128.store(cb + o, f32x4.add(v128.load(cb + o), d));
    v128.store(cg + o, f32x4.add(v128.load(cg + o), f32x4.mul(d, xh)));
  }
  v128.store(w, s1);
  v128.store(w, s2, 64);
}

/** dx = γ·dy·a + (x − m)·k1 + k0 over a row of V vectors, of the last one its k lanes (store_lanes). */
@inline function back_dx(px: usize, pd: usize, q: usize, V: i32, m: v128, a: v128, k1: v128, k0: v128, g: usize, k: i32): void {
  const lo = <usize>(V - 1) << 4;
  for (let o: usize = 0; o < lo; o += 16) {
    const e = f32x4.mul(f32x4.mul(v128.load(pd + o), v128.load(g + o)), a);
    v128.store(q + o, f32x4.add(f32x4.add(e, f32x4.mul(f32x4.sub(v128.load(px + o), m), k1)), k0));
  }
  const e = f32x4.mul(f32x4.mul(v128.load(pd + lo), v128.load(g + lo)), a);
  store_lanes(q + lo, f32x4.add(f32x4.add(e, f32x4.mul(f32x4.sub(v128.load(px + lo), m), k1)), k0), k);
}

/**
 * Layer-norm backward (no activation) of n groups of four rows of C values: x at p, dy at d, dx
 * to q (may alias x or dy), row i's m, a, b at pm, pa, pb + 4i; γ as ⌈C/4⌉ whole
 * vectors at g (lanes past C zero); Σdy and Σdy·x̂ added into the ⌈C/4⌉ f32 column vectors at cb,
 * cg. Up to 3 values past the last row of x and dy are read. t: back_tile_bytes(n), 16-byte aligned.
 * rms: RMS norm's backward (m = b = 0 given; no Σγ·dy term: c0 = 0).
 */
export function ln_back_tile(n: i32, p: usize, d: usize, q: usize, C: i32, pm: usize, pa: usize, pb: usize, g: usize, cb: usize, cg: usize, t: usize, rms: bool): void {
  const V = (C + 3) >> 2, rs = <usize>C << 2, gs = rs << 2, mask = short_mask(C), last = tail_lanes(C), cn = f32x4.splat(<f32>-C);
  const w = t + <usize>n * 32;
  for (let j = 0; j < n; j++) {
    const oj = <usize>j * gs, sj = <usize>j << 4, tj = t + <usize>j * 32;
    for (let r: usize = 0, o = oj, l = sj; r < 4; r++, o += rs, l += 4) {
      back_sums(p + o, d + o, V, v128.load32_splat(pm + l), v128.load32_splat(pa + l), v128.load32_splat(pb + l), g, cb, cg, mask, w + (r << 4));
    }
    const a = v128.load(pa + sj), sg = fold4(w), sx = fold4(w + 64);
    const c1 = f32x4.div(f32x4.mul(a, sx), cn), c0 = rms ? f32x4.splat(0) : f32x4.div(f32x4.mul(a, sg), cn);
    v128.store(tj, f32x4.mul(a, c1));
    v128.store(tj, f32x4.add(f32x4.mul(v128.load(pb + sj), c1), c0), 16);
  }
  for (let j = 0; j < n; j++) {
    const oj = <usize>j * gs, sj = <usize>j << 4, tj = t + <usize>j * 32;
    for (let r: usize = 0, o = oj, l = sj; r < 4; r++, o += rs, l += 4) {
      back_dx(p + o, d + o, q + o, V, v128.load32_splat(pm + l), v128.load32_splat(pa + l), v128.load32_splat(tj + (r << 2)), v128.load32_splat(tj + 16 + (r << 2)), g, last);
    }
  }
}
