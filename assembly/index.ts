// simdnorm kernels. Pointer-only API: JS owns allocation (js/core/heap.ts); kernels never
// validate and never allocate. A kernel <family>_<phase>_… lives in <family>_<phase>.ts and is
// described once, in js/core/kernel-table.ts. See each file's header for its contract.
export { bn_stats_f32_cf, bn_stats_f32_cl } from "./bn_stats";
export { bn_normalize_f32_cf, bn_normalize_f32_cl } from "./bn_normalize";
export { bn_backward_reduce_f32_cf, bn_backward_reduce_f32_cl, bn_backward_dx_f32_cf, bn_backward_dx_f32_cl } from "./bn_backward";
export { ln_normalize_f32_cf } from "./ln_normalize";
export { ln_backward_rows_f32_cl, ln_backward_short_f32_cl, ln_backward_reduce_f32_cf, ln_backward_dx_f32_cf } from "./ln_backward";
export { ln_forward_f32_cl, ln_forward_short_f32_cl, ln_forward_f32_cf } from "./ln_forward";
export { rms_forward_f32_cl, rms_forward_short_f32_cl } from "./rms_forward";
export { rms_params_f32 } from "./rms_params";
export { rms_backward_f32_cl } from "./rms_backward";
export { skip_forward_f32_cl } from "./skip_forward";
export { skip_backward_f32_cl } from "./skip_backward";
export { skip_add_f32_cf } from "./skip_add";
export { act_forward_f32 } from "./act_forward";
export { act_backward_f32 } from "./act_backward";
export { act_normalize_f32_cf, act_normalize_f32_cl, act_normalize_grad_f32_cf, act_normalize_grad_f32_cl } from "./act_normalize";
export { bn_fused_train_f32_cf, bn_fused_backward_f32_cf } from "./bn_fused";
export { gn_params_f32, gn_params_finish_f32, gn_params_backward_f32 } from "./gn_params";
export { gn_forward_short_f32_cf } from "./gn_forward";
export { px_normalize_f32_cf, px_normalize_f32_cl } from "./px_normalize";
export { px_stats_u8 } from "./px_stats";
export { vec_finite_f32 } from "./vec_finite";
export { bn_params_f32, bn_params_finish_f64, bn_params_running_f64, bn_params_backward_f32, bn_params_check_f64, bn_params_repeat_f32 } from "./bn_params";
export { pattern_len } from "./common";

/** First byte JS may allocate: everything above the module's static data. */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}
