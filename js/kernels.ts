// The raw kernel exports, typed. Pointers are byte offsets into the module's memory.

export interface Kernels {
  memory: WebAssembly.Memory;
  heap_base(): number;
  pattern_len(C: number): number;
  stats_f32_cf(N: number, C: number, S: number, x: number, acc: number): void;
  stats_f32_cl(R: number, C: number, x: number, acc: number, scratch: number): void;
  normalize_f32_cf(N: number, C: number, S: number, x: number, m: number, scale: number, shift: number, y: number): void;
  normalize_f32_cl(R: number, C: number, x: number, m: number, scale: number, shift: number, y: number, scratch: number): void;
  backward_reduce_f32_cf(N: number, C: number, S: number, x: number, dy: number, m: number, acc: number): void;
  backward_reduce_f32_cl(R: number, C: number, x: number, dy: number, m: number, acc: number, scratch: number): void;
  backward_dx_f32_cf(N: number, C: number, S: number, x: number, dy: number, m: number, k: number, c1: number, c0: number, dx: number): void;
  bn_train_f32_cf(N: number, C: number, S: number, x: number, gamma: number, beta: number, acc: number, y: number, eps: number): void;
  bn_backward_f32_cf(N: number, C: number, S: number, x: number, dy: number, hi: number, lo: number, invstd: number, gamma: number, sums: number, dx: number, m: number): void;
  backward_dx_f32_cl(R: number, C: number, x: number, dy: number, m: number, k: number, c1: number, c0: number, dx: number, scratch: number): void;
  layernorm_normalize_f32_cl(R: number, C: number, x: number, m: number, a: number, b: number, gamma: number, beta: number, y: number): void;
  layernorm_normalize_f32_cf(N: number, C: number, S: number, x: number, m: number, a: number, b: number, gamma: number, beta: number, y: number): void;
  layernorm_backward_reduce_f32_cl(R: number, C: number, x: number, dy: number, m: number, a: number, b: number, gamma: number, sacc: number, cacc: number, scratch: number): void;
  layernorm_backward_reduce_f32_cf(N: number, C: number, S: number, x: number, dy: number, m: number, a: number, b: number, gamma: number, sacc: number, cacc: number, scratch: number): void;
  layernorm_backward_dx_f32_cl(R: number, C: number, x: number, dy: number, m: number, k: number, c1: number, c0: number, gamma: number, dx: number): void;
  layernorm_backward_dx_f32_cf(N: number, C: number, S: number, x: number, dy: number, m: number, k: number, c1: number, c0: number, gamma: number, dx: number): void;
  group_params_f32(N: number, C: number, G: number, hi: number, lo: number, inv: number, gamma: number, beta: number, pm: number, ps: number, pt: number): void;
}
