// Elementwise activation gradient: dx = dy·act'(v) over n contiguous values, v the
// pre-activation (f32; dx may alias v or dy). Tails (assembly/act.ts): relu/relu6 through lane
// 0 of a splat, silu/gelu/gelu_tanh as a partial vector.
import { act_grad_row } from "./act";

/** dx[i] = dy[i]·act'(v[i]), i < n; act ids as act_forward_f32 (0: dx = dy). */
export function act_backward_f32(n: i32, v: usize, dy: usize, dx: usize, act: i32): void {
  act_grad_row(v, dy, dx, n, act);
}
