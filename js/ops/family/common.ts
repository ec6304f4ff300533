// What instance, group and layer norm share: options, results, validation (one validator per
// op, used by the function and its layer object), and the f64 mean split (js/ops/split.ts).
import { resolveGeometry, sameSize, type ShapeOptions } from "../../core/args";
import { affineVec, affineShape, numVec, fmt, type Vec } from "../../core/errors";
import type { TensorLike } from "../../core/tensor";
import type { Geometry } from "../../core/layout";
import { epsOf, optionsOf } from "../options";
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
  /**
   * Write the mean per statistic here (a Float32Array of N·S values for layer norm, N·groups for
   * group norm, N·C for instance norm; of its own, in the JS heap), returned as `mean`, instead of
   * a new array: a call in a loop then allocates nothing for its statistics.
   */
  meanOut?: Float32Array;
  /** Write invstd here (as meanOut), returned as `invstd`. */
  invstdOut?: Float32Array;
}

export interface NormResult {
  /** Normalized output: a Tensor when x was a Tensor (caller frees) and no `out`, else a Float32Array. */
  y: TensorLike;
  /**
   * Mean per statistic, in the op's statistic order: f32, within an f32 rounding or two of the mean
   * (layer norm over rows of 1–24 values: within ~3e-7 of the row's standard deviation).
   */
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
  /**
   * Write dgamma here (a Float32Array of C values of its own, returned as `dgamma`) instead of a
   * new array: a call then allocates nothing per channel (a fresh result array of a few KB
   * costs more than a one-row backward on some systems; docs/performance.md).
   */
  dgammaOut?: Float32Array;
  /** Write dbeta here (as dgammaOut). */
  dbetaOut?: Float32Array;
}

export interface NormBackwardResult {
  /** Gradient of the input: a Tensor when x was a Tensor and no `out`, else a Float32Array. */
  dx: TensorLike;
  /** Σ dy·x̂ per channel (C values). */
  dgamma: Float32Array;
  /** Σ dy per channel (C values). */
  dbeta: Float32Array;
}

/** A checked NormOptions: gamma / beta finite (or absent), the options read once. */
export type CheckedOptions = Omit<NormOptions, "gamma" | "beta"> & { gamma?: Float32Array | Float64Array; beta?: Float32Array | Float64Array; groups?: unknown };

/**
 * Forward arguments checked before anything is bound: the options read once, geometry, eps,
 * gamma/beta (C finite values; `later`: C values whose elements the caller checks through
 * norm-rows.ts lnParams), out. `groups`: group norm's options (with `groups`).
 */
export function checkForward(x: unknown, opts: NormOptions | undefined, later = false, groups = false): { g: Geometry; o: CheckedOptions; eps: number; act: number } {
  const o = optionsOf(opts, groups ? "groupForward" : "normForward") as CheckedOptions;
  const g = resolveGeometry(x, o);
  const eps = epsOf(o.eps, 1e-5);
  const affine = later ? affineShape : affineVec;
  o.gamma = affine("gamma", o.gamma, g.C);
  o.beta = affine("beta", o.beta, g.C);
  sameSize("out", o.out, g);
  return { g, o, eps, act: activationId(o.activation) };
}

/** A checked NormBackwardOptions: mean / invstd read once (number[] → Float64Array). */
export type CheckedBackward = Omit<NormBackwardOptions, "gamma" | "beta" | "mean" | "invstd"> & { gamma?: Float32Array | Float64Array; beta?: Float32Array | Float64Array; mean: Float32Array | Float64Array; invstd: Float32Array | Float64Array; groups?: unknown };

/**
 * Backward arguments: the options read once (`groups`: group norm's), geometry, dy/out sizes,
 * gamma (`later`: as checkForward), and K per-statistic mean/invstd.
 */
export function checkBackward(x: unknown, dy: unknown, opts: NormBackwardOptions | undefined, K: (g: Geometry, o: CheckedBackward) => number, unit: string, later = false, groups = false): { g: Geometry; o: CheckedBackward; act: number } {
  const o = optionsOf(opts, groups ? "groupBackward" : "normBackward") as unknown as CheckedBackward;
  const g = resolveGeometry(x, o);
  sameSize("dy", dy, g);
  sameSize("out", o.out, g);
  const affine = later ? affineShape : affineVec;
  o.gamma = affine("gamma", o.gamma, g.C);
  o.beta = affine("beta", o.beta, g.C);
  const k = K(g, o);
  o.mean = numVec("mean", o.mean, k, unit);
  o.invstd = numVec("invstd", o.invstd, k, unit);
  return { g, o, act: activationId(o.activation) };
}

/** groups: a positive integer dividing C (group norm's function and layer both use this). */
export function checkGroups(C: number, groups: unknown): number {
  if (groups === undefined) throw new Error("groups is required: groups must be a positive integer, got undefined (a divisor of the channel count)");
  if (typeof groups !== "number" || !Number.isInteger(groups) || groups < 1) throw new Error(`groups must be a positive integer, got ${fmt(groups)}`);
  if (C % groups !== 0) throw new Error(`${C} channels cannot be split into ${groups} groups: groups must divide the channel count`);
  return groups;
}

