// RMS norm over the last axis as a row kernel: R rows of C contiguous values, one statistic
// per row, gamma per column (Gemma's 1 + gamma is made by JS). Per row: Σx² (read from memory),
// then y = x·invRms·γ and the activation while the row is in L1. y may alias x.
// Tails: scalar remainder (assembly/rows.ts).
import { row_sumsq, row_scale } from "./rows";
import { act_row } from "./act";

/** y = act(x·rstd·gamma), rstd = 1/sqrt(mean(x²) + eps) per row (R f32 written). gamma: C f32. */
export function rms_forward_f32_cl(R: i32, C: i32, x: usize, gamma: usize, y: usize, rstd: usize, eps: f64, act: i32): void {
  const rs = <usize>C << 2;
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs;
    const inv = <f32>(1 / Math.sqrt(row_sumsq(px, C) / <f64>C + eps));
    store<f32>(rstd + (<usize>r << 2), inv);
    row_scale(px, py, C, inv, gamma);
    if (act) act_row(py, py, C, act);
  }
}
