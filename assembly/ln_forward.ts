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
