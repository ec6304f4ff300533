// RMS norm backward over the last axis (rows): see assembly/rows_backward.ts.
import { rows_backward } from "./rows_backward";

/**
 * R rows of C: dx = γg·r + x̂·c1 (x̂ = x·r, r = rstd[row]); per column Σg, Σg·x̂ WRITTEN to cacc
 * (planes 0 and 1 of three planes of C f32). g = dy·act'(x̂·γ) (beta = zeros). scratch: 40·C bytes.
 * a: R f32 (rstd); no mean, no residue.
 */
export function rms_backward_f32_cl(R: i32, C: i32, x: usize, dy: usize, a: usize, gamma: usize, beta: usize, dx: usize, cacc: usize, scratch: usize, act: i32): void {
  rows_backward(R, C, x, dy, 0, 0, a, 0, gamma, beta, dx, cacc, scratch, true, false, act);
}
