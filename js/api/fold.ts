// Folding an inference-mode batch norm into the layer before it (conv or dense), so inference
// runs one layer instead of two: W'[o,…] = W[o,…]·s[o], b' = (b − mean)·s + beta,
// s = gamma/sqrt(var + eps). Computed in f64, stored as f32.
import { epsOf } from "../ops/options";
import { checkVec, checkNonNegative, isVec, type Vec } from "../core/errors";
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
  const L = WEIGHT_LAYOUTS[o.weightLayout];
  if (!L) throw new Error(`unknown weightLayout "${String(o.weightLayout)}": expected one of ${Object.keys(WEIGHT_LAYOUTS).join(", ")}`);
  if (!isVec(weight)) throw new Error(`weight must be a Float32Array, Float64Array or number[], got ${weight === null ? "null" : typeof weight}`);
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
    const s = Array.from(o.shape);
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
  checkNonNegative("running_var", p.runningVar as Vec, "runningVar");

  const scale = new Float64Array(O), bias = new Float32Array(O);
  for (let c = 0; c < O; c++) {
    const v = (p.runningVar as Vec)[c] + eps;
    if (!(v > 0)) throw new Error(`running_var[${c}] + eps is ${v}: cannot divide by sqrt(0) (use eps > 0)`);
    scale[c] = (p.gamma ? p.gamma[c] : 1) / Math.sqrt(v);
    bias[c] = ((o.bias ? o.bias[c] : 0) - p.runningMean[c]) * scale[c] + (p.beta ? p.beta[c] : 0);
  }
  const w = new Float32Array(weight.length), per = weight.length / O;
  if (L.oLast) for (let i = 0; i < w.length; i++) w[i] = weight[i] * scale[i % O];
  else for (let i = 0; i < w.length; i++) w[i] = weight[i] * scale[Math.floor(i / per)];
  return { weight: w, bias };
}
