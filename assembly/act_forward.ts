// Elementwise activation: y = act(x) over n contiguous values (x, y f32; y may alias x).
// Used where a normalize kernel has no epilogue of its own (channels-first layer and RMS norm)
// and to test the activations against float64. Tails (assembly/act.ts): relu/relu6 through lane
// 0 of a splat, silu/gelu/gelu_tanh as a partial vector.
import { act_row } from "./act";

/** y[i] = act(x[i]), i < n; act: 0 none (copy), 1 relu, 2 relu6, 3 silu, 4 gelu, 5 gelu_tanh. */
export function act_forward_f32(n: i32, x: usize, y: usize, act: i32): void {
  act_row(x, y, n, act);
}
