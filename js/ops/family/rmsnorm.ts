// RMS norm (LLaMA, T5, Gemma; ONNX RMSNormalization / SimplifiedLayerNormalization): statistics
// per (sample, position) over the channel axis, no centring, no beta. Kernel drivers:
// norm-rows.ts.
import { epsOf, optionsOf } from "../options";
import { withScope } from "../../core/scope";
import { resolveGeometry, sameSize, type ShapeOptions } from "../../core/args";
import { numVec, type Vec } from "../../core/errors";
import type { TensorLike } from "../../core/tensor";
import type { Geometry } from "../../core/layout";
import { activationId, type Activation } from "../activation";
import { rowForward, rowBackward, rowTempBytes, rmsParams, checkRmsAffine } from "./norm-rows";
import { gradOutputs, statOutputs } from "./outputs";
import { wantsTensor } from "../../core/args";

export interface RmsNormOptions extends ShapeOptions {
  /** Per-channel scale, C values (default: scale 1). */
  gamma?: Vec;
  /** Scale by (1 + gamma) instead of gamma (Gemma, whose weights are stored around 0). Default false. */
  unitOffset?: boolean;
  /** Added to mean(x²) before the square root. Default 1e-6 (Hugging Face LLaMA's rms_norm_eps). */
  eps?: number;
  /** Activation applied to the normalized output in the same pass (default none). */
  activation?: Activation;
  /** Write y here: a Tensor or Float32Array of x's size; may be x itself (in place). */
  out?: TensorLike;
  /** Write invRms here (a Float32Array of N·S values of its own, returned as `invRms`) instead of a new array. */
  invRmsOut?: Float32Array;
}

export interface RmsNormResult {
  /** y = act(x / sqrt(mean(x²) + eps) · gamma): a Tensor when x was a Tensor and no `out`, else a Float32Array. */
  y: TensorLike;
  /** 1/sqrt(mean(x²) + eps) per (sample, position), in (n, position) order. */
  invRms: Float32Array;
}

export interface RmsNormBackwardOptions extends ShapeOptions {
  /** The forward's gamma (default: scale 1). */
  gamma?: Vec;
  /** The forward's unitOffset. */
  unitOffset?: boolean;
  /** The forward's invRms (N·S values). */
  invRms: Vec;
  /** The forward's activation: the gradient goes through it (its input is recomputed). */
  activation?: Activation;
  /** Write dx here: a Tensor or Float32Array of x's size; may be x or dy (in place). */
  out?: TensorLike;
  /** Write dgamma here (a Float32Array of C values of its own, returned as `dgamma`) instead of a new array. */
  dgammaOut?: Float32Array;
}

export interface RmsNormBackwardResult {
  /** Gradient of x. */
  dx: TensorLike;
  /** Σ g·x̂ per channel (x̂ = x·invRms, g = dy through the activation); the same with unitOffset. */
  dgamma: Float32Array;
}

/** RMS norm has no beta: a beta or dbetaOut given (a layer-norm habit) is refused, not ignored. */
function noBeta(o: Record<string, unknown>): void {
  if (o.beta !== undefined && o.beta !== null) throw new Error("beta is not a parameter of RMS norm (use layerNorm)");
  if (o.dbetaOut !== undefined && o.dbetaOut !== null) throw new Error("dbetaOut: RMS norm has no beta (use layerNormBackward)");
}

function checkRmsForward(x: unknown, opts: RmsNormOptions | undefined): { g: Geometry; o: RmsNormOptions; eps: number; act: number } {
  const o = optionsOf(opts, "rmsForward") as RmsNormOptions;
  noBeta(o as unknown as Record<string, unknown>);
  const g = resolveGeometry(x, o);
  const eps = epsOf(o.eps, 1e-6);
  o.gamma = checkRmsAffine(g.C, o.gamma, o.unitOffset);
  sameSize("out", o.out, g);
  return { g, o, eps, act: activationId(o.activation) };
}

/**
 * RMS norm: y = act(x / sqrt(mean(x²) + eps) · gamma) over the channel axis at each (sample,
 * position), in every layout (rows of channels-last data and (N, C) in one pass over memory).
 * PyTorch torch.nn.RMSNorm (`weight`, eps default: the dtype's epsilon), Hugging Face
 * LlamaRMSNorm (`weight`, rms_norm_eps 1e-6 or 1e-5), Gemma (unitOffset: scale 1 + weight),
 * ONNX RMSNormalization / SimplifiedLayerNormalization (`scale`, epsilon 1e-5).
 * @returns y and invRms (Float32Array(N·S), (n, position) order) for the backward.
 * @throws on bad shapes/lengths (gamma must have C values), eps < 0, an unknown activation.
 *   Nothing is written on failure. `out` may be x (in place).
 * @example const { y } = rmsNorm(h, { shape: [1, 7, 2048], layout: "NLC", gamma: w, eps: 1e-5 });
 */
export function rmsNorm(x: TensorLike, opts: RmsNormOptions = {}): RmsNormResult {
  const { g, o, eps, act } = checkRmsForward(x, opts);
  const outs = statOutputs(g.N * g.S, o as unknown as Record<string, unknown>, true, [x, o.out, o.gamma]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(rowTempBytes(g));
    const st = rowForward(s, g, { rms: true, act }, xa.ptr, ya.ptr, rmsParams(s, g.C, o.gamma, o.unitOffset, false), eps, outs);
    return { y: s.result(ya), invRms: st.rstd };
  });
}

/**
 * RMS norm backward from the forward's invRms: dx = r·(γg − x̂·Σ(γg·x̂)/C) per (sample,
 * position), r = invRms, x̂ = x·r, g = dy through the activation; dgamma = Σ g·x̂.
 * @throws on bad shapes/lengths (dy, out, gamma, invRms, dgammaOut), an unknown activation. `out` may be x or dy.
 */
export function rmsNormBackward(x: TensorLike, dy: TensorLike, opts: RmsNormBackwardOptions): RmsNormBackwardResult {
  const o = optionsOf(opts, "rmsBackward") as RmsNormBackwardOptions;
  noBeta(o as unknown as Record<string, unknown>);
  const g = resolveGeometry(x, o);
  sameSize("dy", dy, g);
  sameSize("out", o.out, g);
  o.gamma = checkRmsAffine(g.C, o.gamma, o.unitOffset);
  o.invRms = numVec("invRms", o.invRms, g.N * g.S, "(sample, position) statistics");
  const act = activationId(o.activation), outs = gradOutputs(g.C, o as unknown as Record<string, unknown>, [x, dy, o.out, o.gamma, o.invRms]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size), da = s.input("dy", dy, g.size, g.shape, g.layout);
    const oa = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(rowTempBytes(g));
    const r = rowBackward(s, g, { rms: true, act }, false, xa.ptr, da.ptr, 0, oa.ptr, rmsParams(s, g.C, o.gamma, o.unitOffset, act !== 0), null, o.invRms, outs);
    return { dx: s.result(oa), dgamma: r.dgamma };
  });
}
