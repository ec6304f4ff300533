// Backward of the row kernels (layer norm, RMS norm, skip norms over the last axis), one row at
// a time so the second pass reads the row from L1:
//
//   g  = dy·act'(v), v = x̂·γ + β recomputed from x and the saved statistics (g = dy without an
//        activation); x̂ = (x − m)·a + b (a = invstd, b = −(mean − m)·a; RMS: m = b = 0; a
//        row near zero, |m|·a ≤ 1 without an activation, is taken around m = 0 with
//        b = −mean·a: the loops without the subtraction)
//   Sg = Σ γg, Sx = Σ γg·x̂ over the row
//   dx = γg·a + (x − m)·k1 + k0 (+ dsum), k1 = a·c1, k0 = b·c1 + c0 (= γg·a + x̂·c1 + c0),
//        c1 = −a·Sx/C, c0 = −a·Sg/C (RMS: 0)
//
// Per column, WRITTEN to cacc (three planes of C f32: Σ g (dbeta), Σ g·x̂ (dgamma), Σ dx (dbias,
// skip norms only; else left as is)). Column partial sums run in f32 scratch and go to f64 planes
// in scratch every FLUSH_ROWS rows (R ≤ FLUSH_ROWS: in cacc itself). scratch: 40·C bytes, 16-byte aligned (the row of g, three f32
// column sums, three f64 planes). dx may alias x, dy
// or dsum (values are read before they are written, at the same index).
import { ret0, ret1, hsum, FLUSH_ROWS } from "./common";
import { row_norm } from "./rows";
import { act_grad_row } from "./act";
import { split_hi } from "./bn_params";
import { centred } from "./cf_short";


/** Σγg → ret0, Σγg·x̂ → ret1 (f64); the row's g and g·x̂ added into colB, colG (f32). */
function row_grad_sums(px: usize, pg: usize, C: i32, m: f32, a: f32, b: f32, gamma: usize, colB: usize, colG: usize): void {
  grad_sums_body(px, pg, C, m, a, b, gamma, colB, colG, false);
}
/** row_grad_sums of a row taken around 0 (m = +0, rows_backward): x̂ = x·a + b, one float add a vector less. */
function row_grad_sums0(px: usize, pg: usize, C: i32, a: f32, b: f32, gamma: usize, colB: usize, colG: usize): void {
  grad_sums_body(px, pg, C, 0, a, b, gamma, colB, colG, false, true);
}
/** row_grad_sums of RMS norm: x̂ = x·a (no mean, no residue: two float adds a vector less). */
function row_grad_sums_rms(px: usize, pg: usize, C: i32, a: f32, gamma: usize, colB: usize, colG: usize): void {
  grad_sums_body(px, pg, C, 0, a, 0, gamma, colB, colG, true);
}

// x̂ = (x − m)·a + b, or x·a with RMS (a constant after inlining).
@inline function xhat(x: v128, mv: v128, av: v128, bv: v128, RMS: bool, ZERO: bool = false): v128 {
  return RMS ? f32x4.mul(x, av) : f32x4.add(f32x4.mul(centred(x, mv, ZERO), av), bv);
}

@inline function grad_sums_body(px: usize, pg: usize, C: i32, m: f32, a: f32, b: f32, gamma: usize, colB: usize, colG: usize, RMS: bool, ZERO: bool = false): void {
  const mv = f32x4.splat(m), av = f32x4.splat(a), bv = f32x4.splat(b);
  const C8 = C & ~7, C4 = C & ~3;
  let va = f32x4.splat(0), vb = f32x4.splat(0);
  let j = 0;
  // Two vectors per iteration: one address per stream.
  for (; j < C8; j += 8) {
    const o = <usize>j << 2, x = px + o, gp = pg + o, gm = gamma + o, cb = colB + o, cg = colG + o;
    const g0 = v128.load(gp), g1 = v128.load(gp, 16);
    const x0 = xhat(v128.load(x), mv, av, bv, RMS, ZERO), x1 = xhat(v128.load(x, 16), mv, av, bv, RMS, ZERO);
    const e0 = f32x4.mul(g0, v128.load(gm)), e1 = f32x4.mul(g1, v128.load(gm, 16));
    va = f32x4.add(va, f32x4.add(e0, e1));
    vb = f32x4.add(vb, f32x4.add(f32x4.mul(e0, x0), f32x4.mul(e1, x1)));
    v128.store(cb, f32x4.add(v128.load(cb), g0)); v128.store(cb, f32x4.add(v128.load(cb, 16), g1), 16);
    v128.store(cg, f32x4.add(v128.load(cg), f32x4.mul(g0, x0))); v128.store(cg, f32x4.add(v128.load(cg, 16), f32x4.mul(g1, x1)), 16);
  }
  for (; j < C4; j += 4) {
    const o = <usize>j << 2;
    const g = v128.load(pg + o);
    const xh = xhat(v128.load(px + o), mv, av, bv, RMS, ZERO);
    const gg = f32x4.mul(g, v128.load(gamma + o));
    va = f32x4.add(va, gg);
    vb = f32x4.add(vb, f32x4.mul(gg, xh));
    v128.store(colB + o, f32x4.add(v128.load(colB + o), g));
    v128.store(colG + o, f32x4.add(v128.load(colG + o), f32x4.mul(g, xh)));
  }
  let ta = hsum(va), tb = hsum(vb);
  for (; j < C; j++) {
    const o = <usize>j << 2;
    const g = load<f32>(pg + o), xh = RMS ? load<f32>(px + o) * a : (load<f32>(px + o) - m) * a + b, gg = g * load<f32>(gamma + o);
    ta += <f64>gg; tb += <f64>(gg * xh);
    store<f32>(colB + o, load<f32>(colB + o) + g);
    store<f32>(colG + o, load<f32>(colG + o) + g * xh);
  }
  ret0 = ta; ret1 = tb;
}

// dx = γg·a + (x − m)·k1 + k0 for one row; SUM: add dsum (only with COL); COL: add dx into colD (constants
// after inlining).
// RMS: dx = γg·a + x·k1 (no mean, k0 = 0; only without COL).
// dx of one vector from gg = γ·g (the rest as dx_body's arguments).
// (x − m written out, not centred: through it Binaryen reorders row_dx_col's loads.)
@inline function dxv(gg: v128, x: v128, mv: v128, av: v128, v1: v128, v0: v128, RMS: bool, ZERO: bool = false): v128 {
  const e = f32x4.mul(gg, av);
  return RMS ? f32x4.add(e, f32x4.mul(x, v1)) : f32x4.add(f32x4.add(e, f32x4.mul(ZERO ? x : f32x4.sub(x, mv), v1)), v0);
}

@inline function dx_body(px: usize, pg: usize, pds: usize, pdx: usize, C: i32, m: f32, a: f32, gamma: usize, k1: f32, k0: f32, colD: usize, SUM: bool, COL: bool, RMS: bool = false, ZERO: bool = false): void {
  const mv = f32x4.splat(m), av = f32x4.splat(a), v1 = f32x4.splat(k1), v0 = f32x4.splat(k0);
  const C8 = C & ~7, C4 = C & ~3;
  let j = 0;
  // Two vectors per iteration (one address per stream).
  for (; j < C8; j += 8) {
    const o = <usize>j << 2, x = px + o, gp = pg + o, gm = gamma + o, q = pdx + o;
    let d0 = dxv(f32x4.mul(v128.load(gp), v128.load(gm)), v128.load(x), mv, av, v1, v0, RMS, ZERO);
    let d1 = dxv(f32x4.mul(v128.load(gp, 16), v128.load(gm, 16)), v128.load(x, 16), mv, av, v1, v0, RMS, ZERO);
    if (SUM) { const s = pds + o; d0 = f32x4.add(d0, v128.load(s)); d1 = f32x4.add(d1, v128.load(s, 16)); }
    v128.store(q, d0); v128.store(q, d1, 16);
    if (COL) { const c = colD + o; v128.store(c, f32x4.add(v128.load(c), d0)); v128.store(c, f32x4.add(v128.load(c, 16), d1), 16); }
  }
  for (; j < C4; j += 4) {
    const o = <usize>j << 2;
    let d = dxv(f32x4.mul(v128.load(pg + o), v128.load(gamma + o)), v128.load(px + o), mv, av, v1, v0, RMS, ZERO);
    if (SUM) d = f32x4.add(d, v128.load(pds + o));
    v128.store(pdx + o, d);
    if (COL) v128.store(colD + o, f32x4.add(v128.load(colD + o), d));
  }
  for (; j < C; j++) {
    const o = <usize>j << 2;
    const e = load<f32>(pg + o) * load<f32>(gamma + o) * a;
    let d = RMS ? e + load<f32>(px + o) * k1 : e + (load<f32>(px + o) - m) * k1 + k0;
    if (SUM) d += load<f32>(pds + o);
    store<f32>(pdx + o, d);
    if (COL) store<f32>(colD + o, load<f32>(colD + o) + d);
  }
}

function row_dx(px: usize, pg: usize, pdx: usize, C: i32, m: f32, a: f32, gamma: usize, k1: f32, k0: f32): void {
  dx_body(px, pg, 0, pdx, C, m, a, gamma, k1, k0, 0, false, false);
}
/** row_dx of a row taken around 0 (m = +0, rows_backward): x − 0 is x, one float add a vector less. */
function row_dx0(px: usize, pg: usize, pdx: usize, C: i32, a: f32, gamma: usize, k1: f32, k0: f32): void {
  dx_body(px, pg, 0, pdx, C, 0, a, gamma, k1, k0, 0, false, false, false, true);
}
function row_dx_rms(px: usize, pg: usize, pdx: usize, C: i32, a: f32, gamma: usize, k1: f32): void {
  dx_body(px, pg, 0, pdx, C, 0, a, gamma, k1, 0, 0, false, false, true);
}
function row_dx_col(px: usize, pg: usize, pdx: usize, C: i32, m: f32, a: f32, gamma: usize, k1: f32, k0: f32, colD: usize): void {
  dx_body(px, pg, 0, pdx, C, m, a, gamma, k1, k0, colD, false, true);
}
function row_dx_sum_col(px: usize, pg: usize, pds: usize, pdx: usize, C: i32, m: f32, a: f32, gamma: usize, k1: f32, k0: f32, colD: usize): void {
  dx_body(px, pg, pds, pdx, C, m, a, gamma, k1, k0, colD, true, true);
}

/** Add `len` f32 column sums into `len` f64 at dst (two lanes at a time), then zero them. */
export function flush_col(src: usize, len: i32, dst: usize): void {
  const len2 = len & ~1;
  let j = 0;
  for (; j < len2; j += 2) {
    const d = dst + (<usize>j << 3);
    v128.store(d, f64x2.add(v128.load(d), f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>j << 2)))));
  }
  for (; j < len; j++) store<f64>(dst + (<usize>j << 3), load<f64>(dst + (<usize>j << 3)) + <f64>load<f32>(src + (<usize>j << 2)));
  memory.fill(src, 0, <usize>len << 2);
}

/**
 * The backward of R rows of C (see the header). m, a, b: R f32 (m and b unread with rms: 0);
 * gamma, beta: C f32 (beta is read only with an activation). rms: no mean term. skip: dbias column sums kept (cacc plane 2), and
 * dsum (≠ 0) added to dx.
 */
export function rows_backward(R: i32, C: i32, x: usize, dy: usize, dsum: usize, m: usize, a: usize, b: usize, gamma: usize, beta: usize, dx: usize, cacc: usize, scratch: usize, rms: bool, skip: bool, act: i32): void {
  const rs = <usize>C << 2, plane = <usize>C << 3;
  // Up to FLUSH_ROWS rows the f32 column sums are the results themselves (the f64 planes only
  // bound the error of longer runs): summed straight into cacc, no f64 planes to zero, flush or
  // convert (at C = 2048 those cost more than a one-row backward's own work).
  const direct = R <= FLUSH_ROWS;
  const grow = scratch, colB = direct ? cacc : scratch + rs, colG = colB + rs, colD = colG + rs, acc = scratch + (rs << 2);
  memory.fill(colB, 0, rs * (skip ? 3 : 2));
  if (!direct) memory.fill(acc, 0, plane * 3);
  let since = 0;
  for (let r = 0; r < R; r++) {
    const o = <usize>r * rs, ro = <usize>r << 2, px = x + o;
    let ms = rms ? <f32>0 : load<f32>(m + ro), bs = rms ? <f32>0 : load<f32>(b + ro);
    const as = load<f32>(a + ro);
    // A row near zero (batch norm's rule, split_hi: |m|·a ≤ 1) is taken around 0, its mean folded
    // into b (|b| ≤ 1): the loops without the subtraction. Not with an activation, whose v is
    // recomputed as the forward computed it.
    if (!act && !rms && ms != 0 && split_hi(<f64>ms, <f64>as) == 0) { bs = <f32>(<f64>bs - <f64>ms * <f64>as); ms = 0; }
    const zero = !rms && reinterpret<u32>(ms) == 0;
    let pg = dy + o;
    if (act) {
      row_norm(px, grow, C, ms, as, bs, gamma, beta);
      act_grad_row(grow, pg, grow, C, act);
      pg = grow;
    }
    // RMS norm: the loops without the mean and residue terms (dx: without skip only).
    const lean = rms && !skip;
    if (rms) row_grad_sums_rms(px, pg, C, as, gamma, colB, colG);
    else if (zero) row_grad_sums0(px, pg, C, as, bs, gamma, colB, colG);
    else row_grad_sums(px, pg, C, ms, as, bs, gamma, colB, colG);
    const c1 = -<f64>as * ret1 / <f64>C, c0 = rms ? 0 : -<f64>as * ret0 / <f64>C;
    const k1 = <f32>(<f64>as * c1), k0 = <f32>(<f64>bs * c1 + c0);
    // k0 is 0 unless c1 is not finite (0·∞): then NaN, which the lean loop takes through k1.
    if (lean) row_dx_rms(px, pg, dx + o, C, as, gamma, k0 == 0 ? k1 : k0);
    else if (!skip) { if (zero) row_dx0(px, pg, dx + o, C, as, gamma, k1, k0); else row_dx(px, pg, dx + o, C, ms, as, gamma, k1, k0); }
    else if (dsum) row_dx_sum_col(px, pg, dsum + o, dx + o, C, ms, as, gamma, k1, k0, colD);
    else row_dx_col(px, pg, dx + o, C, ms, as, gamma, k1, k0, colD);
    if (!direct && (++since >= FLUSH_ROWS || r == R - 1)) {
      flush_col(colB, C, acc); flush_col(colG, C, acc + plane);
      if (skip) flush_col(colD, C, acc + 2 * plane);
      since = 0;
    }
  }
  if (direct) return;
  demote(acc, cacc, C); demote(acc + plane, cacc + rs, C);
  if (skip) demote(acc + 2 * plane, cacc + 2 * rs, C);
}

/** n f64 at src → n f32 at dst (two lanes at a time). */
export function demote(src: usize, dst: usize, n: i32): void {
  let j = 0;
  for (; j + 2 <= n; j += 2) v128.store64_lane(dst + (<usize>j << 2), f32x4.demote_f64x2_zero(v128.load(src + (<usize>j << 3))), 0);
  for (; j < n; j++) store<f32>(dst + (<usize>j << 2), <f32>load<f64>(src + (<usize>j << 3)));
}
