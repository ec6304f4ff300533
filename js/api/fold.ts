// Folding an inference-mode batch norm into the layer before it (conv or dense), so inference
// runs one layer instead of two: W'[o,…] = W[o,…]·s[o], b' = (b − mean)·s + beta,
// s = gamma/sqrt(var + eps). Computed in f64, stored as f32.
import { epsOf } from "../ops/options";
import { checkVec, finiteVec, checkInteger, isVec, fmt, readOptions, type Vec } from "../core/errors";
import { fmtShape } from "../core/layout";
import { BatchNorm } from "./layers";

/**
 * Where the output-channel axis O of the weight is: first (PyTorch Linear/Conv: OI, OIL, OIHW,
 * OIDHW) or last (Keras/TF Dense/Conv: IO, LIO, HWIO, DHWIO; a depthwise kernel (H, W, C, M)
 * is HWIO with O = C·M).
 */
export type WeightLayout = "OI" | "OIL" | "OIHW" | "OIDHW" | "IO" | "LIO" | "HWIO" | "DHWIO";

const WEIGHT_LAYOUTS: Record<WeightLayout, { rank: number; oLast: boolean }> = {
  OI: { rank: 2, oLast: false }, OIL: { rank: 3, oLast: false }, OIHW: { rank: 4, oLast: false }, OIDHW: { rank: 5, oLast: false },
  IO: { rank: 2, oLast: true }, LIO: { rank: 3, oLast: true }, HWIO: { rank: 4, oLast: true }, DHWIO: { rank: 5, oLast: true },
};

export interface FoldOptions {
  /** Where the output channels are in `weight`. */
  weightLayout: WeightLayout;
  /** The weight's shape (checked against the layout and length when given). */
  shape?: number[];
  /** The layer's bias (O values); absent or null = no bias (taken as 0). */
  bias?: Vec | null;
  /** The batch norm: either a BatchNorm layer (its gamma, beta, eval statistics and eps)… */
  bn?: BatchNorm;
  /** …or its arrays (gamma absent = 1, beta absent = 0). */
  gamma?: Vec;
  beta?: Vec;
  runningMean?: Vec;
  runningVar?: Vec;
  /** Default 1e-5 (the layer's eps with `bn`). */
  eps?: number;
}

/**
 * Fold an inference batch norm into the preceding conv or dense layer. Returns new arrays
 * (the inputs are not modified): `weight` in the same layout, and `bias` (O values).
 * @example
 * const { weight, bias } = foldBatchNorm(convW, { weightLayout: "OIHW", bias: convB, bn });
 * @throws on an unknown layout, lengths that disagree, eps < 0, negative variance, var + eps = 0.
 */
export function foldBatchNorm(weight: Vec, o: FoldOptions): { weight: Float32Array; bias: Float32Array } {
  if (!o || typeof o !== "object") throw new Error("foldBatchNorm needs options { weightLayout, gamma, beta, runningMean, runningVar } or { weightLayout, bn }");
  o = readOptions<FoldOptions>(o, ["weightLayout", "shape", "bias", "bn", "gamma", "beta", "runningMean", "runningVar", "eps"]);
  const known = typeof o.weightLayout === "string" && Object.prototype.hasOwnProperty.call(WEIGHT_LAYOUTS, o.weightLayout);
  const L = known ? WEIGHT_LAYOUTS[o.weightLayout] : undefined;
  if (!L) {
    const got = typeof o.weightLayout === "string" ? `"${o.weightLayout}"` : fmt(o.weightLayout);
    throw new Error(`unknown weightLayout ${got}: expected one of ${Object.keys(WEIGHT_LAYOUTS).join(", ")}`);
  }
  if (!isVec(weight)) throw new Error(`weight must be a Float32Array, Float64Array or number[], got ${fmt(weight)}`);
  let p: { gamma?: Vec; beta?: Vec; runningMean?: Vec; runningVar?: Vec; eps?: number } = o;
  if (o.bn !== undefined) {
    if (!(o.bn instanceof BatchNorm)) throw new Error("bn must be a simdnorm BatchNorm layer");
    if (o.gamma || o.beta || o.runningMean || o.runningVar) throw new Error("give either bn or gamma/beta/runningMean/runningVar, not both");
    const s = o.bn.stats();
    p = { gamma: o.bn.gamma ?? undefined, beta: o.bn.beta ?? undefined, runningMean: s.mean, runningVar: s.var, eps: o.eps ?? o.bn.eps };
  }
  if (!isVec(p.runningMean)) throw new Error("runningMean is required (the batch norm's running mean, one value per output channel)");
  const O = p.runningMean.length;
  const unit = `output channels (runningMean has ${O})`;
  if (O === 0 || weight.length === 0 || weight.length % O) throw new Error(`weight holds ${weight.length} values: not a positive multiple of ${O} ${unit}`);
  if (o.shape !== undefined) {
    if (!Array.isArray(o.shape)) throw new Error(`shape must be an array of positive integers, got ${fmt(o.shape)}`);
    const s = Array.from(o.shape as unknown[], (n, i) => checkInteger(`shape axis ${i}`, n, 1, "a positive integer"));
    if (s.length !== L.rank) throw new Error(`weightLayout ${o.weightLayout} needs a ${L.rank}-D shape, got ${fmtShape(s)}`);
    if (s.reduce((a, b) => a * b, 1) !== weight.length) throw new Error(`weight holds ${weight.length} values, the shape ${fmtShape(s)} needs ${s.reduce((a, b) => a * b, 1)}`);
    const axis = L.oLast ? s.length - 1 : 0;
    if (s[axis] !== O) throw new Error(`the weight's O axis (axis ${axis} of ${fmtShape(s)} in ${o.weightLayout}) has ${s[axis]} channels, runningMean has ${O}`);
  }
  checkVec("runningVar", p.runningVar, O, unit);
  if (p.gamma !== undefined && p.gamma !== null) checkVec("gamma", p.gamma, O, unit);
  if (p.beta !== undefined && p.beta !== null) checkVec("beta", p.beta, O, unit);
  if (o.bias !== undefined && o.bias !== null) checkVec("bias", o.bias, O, unit);
  const eps = epsOf(p.eps, 1e-5);
  // Every element a finite number (a number[] read once into a Float64Array, used from then on).
  const mean = finiteVec("runningMean", p.runningMean, O), variance = finiteVec("runningVar", p.runningVar, O, 0, "variances", "running_var");
  const gamma = p.gamma === undefined || p.gamma === null ? undefined : finiteVec("gamma", p.gamma, O);
  const beta = p.beta === undefined || p.beta === null ? undefined : finiteVec("beta", p.beta, O);
  const bias0 = o.bias === undefined || o.bias === null ? undefined : finiteVec("bias", o.bias, O);
  const W = finiteVec("weight", weight, weight.length);

  const scale = new Float64Array(O), bias = new Float32Array(O);
  for (let c = 0; c < O; c++) {
    const v = variance[c] + eps;
    if (!(v > 0)) throw new Error(`running_var[${c}] + eps is ${v}: cannot divide by sqrt(0) (use eps > 0)`);
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(v);
    bias[c] = ((bias0 ? bias0[c] : 0) - mean[c]) * scale[c] + (beta ? beta[c] : 0);
    if (!Number.isFinite(scale[c]) || !Number.isFinite(bias[c])) {
      const what = Number.isFinite(scale[c]) ? `the folded bias (b − mean)·scale + beta = ${(bias0 ? bias0[c] : 0) - mean[c]}·${scale[c]} + ${beta ? beta[c] : 0}` : `scale = gamma/sqrt(var + eps) = ${scale[c]}`;
      throw new Error(`output channel ${c}: ${what} is beyond float32's range`);
    }
  }
  const w = new Float32Array(W.length), per = W.length / O;
  if (L.oLast) for (let i = 0; i < w.length; i++) w[i] = W[i] * scale[i % O];
  else for (let i = 0; i < w.length; i++) w[i] = W[i] * scale[Math.floor(i / per)];
  for (let i = 0; i < w.length; i++) {
    if (!Number.isFinite(w[i])) throw new Error(`the folded weight[${i}] = weight[${i}]·scale = ${W[i]}·${scale[L.oLast ? i % O : Math.floor(i / per)]} is beyond float32's range`);
  }
  return { weight: w, bias };
}
