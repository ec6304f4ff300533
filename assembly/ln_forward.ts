// Layer norm over the last axis as a row kernel: R rows of C contiguous values (channels-last
// layouts and (N, C)), one statistic per row, gamma/beta per column.
//
// Per row: Σ(x − h) and Σ(x − h)² around a shift h while the row is read from memory: h = 0
// (plain Σx, Σx²: one subtraction less per vector) for the first row and after a row whose
// mean² ≤ var/16, else the previous row's f32 mean. When h is not within half a standard
// deviation of the mean the deviation pass is redone around the mean from L1 (rows.ts
// ln_row_stats: offsets of 1e4–1e6 keep full precision either way). Then
// y = ((x − m)·a + b)·γ + β with m the f32 mean, a = invstd and b = −(mean − m)·a folding the
// f64 residue of the mean (dropped when below 2⁻²⁴), and the activation over the row, both while
// it is in L1. So x is read from memory once and y written once.
// y may alias x. Tails: scalar remainder (assembly/rows.ts).
import { ret0, ret1 } from "./common";
import { row_dev, row_sums, row_norm, ln_row_stats, row_m, row_a, row_b, row_h } from "./rows";
import { act_row } from "./act";
import { norm_tile } from "./ln_normalize";

/**
 * y = act(((x − mean)·invstd)·gamma + beta) per row of C; mean, invstd (R f32) written.
 * gamma, beta: C f32 (the identity when the op has none). act: ids of assembly/act.ts.
 */
export function ln_forward_f32_cl(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32): void {
  const rs = <usize>C << 2;
  let h: f32 = 0;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs, ro = <usize>r << 2;
    if (h == 0) row_sums(px, C);
    else row_dev(px, C, h);
    ln_row_stats(px, C, h, ret0, ret1, eps, mean + ro, rstd + ro);
    h = row_h;
    row_norm(px, py, C, row_m, row_a, row_b, gamma, beta);
    if (act) act_row(py, py, C, act);
  }
}

// ---- channels-first (N, C, S): the statistic of position s runs down the channel rows ------
// Positions are taken in tiles of T ≤ TILE: per tile, Σ(x − h) and Σ(x − h)² per position
// around h = the mean of the first ≤ 8 channel rows (f32 vectors, added into f64 every CBLOCK
// channel rows); where a position's shift is off by more than √3 std (the variance would lose
// more than a factor 4 to cancellation; rare with h from 8 rows) the tile's sums are redone
// around its means, then the tile is normalized while its C·T values are in L2. So x is
// read from memory once (plus the L2 re-reads) and y written once. Tails: scalar remainder of
// a tile's positions.
const TILE: i32 = 512;
const CBLOCK: i32 = 512;

/** Per-position sums of one tile around shift h (f32 vectors), added into f64 d1, d2. */
function tile_dev(px: usize, rs: usize, C: i32, T: i32, h: usize, f1: usize, f2: usize, d1: usize, d2: usize): void {
  const T4 = T & ~3;
  memory.fill(d1, 0, <usize>T << 3); memory.fill(d2, 0, <usize>T << 3);
  for (let c0 = 0; c0 < C; c0 += CBLOCK) {
    const c1 = min(C, c0 + CBLOCK);
    memory.fill(f1, 0, <usize>T << 2); memory.fill(f2, 0, <usize>T << 2);
    let c = c0;
    // Four channel rows per sweep: their deviations are summed in registers, then added to the
    // per-position f32 sums once (one load and store of each per four rows).
    for (; c + 4 <= c1; c += 4) {
      const p0 = px + <usize>c * rs, p1 = p0 + rs, p2 = p1 + rs, p3 = p2 + rs;
      let t = 0;
      for (; t < T4; t += 4) {
        const o = <usize>t << 2, hv = v128.load(h + o);
        const u0 = f32x4.sub(v128.load(p0 + o), hv), u1 = f32x4.sub(v128.load(p1 + o), hv);
        const u2 = f32x4.sub(v128.load(p2 + o), hv), u3 = f32x4.sub(v128.load(p3 + o), hv);
        v128.store(f1 + o, f32x4.add(v128.load(f1 + o), f32x4.add(f32x4.add(u0, u1), f32x4.add(u2, u3))));
        const q = f32x4.add(f32x4.add(f32x4.mul(u0, u0), f32x4.mul(u1, u1)), f32x4.add(f32x4.mul(u2, u2), f32x4.mul(u3, u3)));
        v128.store(f2 + o, f32x4.add(v128.load(f2 + o), q));
      }
      for (; t < T; t++) {
        const o = <usize>t << 2, hs = load<f32>(h + o);
        const u0 = load<f32>(p0 + o) - hs, u1 = load<f32>(p1 + o) - hs, u2 = load<f32>(p2 + o) - hs, u3 = load<f32>(p3 + o) - hs;
        store<f32>(f1 + o, load<f32>(f1 + o) + ((u0 + u1) + (u2 + u3)));
        store<f32>(f2 + o, load<f32>(f2 + o) + ((u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3)));
      }
    }
    for (; c < c1; c++) {
      const pr = px + <usize>c * rs;
      let t = 0;
      for (; t < T4; t += 4) {
        const o = <usize>t << 2;
        const u = f32x4.sub(v128.load(pr + o), v128.load(h + o));
        v128.store(f1 + o, f32x4.add(v128.load(f1 + o), u));
        v128.store(f2 + o, f32x4.add(v128.load(f2 + o), f32x4.mul(u, u)));
      }
      for (; t < T; t++) {
        const o = <usize>t << 2;
        const u = load<f32>(pr + o) - load<f32>(h + o);
        store<f32>(f1 + o, load<f32>(f1 + o) + u);
        store<f32>(f2 + o, load<f32>(f2 + o) + u * u);
      }
    }
    for (let t = 0; t < T; t++) {
      const o = <usize>t << 3, q = <usize>t << 2;
      store<f64>(d1 + o, load<f64>(d1 + o) + <f64>load<f32>(f1 + q));
      store<f64>(d2 + o, load<f64>(d2 + o) + <f64>load<f32>(f2 + q));
    }
  }
}

/** h[t] = mean of the first k channel rows at each position of the tile (the shift of the sums). */
function tile_shift(px: usize, rs: usize, k: i32, T: i32, h: usize): void {
  memory.copy(h, px, <usize>T << 2);
  for (let c = 1; c < k; c++) {
    const pr = px + <usize>c * rs;
    for (let t = 0; t < T; t++) store<f32>(h + (<usize>t << 2), load<f32>(h + (<usize>t << 2)) + load<f32>(pr + (<usize>t << 2)));
  }
  const inv = <f32>1 / <f32>k;
  for (let t = 0; t < T; t++) store<f32>(h + (<usize>t << 2), load<f32>(h + (<usize>t << 2)) * inv);
}

/**
 * Channels-first layer norm (N, C, S): per (n, s) statistics over the C channel rows; mean,
 * rstd (N·S f32) written; y = act(((x − mean)·rstd)·gamma[c] + beta[c]). y may alias x.
 * scratch: 32·min(S, TILE) bytes (16-byte aligned): h, f1, f2, b (f32) and d1, d2 (f64) per position.
 */
export function ln_forward_f32_cf(N: i32, C: i32, S: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32, scratch: usize): void {
  const TT = <usize>min(S, TILE);
  const h = scratch, f1 = h + (TT << 2), f2 = f1 + (TT << 2), pb = f2 + (TT << 2), d1 = pb + (TT << 2), d2 = d1 + (TT << 3);
  const rs = <usize>S << 2;
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += TILE) {
      const T = min(TILE, S - s0), base = ((<usize>n * <usize>C) * <usize>S + <usize>s0) << 2;
      const px = x + base, po = (<usize>n * <usize>S + <usize>s0) << 2;
      tile_shift(px, rs, min(C, 8), T, h);
      tile_dev(px, rs, C, T, h, f1, f2, d1, d2);
      let redo = false;
      for (let t = 0; t < T; t++) {
        const d = load<f64>(d1 + (<usize>t << 3)) / <f64>C, q = load<f64>(d2 + (<usize>t << 3)) / <f64>C;
        if (!(d * d <= 0.75 * q)) { redo = true; break; }
      }
      if (redo) {
        // Shift every position to its f32 mean and sum again (from L2).
        for (let t = 0; t < T; t++) {
          const o = <usize>t << 2;
          store<f32>(h + o, <f32>(<f64>load<f32>(h + o) + load<f64>(d1 + (<usize>t << 3)) / <f64>C));
        }
        tile_dev(px, rs, C, T, h, f1, f2, d1, d2);
      }
      // m = h (f32), a = invstd, b = −(mean − m)·a; the outputs mean and rstd.
      for (let t = 0; t < T; t++) {
        const o = <usize>t << 2;
        const d = load<f64>(d1 + (<usize>t << 3)) / <f64>C;
        let v = load<f64>(d2 + (<usize>t << 3)) / <f64>C - d * d;
        if (v < 0) v = 0;
        const inv = 1 / Math.sqrt(v + eps);
        store<f32>(mean + po + o, <f32>(<f64>load<f32>(h + o) + d));
        store<f32>(rstd + po + o, <f32>inv);
        store<f32>(pb + o, <f32>(-d * inv));
      }
      norm_tile(px, y + base, rs, C, T, h, rstd + po, pb, gamma, beta);
      if (act) for (let c = 0; c < C; c++) act_row(y + base + <usize>c * rs, y + base + <usize>c * rs, T, act);
    }
  }
}
