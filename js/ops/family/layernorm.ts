// Layer norm: statistics per (sample, position) over the channel axis, affine per channel, an
// optional activation epilogue. Kernel drivers: norm-rows.ts (rows in one pass; channels-first
// via the strided-channel kernels).
import { withScope } from "../../core/scope";
import type { TensorLike } from "../../core/tensor";
import { rowForward, rowBackward, rowTempBytes, lnParams } from "./norm-rows";
import { gradOutputs, statOutputs } from "./outputs";
import {
  checkForward, checkBackward,
  type NormOptions, type NormResult, type NormBackwardOptions, type NormBackwardResult,
} from "./common";
import { wantsTensor } from "../../core/args";

/**
 * Layer norm: statistics per (sample, position) over the channel axis only, per-channel affine,
 * then the optional activation in the same pass: LayerNorm of (N, L, C) sequences, of (N, C)
 * features and of channels-last images (a row kernel: each row of C is read once and normalized
 * while it is in L1); channels-first layouts work too (the channel axis is strided, as
 * ConvNeXt's channels-first LayerNorm).
 * @param x Float32Array (copied in and out once) or Tensor (zero-copy) in `layout`.
 * @returns y, and mean / invstd as Float32Array(N·S) in (n, position) order.
 * @throws on bad shapes/lengths (gamma, beta must have C values), eps < 0, an unknown
 *   activation. Nothing is written on failure. `out` may be x (in place).
 * @example const { y } = layerNorm(x, { shape: [8, 196, 768], layout: "NLC", gamma, beta });
 */
export function layerNorm(x: TensorLike, opts: NormOptions = {}): NormResult {
  const { g, o, eps, act } = checkForward(x, opts, true);
  const outs = statOutputs(g.N * g.S, o, false, [x, o.out, o.gamma, o.beta]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(rowTempBytes(g));
    const p = lnParams(s, g.C, o.gamma, o.beta);
    const st = rowForward(s, g, { rms: false, act }, xa.ptr, ya.ptr, p, eps, outs);
    return { y: s.result(ya), mean: st.mean!, invstd: st.rstd };
  });
}

export interface LayerNormBackwardOptions extends NormBackwardOptions {
  /** (dgammaOut, dbetaOut: see NormBackwardOptions.) */
  dgammaOut?: Float32Array;
  dbetaOut?: Float32Array;
}

/**
 * Layer norm backward from the forward's mean / invstd (N·S values, (n, position) order):
 * dx, dgamma, dbeta. With `activation` (and the forward's `beta`), the gradient goes through the
 * activation, its input recomputed from x and the statistics. Rows: one pass (each row's sums,
 * then its dx from L1); dx = invstd·(γg − Σγg/C − x̂·Σγg·x̂/C), g = dy·act'(x̂·γ + β).
 * @throws on bad shapes/lengths (dy, out, gamma, beta, mean, invstd, dgammaOut, dbetaOut), an
 *   unknown activation. `out` may be x or dy (in place).
 */
export function layerNormBackward(x: TensorLike, dy: TensorLike, opts: LayerNormBackwardOptions): NormBackwardResult {
  const { g, o, act } = checkBackward(x, dy, opts, (geo) => geo.N * geo.S, "(sample, position) statistics", true);
  const outs = gradOutputs(g.C, o as Record<string, unknown>, [x, dy, o.out, o.gamma, o.beta, o.mean, o.invstd]);
  return withScope((s) => {
    const xa = s.input("x", x, g.size), da = s.input("dy", dy, g.size, g.shape, g.layout);
    const oa = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(rowTempBytes(g));
    const p = lnParams(s, g.C, o.gamma, o.beta);
    const r = rowBackward(s, g, { rms: false, act }, false, xa.ptr, da.ptr, 0, oa.ptr, p, o.mean, o.invstd, outs);
    return { dx: s.result(oa), dgamma: r.dgamma, dbeta: r.dbeta! };
  });
}
