// Layer norm over the last axis as a row kernel: R rows of C contiguous values (channels-last
// layouts and (N, C)), one statistic per row, gamma/beta per column.
//
// Per row: Σ(x − h) and Σ(x − h)² around a shift h (the previous row's mean; the row's first
// value for the first row) while the row is read from memory; when h is not within half a
// standard deviation of the mean the deviation pass is redone around the mean from L1
// (rows.ts ln_row_stats: offsets of 1e4–1e6 keep full precision either way). Then
// y = ((x − m)·a + b)·γ + β with a = invstd and b = −(mean − m)·a folding the f64 residue of the
// mean, and the activation over the row, both while it is in L1. So x is read from memory once
// and y written once.
// y may alias x. Tails: scalar remainder (assembly/rows.ts).
import { ret0, ret1 } from "./common";
import { row_dev, row_norm, ln_row_stats, next_shift, row_m, row_a, row_b } from "./rows";
import { act_row } from "./act";

/**
 * y = act(((x − mean)·invstd)·gamma + beta) per row of C; mean, invstd (R f32) written.
 * gamma, beta: C f32 (the identity when the op has none). act: ids of assembly/act.ts.
 */
export function ln_forward_f32_cl(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32): void {
  const rs = <usize>C << 2;
  let h = R > 0 ? next_shift(load<f32>(x)) : <f32>0;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs, ro = <usize>r << 2;
    row_dev(px, C, h);
    ln_row_stats(px, C, h, ret0, ret1, eps, mean + ro, rstd + ro);
    h = next_shift(load<f32>(mean + ro));
    row_norm(px, py, C, row_m, row_a, row_b, gamma, beta);
    if (act) act_row(py, py, C, act);
  }
}
