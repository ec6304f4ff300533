// Layer norm over the last axis as a row kernel: R rows of C contiguous values (channels-last
// layouts and (N, C)), one statistic per row, gamma/beta per column.
//
// Per row: Σx (read from memory), then Σ(x − m) and Σ(x − m)² around m = f32(Σx/C) from L1
// (exact two-pass: offsets of 1e4–1e6 keep full precision), then y = ((x − m)·a + b)·γ + β with
// a = invstd and b = −(mean − m)·a folding the f64 residue of the mean, and the activation over
// the row, both while it is in L1. So x is read from memory once and y written once.
// y may alias x. Tails: scalar remainder (assembly/rows.ts).
import { row_sum, row_norm, ln_row_stats, row_m, row_a, row_b } from "./rows";
import { act_row } from "./act";

/**
 * y = act(((x − mean)·invstd)·gamma + beta) per row of C; mean, invstd (R f32) written.
 * gamma, beta: C f32 (the identity when the op has none). act: ids of assembly/act.ts.
 */
export function ln_forward_f32_cl(R: i32, C: i32, x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32): void {
  const rs = <usize>C << 2;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs, ro = <usize>r << 2;
    ln_row_stats(px, C, row_sum(px, C), eps, mean + ro, rstd + ro);
    row_norm(px, py, C, row_m, row_a, row_b, gamma, beta);
    if (act) act_row(py, py, C, act);
  }
}
