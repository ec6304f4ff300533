// The one table of wasm kernels. For every export: its arguments (names and order), the scratch
// bytes it needs and the dimensions of its warm-up call. The Kernels type, the warm-up (`init({ warmup: true })`),
// the ops' temporary sizes, bench/kernel-ab.mjs and test/kernel-table.test.mjs all derive from
// it. Adding a kernel: write it in assembly/<family>_<phase>.ts, export it from
// assembly/index.ts, add one entry here (the test fails until all three agree).
//
// Naming rule: <family>_<phase>[_<subphase>]_<f32|f64|u8>[_cf|_cl] (the dtype of the data written,
// u8 for integer sums of bytes). Families: bn (batch norm, and every op that runs on its
// per-channel kernels), ln (layer norm: per-statistic and per-channel parameters), gn (group
// norm), px (image bytes: RGB/RGBA pixels in, see js/ops/pixels.ts), rms (RMS norm rows), skip
// (residual-fused norms), act (activation epilogues and their gradients), vec (checks of
// per-channel vectors in wasm memory; the dtype read). cf = channels-first
// (N, C, S), cl = channels-last (R rows of C).
// This module imports nothing at run time: the build also emits it alone for benches and tests.

/** What an argument name means to generic callers (the warm-up, the A/B bench, the tests). */
export const ARG_KINDS = {
  // Dimensions.
  N: "dim", C: "dim", S: "dim", R: "dim", G: "dim",
  // Data tensors read (x, dy) and written (y, dx): the tensor's size.
  x: "in", dy: "in", y: "out", dx: "out", skip: "in", dsum: "in", sum: "out",
  // Interleaved image bytes read (R pixels of C bytes).
  px: "bytes",
  // Small f32 arrays read: per channel, per statistic (layer norm) or per (n, group).
  m: "param", scale: "param", shift: "param", k: "param", c1: "param", c0: "param", a: "param",
  b: "param", gamma: "param", beta: "param", hi: "param", invstd: "param", bias: "param", v: "param",
  // Small f64 arrays read.
  lo: "param64", inv: "param64", st: "param64",
  // Small arrays written: f64 accumulators (triples or pairs) and per-(n, c) f32 parameters.
  acc: "acc", sacc: "acc", cacc: "acc", sums: "acc", isums: "acc", pm: "acc", ps: "acc", pt: "acc", mean: "acc", rstd: "acc",
  // …and per-statistic results: f32 mean and its f64 residue, f64 and f32 invstd.
  mh: "acc", ml: "acc", mi: "acc", mf: "acc",
  // 16-byte aligned scratch of `scratch(d)` bytes.
  scratch: "scratch",
  // Scalars.
  // act: activation id (0 none, 1 relu, 2 relu6, 3 silu, 4 gelu, 5 gelu_tanh); rms: 1 = RMS norm.
  eps: "scalar", count: "scalar", act: "scalar", rms: "scalar", n: "dim",
  // Batch norm's per-channel arithmetic (assembly/bn_params.ts): f64 planes read (means, variances
  // or invstd, γ, β, synchronized sums), f32 results and parameters written, the count of copies
  // of each parameter (rep) and where the non-negative values of a check start (from).
  mu: "param64", w: "param64", gm: "param64", bt: "param64", gsums: "param64",
  sv: "acc", planes: "acc", pk: "acc", pc1: "acc", pc0: "acc", grads: "acc", rep: "scalar", from: "scalar",
  // The running statistics (f64 copies, updated in place), the update's weights, f32 results (narrow).
  rm: "acc", rv: "acc", keep: "scalar", weight: "scalar", narrow: "scalar",
} as const;

export type ArgName = keyof typeof ARG_KINDS;
/** Dimensions of one call; L is the channels-last lane-pattern length for C (pattern_len, ≤ max(C, 1024)). */
export interface Dims { N?: number; C: number; S?: number; R?: number; G?: number; n?: number }

export interface KernelSpec {
  /** Argument names, in order. */
  readonly args: readonly ArgName[];
  /** What the kernel computes (one line; the assembly file's header has the contract). */
  readonly doc: string;
  /** Scratch bytes for a call with dimensions d; L(C) = the lane-pattern length. */
  readonly scratch?: (d: Dims, L: (C: number) => number) => number;
  /** Dimension sets of the warm-up calls for about V values. */
  readonly warm: (V: number) => readonly Dims[];
  /** What the kernel returns ("index": an i32); nothing when absent (results go to memory). */
  readonly returns?: "index";
}

/** Values of one channel summed in f32 before f64 (assembly/common.ts BLOCK): bounds some scratch. */
export const BLOCK = 4096;

/**
 * Channels-last kernels keep f32 lane patterns of L = pattern_len(C) values, rounded up to a
 * multiple of 4 (16-byte aligned): L ≤ max(C, 1024), so their scratch is O(C).
 */
const up4 = (L: number): number => (L + 3) & ~3;

const cf = (V: number): Dims[] => [{ N: 1, C: 2, S: V / 2 }, { N: 2, C: 2, S: 20 }];
const cl = (V: number): Dims[] => [{ R: V / 8, C: 8 }];
/** …and C = 3 (RGB), whose 12-value-period loops are functions of their own in normalize, dx and the backward sums. */
const clRgb = (V: number): Dims[] => [...cl(V), { R: V / 8, C: 3 }];
const lnCf = (): Dims[] => [{ N: 1, C: 2, S: 20 }];
const px = (V: number): Dims[] => [{ R: V / 4, S: V / 4, C: 4 }, { R: V / 4, S: V / 4, C: 3 }];
const rows = (): Dims[] => [{ R: 3, C: 64 }, { R: 2, C: 7 }];
/** Row backward scratch: the row of g, three f32 column partial sums, three f64 column planes. */
const rowScratch = (d: Dims): number => 40 * d.C;
/** The four-row forwards' scratch (ln_forward.ts short_rows): γ, β as whole vectors, the last rows' copy, one tile's sums. */
const shortScratch = (d: Dims): number => 32 * ((d.C + 3) >> 2) + 16 * d.C + 944;

export const KERNEL_TABLE = {
  bn_stats_f32_cf: { args: ["N", "C", "S", "x", "acc", "scratch"], warm: cf, scratch: (d) => 36 * d.C, doc: "merge per-channel (count, mean, M2) of (N, C, S) into acc" },
  bn_stats_f32_cl: { args: ["R", "C", "x", "acc", "scratch"], warm: cl, scratch: (d, L) => 12 * up4(L(d.C)) + 16 * d.C + 16 * Math.min(d.C, 1024), doc: "merge per-channel (count, mean, M2) of R rows of C into acc" },
  bn_normalize_f32_cf: { args: ["N", "C", "S", "x", "m", "scale", "shift", "y"], warm: cf, doc: "y = (x − m)·scale + shift per channel" },
  bn_normalize_f32_cl: { args: ["R", "C", "x", "m", "scale", "shift", "y", "scratch"], warm: clRgb, scratch: (d, L) => 12 * up4(L(d.C)), doc: "y = (x − m)·scale + shift per channel" },
  bn_backward_reduce_f32_cf: { args: ["N", "C", "S", "x", "dy", "m", "acc"], warm: cf, doc: "merge per-channel (Σdy, Σdy·(x − m)) into acc" },
  bn_backward_reduce_f32_cl: { args: ["R", "C", "x", "dy", "m", "acc", "scratch"], warm: clRgb, scratch: (d, L) => 12 * up4(L(d.C)), doc: "merge per-channel (Σdy, Σdy·(x − m)) into acc" },
  bn_backward_dx_f32_cf: { args: ["N", "C", "S", "x", "dy", "m", "k", "c1", "c0", "dx"], warm: cf, doc: "dx = dy·k + (x − m)·c1 + c0 per channel" },
  bn_backward_dx_f32_cl: { args: ["R", "C", "x", "dy", "m", "k", "c1", "c0", "dx", "scratch"], warm: clRgb, scratch: (d, L) => 16 * up4(L(d.C)), doc: "dx = dy·k + (x − m)·c1 + c0 per channel" },
  bn_fused_train_f32_cf: { args: ["N", "C", "S", "x", "gamma", "beta", "acc", "y", "eps"], warm: cf, doc: "per channel: statistics into acc, then y normalized (second pass from L2)" },
  bn_fused_backward_f32_cf: { args: ["N", "C", "S", "x", "dy", "hi", "lo", "invstd", "gamma", "sums", "dx", "count"], warm: cf, doc: "per channel: (Σdy, Σdy·(x − mean)) into sums, then dx (second pass from L2)" },
  ln_normalize_f32_cf: { args: ["N", "C", "S", "x", "m", "a", "b", "gamma", "beta", "y"], warm: lnCf, doc: "y = ((x − m[n,s])·a[n,s] + b[n,s])·gamma[c] + beta[c]" },
  ln_backward_reduce_f32_cf: { args: ["N", "C", "S", "x", "dy", "m", "a", "b", "gamma", "sacc", "cacc", "scratch"], warm: lnCf, scratch: (d) => 8 * Math.min(d.S ?? 1, BLOCK), doc: "per column (Σγdy, Σγdy·(x − m)) written, per channel (Σdy, Σdy·x̂) added" },
  ln_backward_dx_f32_cf: { args: ["N", "C", "S", "x", "dy", "m", "k", "c1", "c0", "gamma", "dx"], warm: lnCf, doc: "dx = γ·dy·k[n,s] + (x − m[n,s])·c1[n,s] + c0[n,s]" },
  ln_forward_f32_cl: { args: ["R", "C", "x", "gamma", "beta", "y", "mean", "rstd", "eps", "act"], warm: rows, doc: "rows: mean, rstd written; y = act(((x − mean)·rstd)·gamma + beta)" },
  ln_forward_short_f32_cl: { args: ["R", "C", "x", "gamma", "beta", "y", "mean", "rstd", "eps", "act", "scratch"], warm: () => [{ R: 6, C: 5 }, { R: 4, C: 16 }], scratch: shortScratch, doc: "rows of 1–32 values, four at a time: mean, rstd written; y = act(((x − mean)·rstd)·gamma + beta)" },
  ln_forward_f32_cf: { args: ["N", "C", "S", "x", "gamma", "beta", "y", "mean", "rstd", "eps", "act", "scratch"], warm: lnCf, scratch: (d) => (d.C > 512 ? 48 : 32) * ((Math.min(d.S ?? 1, 512) + 3) & ~3), doc: "channels-first: per (n, s) mean, rstd written; y = act(((x − mean)·rstd)·gamma[c] + beta[c])" },
  ln_backward_rows_f32_cl: { args: ["R", "C", "x", "dy", "m", "a", "b", "gamma", "beta", "dx", "cacc", "scratch", "act"], warm: rows, scratch: rowScratch, doc: "rows: dx; per column (Σg, Σg·x̂) written as f32 planes (g = dy·act')" },
  rms_forward_f32_cl: { args: ["R", "C", "x", "gamma", "y", "rstd", "eps", "act"], warm: rows, doc: "rows: rstd written; y = act(x·rstd·gamma)" },
  ln_backward_short_f32_cl: { args: ["R", "C", "x", "dy", "m", "a", "b", "gamma", "dx", "cacc", "scratch", "rms"], warm: () => [{ R: 6, C: 5 }, { R: 4, C: 16 }], scratch: (d) => 48 * ((d.C + 3) >> 2) + 2 * ((8 * d.C + 15) & ~15) + 48 * d.C + 736, doc: "rows of 1–32 values, four at a time, no activation: dx of layer norm (rms = 1: of RMS norm, m = b = 0); per column (Σdy, Σdy·x̂) written as f32 planes" },
  rms_forward_short_f32_cl: { args: ["R", "C", "x", "gamma", "y", "rstd", "eps", "act", "scratch"], warm: () => [{ R: 6, C: 5 }, { R: 4, C: 16 }], scratch: shortScratch, doc: "rows of 1–32 values, four at a time: rstd written; y = act(x·rstd·gamma)" },
  rms_params_f32: { args: ["R", "acc", "eps", "rstd"], warm: () => [{ R: 5, C: 1 }], doc: "R Welford triples → rstd = 1/sqrt(M2/count + mean² + eps) (f32)" },
  rms_backward_f32_cl: { args: ["R", "C", "x", "dy", "a", "gamma", "beta", "dx", "cacc", "scratch", "act"], warm: rows, scratch: rowScratch, doc: "rows: dx of RMS norm; per column (Σg, Σg·x̂) written as f32 planes" },
  skip_forward_f32_cl: { args: ["R", "C", "x", "skip", "bias", "gamma", "beta", "sum", "y", "mean", "rstd", "eps", "rms", "act"], warm: rows, doc: "rows: sum = x + skip + bias; y = act(norm(sum)) (layer or RMS norm)" },
  skip_backward_f32_cl: { args: ["R", "C", "x", "dy", "dsum", "m", "a", "b", "gamma", "beta", "dx", "cacc", "scratch", "rms", "act"], warm: rows, scratch: rowScratch, doc: "rows: dx = norm'·dy + dsum; per column (Σg, Σg·x̂, Σdx) written as f32 planes" },
  skip_add_f32_cf: { args: ["N", "C", "S", "x", "skip", "bias", "sum"], warm: lnCf, doc: "sum = x + skip + bias[c] (channels-first)" },
  act_forward_f32: { args: ["n", "x", "y", "act"], warm: (V) => [{ n: V, C: 1 }], doc: "y = act(x), elementwise" },
  act_backward_f32: { args: ["n", "x", "dy", "dx", "act"], warm: (V) => [{ n: V, C: 1 }], doc: "dx = dy·act'(x), elementwise (x: the pre-activation)" },
  act_normalize_f32_cf: { args: ["N", "C", "S", "x", "m", "scale", "shift", "y", "act"], warm: cf, doc: "y = act((x − m)·scale + shift) per channel" },
  act_normalize_f32_cl: { args: ["R", "C", "x", "m", "scale", "shift", "y", "act"], warm: cl, doc: "y = act((x − m)·scale + shift) per channel" },
  act_normalize_grad_f32_cf: { args: ["N", "C", "S", "x", "dy", "m", "scale", "shift", "dx", "act", "scratch"], warm: cf, scratch: () => 4096, doc: "dx = dy·act'((x − m)·scale + shift) per channel" },
  act_normalize_grad_f32_cl: { args: ["R", "C", "x", "dy", "m", "scale", "shift", "dx", "act", "scratch"], warm: cl, scratch: () => 4096, doc: "dx = dy·act'((x − m)·scale + shift) per channel" },
  gn_forward_short_f32_cf: { args: ["N", "C", "G", "S", "x", "gamma", "beta", "y", "eps", "mh", "mf", "scratch"], warm: () => [{ N: 2, C: 3, G: 3, S: 49 }, { N: 2, C: 4, G: 2, S: 49 }], scratch: (d) => 2560 + 12 * Math.max(64, Math.floor(8192 / (d.S ?? 4)) + 3), doc: "instance or group norm of channels-first rows of 4–127 values ((C/G)·S ≤ 4096) in one pass: per-statistic f32 mean and invstd written (N·G + 1 values: one past the end may be written), y normalized" },
  gn_params_finish_f32: { args: ["N", "st", "eps", "mh", "ml", "mi", "mf"], warm: () => [{ N: 8, C: 1 }], doc: "per-statistic f32 mean, f64 residue, f64 and f32 invstd from (count, mean, M2) triples" },
  gn_params_backward_f32: { args: ["N", "C", "G", "sums", "lo", "inv", "gamma", "count", "k", "c1", "c0", "acc"], warm: () => [{ N: 1, C: 8, G: 2 }], doc: "per-(n, c) dx parameters k, c1, c0 from per-(n, c) backward sums and per-(n, group) statistics; dgamma, dbeta added per channel" },
  gn_params_f32: { args: ["N", "C", "G", "hi", "lo", "inv", "gamma", "beta", "pm", "ps", "pt"], warm: () => [{ N: 1, C: 8, G: 2 }], doc: "per-(n, c) normalize parameters from per-(n, group) statistics" },
  px_normalize_f32_cf: { args: ["R", "S", "C", "px", "scale", "shift", "y"], warm: px, doc: "planes of stride S: y[c·S + i] = px[i·C + c]·scale[c] + shift[c], c < 3" },
  px_normalize_f32_cl: { args: ["R", "C", "px", "scale", "shift", "y"], warm: px, doc: "y[3i + c] = px[i·C + c]·scale[c] + shift[c], c < 3" },
  px_stats_u8: { args: ["R", "C", "px", "isums"], warm: px, doc: "add exact u64 per-channel Σbyte and Σbyte² (c < 3) into isums" },
  bn_params_f32: { args: ["C", "mu", "w", "gm", "bt", "eps", "pm", "ps", "pt", "sv"], warm: () => [{ C: 16 }], doc: "per-channel m, scale, shift from means and variances (or invstd), γ, β; optionally the f32 results mean | invstd | w" },
  bn_params_finish_f64: { args: ["C", "acc", "planes"], warm: () => [{ C: 16 }], doc: "(count, mean, M2) triples → f64 planes mean | biased | unbiased variance" },
  bn_params_running_f64: { args: ["C", "rm", "rv", "mu", "w", "keep", "weight", "narrow"], warm: () => [{ C: 16 }], doc: "running statistics in place: rm = keep·rm + weight·mu, rv = keep·rv + weight·w (C f64 each; narrow ≠ 0: written as C f32)" },
  bn_params_backward_f32: { args: ["C", "sums", "mu", "w", "gm", "gsums", "count", "pm", "pk", "pc1", "pc0", "grads"], warm: () => [{ C: 16 }], doc: "per-channel dx parameters k, c1, c0 and dgamma | dbeta from the backward sums" },
  bn_params_repeat_f32: { args: ["C", "rep", "v", "pm"], warm: () => [{ C: 16 }], doc: "C per-channel f32 parameters, each written rep times (pseudo-channels)" },
  bn_params_check_f64: { args: ["n", "w", "from"], warm: () => [{ n: 64, C: 1 }], returns: "index", doc: "the index of the first non-finite f64 (or negative from index `from`), −1: none" },
  vec_finite_f32: { args: ["C", "v"], warm: () => [{ C: 64 }, { C: 7 }], returns: "index", doc: "the index of the first non-finite value of C f32 (−1: all finite)" },
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNEL_TABLE;
export const KERNEL_NAMES = Object.keys(KERNEL_TABLE) as KernelName[];

/** Exports that are not kernels: memory, where JS may allocate, the lane-pattern length. */
export const UTILITY_EXPORTS = ["memory", "heap_base", "pattern_len"] as const;

type Nums<T extends readonly unknown[]> = { [I in keyof T]: number };
/** The raw kernel exports, typed from the table. Pointers are byte offsets into the memory. */
export type Kernels = { [K in KernelName]: (...args: Nums<(typeof KERNEL_TABLE)[K]["args"]>) => (typeof KERNEL_TABLE)[K] extends { returns: "index" } ? number : void } & {
  memory: WebAssembly.Memory;
  heap_base(): number;
  pattern_len(C: number): number;
};

/** The lane-pattern length function the scratch formulas get, made once per kernels object (not a closure per call: op calls ask several times). */
let lenOf: { k: unknown; L: (C: number) => number } = { k: null, L: () => 0 };

/** Scratch bytes kernel `name` needs for a call with dimensions d (0 when it takes none). */
export function scratchBytes(k: Pick<Kernels, "pattern_len">, name: KernelName, d: Dims): number {
  const f = (KERNEL_TABLE[name] as KernelSpec).scratch;
  if (!f) return 0;
  if (lenOf.k !== k) lenOf = { k, L: (C) => k.pattern_len(C) };
  return f(d, lenOf.L);
}

/** Bytes warmUp(…, V) needs at p: the data region plus small parameter, accumulator and scratch areas. */
export function warmBytes(V: number): number {
  return 4 * warmValues(V) + 8192;
}
const warmValues = (V: number) => Math.max(256, Math.ceil(V / 64) * 64);

/**
 * Call every kernel in the table on zeros at p (warmBytes(V) bytes, 16-byte aligned, zeroed by
 * the caller), `reps` times: V8 runs a function's first calls in baseline code and never
 * switches a running call to optimized code, so the first large call after this is fast.
 */
export function warmUp(k: Kernels, p: number, V: number, reps = 3): void {
  V = warmValues(V);
  const area: Record<string, number> = { in: p + 8192, bytes: p + 8192, out: p + 8192, acc: p, param: p + 1024, param64: p + 1024, scratch: p + 2048 };
  for (let r = 0; r < reps; r++) {
    for (const name of KERNEL_NAMES) {
      const spec = KERNEL_TABLE[name] as KernelSpec;
      for (const d of spec.warm(V)) {
        const args = spec.args.map((a) => {
          const kind = ARG_KINDS[a];
          if (kind === "dim") return (d as unknown as Record<string, number>)[a];
          if (kind === "scalar") return a === "eps" ? 1e-5 : 1;
          return area[kind];
        });
        (k[name] as (...a: number[]) => void)(...args);
      }
    }
  }
}
