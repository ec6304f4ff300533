// What instance, group and layer norm share: options, results, validation, and the f64 mean
// split that keeps the (x − mean) form exact at large offsets.
import { resolveGeometry, sameSize, type ShapeOptions } from "../../core/args";
import { checkFinite, checkVec, type Vec } from "../../core/errors";
import { Tensor, type TensorLike } from "../../core/tensor";
import type { Geometry } from "../../core/layout";
import { activationId, type Activation } from "../activation";

export interface NormOptions extends ShapeOptions {
  /** Per-channel scale, C values (default 1). */
  gamma?: Vec;
  /** Per-channel shift, C values (default 0). */
  beta?: Vec;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Write y here: a Tensor or Float32Array of x's size; may be x itself (in place). */
  out?: TensorLike;
  /** Activation applied to the normalized output in the same pass (default none). */
  activation?: Activation;
}

export interface NormResult {
  /** Normalized output: a Tensor when x was a Tensor (caller frees) and no `out`, else a Float32Array. */
  y: TensorLike;
  /** Mean per statistic (f32 rounding of the f64 mean), in the op's statistic order. */
  mean: Float32Array;
  /** 1/sqrt(var + eps) per statistic (biased variance). */
  invstd: Float32Array;
}

export interface NormBackwardOptions extends ShapeOptions {
  /** Per-channel scale used by the forward pass (default 1). */
  gamma?: Vec;
  /** Per-channel shift of the forward pass: needed only with `activation` (default 0). */
  beta?: Vec;
  /** The forward's activation: the gradient goes through it (its input is recomputed). */
  activation?: Activation;
  /** Per-statistic mean from the forward pass (Float64Array keeps full precision). */
  mean: Vec;
  /** Per-statistic 1/sqrt(var + eps) from the forward pass. */
  invstd: Vec;
  /** Write dx here: a Tensor or Float32Array of x's size; may be x or dy (in place). */
  out?: TensorLike;
}

export interface NormBackwardResult {
  /** Gradient of the input: a Tensor when x was a Tensor and no `out`, else a Float32Array. */
  dx: TensorLike;
  /** Σ dy·x̂ per channel (C values). */
  dgamma: Float32Array;
  /** Σ dy per channel (C values). */
  dbeta: Float32Array;
}

/** Forward arguments checked before anything is bound: geometry, eps, gamma/beta, out. */
export function checkForward(x: unknown, o: NormOptions | undefined): { g: Geometry; o: NormOptions; eps: number; act: number } {
  o = o ?? {};
  const g = resolveGeometry(x, o);
  const eps = o.eps === undefined ? 1e-5 : checkFinite("eps", o.eps, 0);
  checkAffine(g.C, o.gamma, o.beta);
  sameSize("out", o.out, g);
  return { g, o, eps, act: activationId(o.activation) };
}

/** Backward arguments: geometry, dy/out sizes, gamma, and K per-statistic mean/invstd. */
export function checkBackward(x: unknown, dy: unknown, o: NormBackwardOptions | undefined, K: (g: Geometry) => number, unit: string): { g: Geometry; o: NormBackwardOptions; act: number } {
  o = o ?? ({} as NormBackwardOptions);
  const g = resolveGeometry(x, o);
  sameSize("dy", dy, g);
  sameSize("out", o.out, g);
  checkAffine(g.C, o.gamma, o.beta);
  checkVec("mean", o.mean, K(g), unit);
  checkVec("invstd", o.invstd, K(g), unit);
  return { g, o, act: activationId(o.activation) };
}

function checkAffine(C: number, gamma: unknown, beta: unknown): void {
  if (gamma !== undefined && gamma !== null) checkVec("gamma", gamma, C);
  if (beta !== undefined && beta !== null) checkVec("beta", beta, C);
}

/** The result for `out`: a new Tensor only when x is a Tensor and no out was given. */
export function wantsTensor(x: unknown, out: unknown): boolean {
  return (out === undefined || out === null) && x instanceof Tensor;
}

/**
 * f64 means → f32 high parts (the kernels subtract them; x − hi is exact near the mean) and the
 * f64 residues, which JS folds into a shift so offsets of 1e4–1e6 cost no precision.
 */
export function splitMeans(mean: ArrayLike<number>): { hi: Float32Array; lo: Float64Array } {
  const hi = Float32Array.from(mean as ArrayLike<number>);
  const lo = new Float64Array(mean.length);
  for (let i = 0; i < mean.length; i++) lo[i] = mean[i] - hi[i];
  return { hi, lo };
}

/** gamma/beta as C f32 values, with the identity when absent. */
export function affineOrIdentity(C: number, v: Vec | undefined | null, fill: number): Float32Array {
  return v ? Float32Array.from(v) : new Float32Array(C).fill(fill);
}
