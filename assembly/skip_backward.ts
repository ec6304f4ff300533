// Skip-norm backward over the last axis (rows): the norm's backward on sum = x + skip + bias,
// plus dsum (the gradient that reaches sum along the residual path). dx is also dskip; dbias is
// the column sum of dx. See assembly/rows_backward.ts.
import { rows_backward } from "./rows_backward";

/**
 * R rows of C: dx = norm'(sum)·dy + dsum (dsum = 0: none); per column Σg, Σg·x̂, Σdx WRITTEN to
 * cacc (three planes of C f32). rms = 1: RMS norm (m, b unread). scratch: 40·C bytes.
 */
export function skip_backward_f32_cl(R: i32, C: i32, x: usize, dy: usize, dsum: usize, m: usize, a: usize, b: usize, gamma: usize, beta: usize, dx: usize, cacc: usize, scratch: usize, rms: i32, act: i32): void {
  rows_backward(R, C, x, dy, dsum, m, a, b, gamma, beta, dx, cacc, scratch, rms != 0, true, act);
}
