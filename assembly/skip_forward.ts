// Residual-fused norms over the last axis (ONNX SkipLayerNormalization and
// SkipSimplifiedLayerNormalization), R rows of C: sum = x + skip + bias is stored, then
// y = act(norm(sum)) while the row is in L1. x and skip are read once, sum and y written once.
// sum may alias x or skip; y may alias neither sum nor (when sum does not) the other input.
// Tails: scalar remainder (assembly/rows.ts).
import { ret0, ret1 } from "./common";
import { row_add_shifted, row_norm, row_scale, ln_row_stats, row_m, row_a, row_b, row_h } from "./rows";
import { act_row } from "./act";

/**
 * sum = x + skip + bias; y = act(layer_norm(sum)) (rms = 0: mean and rstd written per row) or
 * act(rms_norm(sum)) (rms = 1: rstd written, beta and mean unused). gamma, beta: C f32; bias: C f32,
 * or 0 for none.
 */
export function skip_forward_f32_cl(R: i32, C: i32, x: usize, skip: usize, bias: usize, gamma: usize, beta: usize, sum: usize, y: usize, mean: usize, rstd: usize, eps: f64, rms: i32, act: i32): void {
  const rs = <usize>C << 2;
  // Layer norm sums around a shift (see ln_forward.ts); RMS norm needs plain Σs².
  let h: f32 = 0;
  for (let r = 0; r < R; r++) {
    const o = <usize>r * rs, ps = sum + o, py = y + o, ro = <usize>r << 2;
    if (rms) {
      row_add_shifted(x + o, skip + o, bias, ps, C, 0); // shift 0: plain Σs² (one sub of 0, −1 KB of wasm)
      const inv = <f32>(1 / Math.sqrt(ret1 / <f64>C + eps));
      store<f32>(rstd + ro, inv);
      row_scale(ps, py, C, inv, gamma);
    } else {
      row_add_shifted(x + o, skip + o, bias, ps, C, h);
      ln_row_stats(ps, C, h, ret0, ret1, eps, mean + ro, rstd + ro);
      row_norm(ps, py, C, row_m, row_a, row_b, gamma, beta);
      h = row_h;
    }
    if (act) act_row(py, py, C, act);
  }
}
