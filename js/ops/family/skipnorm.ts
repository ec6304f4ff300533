// Residual-fused norms (ONNX SkipLayerNormalization / SkipSimplifiedLayerNormalization):
// sum = x + skip + bias, y = act(norm(sum)), both returned; backward from dy and the gradient
// that reaches sum along the residual path. Kernel drivers: norm-rows.ts.
import { epsOf, optionsOf } from "../options";
import { withScope, bigLength } from "../../core/scope";
import { resolveGeometry, sameSize, wantsTensor, type ShapeOptions } from "../../core/args";
import { numVec, affineShape, type Vec } from "../../core/errors";
import type { TensorLike } from "../../core/tensor";
import type { Geometry } from "../../core/layout";
import { activationId, type Activation } from "../activation";
import { skipForward, rowBackward, rowTempBytes, lnParams, paramVec, rmsParams, checkRmsAffine, type RowParams } from "./norm-rows";
import { gradOutputs, statOutputs } from "./outputs";

export interface SkipNormOptions extends ShapeOptions {
  /** Per-channel scale, C values (default 1). */
  gamma?: Vec;
  /** Per-channel shift, C values (layer norm only; default 0). */
  beta?: Vec;
  /** Per-channel bias added to the sum (ONNX's `bias` input: the preceding linear layer's bias). */
  bias?: Vec;
  /** RMS only: scale by (1 + gamma) (Gemma). */
  unitOffset?: boolean;
  /** Default 1e-5 (layer norm), 1e-6 (RMS norm). */
  eps?: number;
  /** Activation applied to the normalized output in the same pass (default none). */
  activation?: Activation;
  /** Write y here (x's size). May be x or skip, not the array sum goes to. */
  out?: TensorLike;
  /** Write sum here (x's size): typically x or skip itself, the residual stream carried on. */
  sumOut?: TensorLike;
  /** skipLayerNorm: write mean and invstd here (Float32Arrays of N·S values of their own) instead of new arrays. */
  meanOut?: Float32Array;
  invstdOut?: Float32Array;
  /** skipRmsNorm: write invRms here (as meanOut). */
  invRmsOut?: Float32Array;
}

export interface SkipNormResult {
  /** The normalized (and activated) sum. */
  y: TensorLike;
  /** x + skip + bias: the residual stream for the next block (and the backward's input). */
  sum: TensorLike;
}

export interface SkipLayerNormResult extends SkipNormResult {
  /** Mean of sum per (sample, position). */
  mean: Float32Array;
  /** 1/sqrt(var + eps) per (sample, position). */
  invstd: Float32Array;
}

export interface SkipRmsNormResult extends SkipNormResult {
  /** 1/sqrt(mean(sum²) + eps) per (sample, position). */
  invRms: Float32Array;
}

export interface SkipNormBackwardOptions extends ShapeOptions {
  /** The forward's gamma, beta (beta only matters with an activation), unitOffset (RMS). */
  gamma?: Vec;
  beta?: Vec;
  unitOffset?: boolean;
  /** Layer norm: the forward's mean and invstd (N·S values). */
  mean?: Vec;
  invstd?: Vec;
  /** RMS norm: the forward's invRms (N·S values). */
  invRms?: Vec;
  /** Gradient reaching sum directly along the residual path (x's size). Absent: 0. */
  dsum?: TensorLike;
  /** The forward's bias (or true): dbias is returned. */
  bias?: Vec | boolean;
  /** The forward's activation. */
  activation?: Activation;
  /** Write dx here (may be sum, dy or dsum). */
  out?: TensorLike;
  /** Write dgamma here (a Float32Array of C values of its own, returned as `dgamma`) instead of a new array. */
  dgammaOut?: Float32Array;
  /** Layer norm: write dbeta here (as dgammaOut). */
  dbetaOut?: Float32Array;
  /** Write dbias here (as dgammaOut; dbias is then returned, as with `bias: true`). */
  dbiasOut?: Float32Array;
}

export interface SkipNormBackwardResult {
  /** Gradient of x, equal to the gradient of skip: norm'(sum)·dy + dsum. */
  dx: TensorLike;
  dgamma: Float32Array;
  /** Layer norm only. */
  dbeta?: Float32Array;
  /** When `bias` was given: Σ dx per channel. */
  dbias?: Float32Array;
}

/** A big companion argument (skip, dsum) must be a tensor of x's size. */
function checkCompanion(name: string, v: unknown, g: Geometry, first = "x"): void {
  const n = bigLength(name, v); // intrinsic length; freed tensors and stale views refused
  if (n !== g.size) throw new Error(`${name} holds ${n} values, ${first} holds ${g.size}`);
}

function checkSkipForward(x: unknown, skip: unknown, opts: SkipNormOptions | undefined, rms: boolean) {
  const o = optionsOf(opts, rms ? "skipRmsForward" : "skipForward") as SkipNormOptions;
  const g = resolveGeometry(x, o);
  checkCompanion("skip", skip, g);
  const eps = epsOf(o.eps, rms ? 1e-6 : 1e-5);
  if (rms) {
    o.gamma = checkRmsAffine(g.C, o.gamma, o.unitOffset);
    if (o.beta !== undefined && o.beta !== null) throw new Error("beta is not a parameter of RMS norm (use skipLayerNorm)");
  } else {
    o.gamma = affineShape("gamma", o.gamma, g.C);
    o.beta = affineShape("beta", o.beta, g.C);
  }
  o.bias = affineShape("bias", o.bias, g.C);
  sameSize("out", o.out, g);
  sameSize("sumOut", o.sumOut, g);
  return { g, o, eps, act: activationId(o.activation) };
}

function skipForwardCall(x: TensorLike, skip: TensorLike, opts: SkipNormOptions | undefined, rms: boolean) {
  const { g, o, eps, act } = checkSkipForward(x, skip, opts, rms);
  const outs = statOutputs(g.N * g.S, o as unknown as Record<string, unknown>, rms, [x, skip, o.out, o.sumOut, o.gamma, o.beta, o.bias]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size), ka = s.input("skip", skip, g.size, g.shape, g.layout);
    const sa = s.output("sumOut", o.sumOut, g.size, wantsTensor(x, o.sumOut), g.shape, g.layout);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(rowTempBytes(g));
    const p: RowParams = rms ? rmsParams(s, g.C, o.gamma, o.unitOffset, false)
      : lnParams(s, g.C, o.gamma, o.beta);
    const bias = o.bias ? paramVec(s, g.C, o.bias, 0, false, "bias") : 0;
    const st = skipForward(s, g, { rms, act }, xa.ptr, ka.ptr, bias, sa.ptr, ya.ptr, p, eps, outs);
    return { st, y: s.result(ya), sum: s.result(sa) };
  });
}

/**
 * Residual add and layer norm in one pass: sum = x + skip + bias, y = act(layer_norm(sum))
 * over the channel axis (ONNX SkipLayerNormalization; BERT's post-LN blocks, with `sumOut`
 * carrying the stream). x and skip are read once, y and sum written once (rows).
 * @returns y, sum, and the mean / invstd of sum per (sample, position).
 * @throws on bad shapes/lengths ("skip holds 70 values, x holds 80"), gamma/beta/bias lengths,
 *   eps < 0, an unknown activation, out === sumOut. Nothing is written on failure.
 * @example const { y, sum } = skipLayerNorm(attnOut, h, { shape: [1, 128, 768], layout: "NLC", gamma, beta, sumOut: h });
 */
export function skipLayerNorm(x: TensorLike, skip: TensorLike, opts: SkipNormOptions = {}): SkipLayerNormResult {
  const r = skipForwardCall(x, skip, opts, false);
  return { y: r.y, sum: r.sum, mean: r.st.mean!, invstd: r.st.rstd };
}

/**
 * Residual add and RMS norm in one pass: sum = x + skip + bias, y = act(rms_norm(sum))
 * (ONNX SkipSimplifiedLayerNormalization; the residual stream of LLaMA-family decoders).
 * @returns y, sum, and invRms of sum per (sample, position).
 * @throws like skipLayerNorm (and on beta, which RMS norm does not have).
 * @example const { y } = skipRmsNorm(attnOut, h, { shape: [1, 1, 2048], layout: "NLC", gamma: w, sumOut: h });
 */
export function skipRmsNorm(x: TensorLike, skip: TensorLike, opts: SkipNormOptions = {}): SkipRmsNormResult {
  const r = skipForwardCall(x, skip, opts, true);
  return { y: r.y, sum: r.sum, invRms: r.st.rstd };
}

function skipBackwardCall(sum: TensorLike, dy: TensorLike, opts: SkipNormBackwardOptions | undefined, rms: boolean): SkipNormBackwardResult {
  const o = optionsOf(opts, rms ? "skipRmsBackward" : "skipBackward") as SkipNormBackwardOptions;
  const g = resolveGeometry(sum, o, "sum");
  checkCompanion("dy", dy, g, "sum");
  if (o.dsum !== undefined && o.dsum !== null) checkCompanion("dsum", o.dsum, g, "sum");
  sameSize("out", o.out, g);
  const K = g.N * g.S, unit = "(sample, position) statistics";
  if (rms) {
    o.gamma = checkRmsAffine(g.C, o.gamma, o.unitOffset);
    o.invRms = numVec("invRms", o.invRms, K, unit);
  } else {
    o.gamma = affineShape("gamma", o.gamma, g.C);
    o.beta = affineShape("beta", o.beta, g.C);
    o.mean = numVec("mean", o.mean, K, unit);
    o.invstd = numVec("invstd", o.invstd, K, unit);
  }
  if (rms && o.beta !== undefined && o.beta !== null) throw new Error("beta is not a parameter of RMS norm (use skipLayerNormBackward)");
  if (rms && o.dbetaOut !== undefined && o.dbetaOut !== null) throw new Error("dbetaOut: RMS norm has no beta (use skipLayerNormBackward)");
  const outs = gradOutputs(g.C, o as unknown as Record<string, unknown>, [sum, dy, o.dsum, o.out, o.gamma, o.beta, o.mean, o.invstd, o.invRms, o.bias]);
  const wantBias = (o.bias !== undefined && o.bias !== null && o.bias !== false) || outs.dbias !== undefined;
  const bias = wantBias && o.bias !== true && o.bias !== undefined && o.bias !== null && o.bias !== false ? affineShape("bias", o.bias, g.C) : undefined;
  const act = activationId(o.activation);
  return withScope((s) => {
    const xa = s.input("sum", sum, g.size), da = s.input("dy", dy, g.size, g.shape, g.layout, "sum");
    const ds = o.dsum !== undefined && o.dsum !== null ? s.input("dsum", o.dsum, g.size, g.shape, g.layout, "sum") : null;
    const oa = s.output("out", o.out, g.size, wantsTensor(sum, o.out), g.shape, g.layout);
    s.commit(rowTempBytes(g));
    const p: RowParams = rms ? rmsParams(s, g.C, o.gamma, o.unitOffset, act !== 0)
      : lnParams(s, g.C, o.gamma, o.beta);
    if (bias) paramVec(s, g.C, bias, 0, false, "bias"); // only checked: the backward does not use the forward's bias
    const r = rowBackward(s, g, { rms, act }, true, xa.ptr, da.ptr, ds ? ds.ptr : 0, oa.ptr, p, rms ? null : o.mean!, rms ? o.invRms! : o.invstd!, outs);
    const out: SkipNormBackwardResult = { dx: s.result(oa), dgamma: r.dgamma };
    if (!rms) out.dbeta = r.dbeta!;
    if (wantBias) out.dbias = r.dbias!;
    return out;
  });
}

/**
 * Backward of skipLayerNorm from its sum (not x and skip: sum is what the forward kept), dy and
 * the optional dsum: dx (= dskip) = layer_norm'(sum)·dy + dsum; dgamma, dbeta; dbias when
 * `bias` is given. With `activation` (and the forward's beta) the gradient goes through it.
 * @throws on bad shapes/lengths (dy, dsum, out, gamma, beta, mean, invstd, the gradient outputs). `out` may be sum, dy or dsum.
 */
export function skipLayerNormBackward(sum: TensorLike, dy: TensorLike, opts: SkipNormBackwardOptions): SkipNormBackwardResult {
  return skipBackwardCall(sum, dy, opts, false);
}

/**
 * Backward of skipRmsNorm from its sum, dy and the optional dsum: dx (= dskip), dgamma, and
 * dbias when `bias` is given.
 * @throws on bad shapes/lengths (dy, dsum, out, gamma, invRms). `out` may be sum, dy or dsum.
 */
export function skipRmsNormBackward(sum: TensorLike, dy: TensorLike, opts: SkipNormBackwardOptions): SkipNormBackwardResult {
  return skipBackwardCall(sum, dy, opts, true);
}
