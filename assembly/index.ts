// simdnorm kernels. Pointer-only API: JS owns allocation (js/memory.ts); kernels never
// validate and never allocate. See each file's header for its contract.
export { stats_f32_cf, stats_f32_cl } from "./stats";
export { normalize_f32_cf, normalize_f32_cl } from "./normalize";
export { backward_reduce_f32_cf, backward_reduce_f32_cl, backward_dx_f32_cf, backward_dx_f32_cl } from "./backward";
export {
  layernorm_normalize_f32_cl, layernorm_normalize_f32_cf, layernorm_backward_reduce_f32_cl,
  layernorm_backward_reduce_f32_cf, layernorm_backward_dx_f32_cl, layernorm_backward_dx_f32_cf,
} from "./layernorm";
export { bn_train_f32_cf, bn_backward_f32_cf } from "./fused";
export { group_params_f32 } from "./group";
export { pattern_len } from "./common";

/** First byte JS may allocate: everything above the module's static data. */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}
