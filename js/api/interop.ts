// Weights in and out of BatchNorm layers in the forms frameworks store them, and the parameter
// counts they report. Imports check everything before changing anything.
import { fmt, readOptions, F32_MAX } from "../core/errors";
import { BatchNorm, NormLayer, RMSNorm } from "./layers";
import { exportRms, importRms, vec, lengthOf, type RmsWeights } from "./interop-rms";

/** Keras get_weights() order: [gamma, beta, moving_mean, moving_variance] (no gamma/beta when affine is false). */
export type KerasWeights = ArrayLike<number>[];

/** PyTorch BatchNorm state_dict (weight/bias absent when affine=False). */
export interface TorchStateDict {
  weight?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  running_mean: ArrayLike<number>;
  running_var: ArrayLike<number>;
  /** An int64 scalar in PyTorch: number, bigint or a one-element array. Absent → 0 (old checkpoints). */
  num_batches_tracked?: number | bigint | ArrayLike<number | bigint>;
}

/** Caffe: BatchNorm blobs [mean·s, var·s, s] and the following Scale layer's [gamma, beta]. */
export interface CaffeWeights {
  batchNorm: [ArrayLike<number>, ArrayLike<number>, ArrayLike<number> | number];
  /** Absent / null when the layer has no affine part (no Scale layer). */
  scale?: [ArrayLike<number>, ArrayLike<number>] | null;
}

/** ONNX BatchNormalization inputs 1–4 (X is input 0) and the attributes that matter. */
export interface OnnxWeights {
  scale: ArrayLike<number>;
  B: ArrayLike<number>;
  input_mean: ArrayLike<number>;
  input_var: ArrayLike<number>;
  /** Filled on export; ignored on import (the layer's eps/momentum are fixed at construction). */
  attributes?: { epsilon: number; momentum?: number };
}

export type WeightFormat = "keras" | "pytorch" | "caffe" | "onnx";

const f32 = (v: ArrayLike<number>) => Float32Array.from(v);

/**
 * A scalar stored as a number, a bigint or a one-element array: a finite number ≥ 0; with
 * `count`, a whole number a JS number holds exactly (≤ Number.MAX_SAFE_INTEGER).
 */
function scalar(what: string, v: unknown, count = false): number {
  let e: unknown = v;
  const n1 = lengthOf(e);
  if (n1 !== undefined) {
    if (n1 !== 1) throw new Error(`${what} must hold one value, got ${n1}`);
    e = (v as ArrayLike<unknown>)[0];
  }
  const n = typeof e === "bigint" ? Number(e) : e;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) throw new Error(`${what} must be a finite number ≥ 0, got ${fmt(e)}`);
  if (count && !Number.isInteger(n)) throw new Error(`${what} must be an integer, got ${fmt(e)}`);
  if (count && !Number.isSafeInteger(n)) throw new Error(`${what} must be at most 2^53 − 1 (Number.MAX_SAFE_INTEGER: a count a JS number holds exactly), got ${fmt(e)}`);
  return n;
}

/** Set gamma, beta and the stored running statistics after the checks passed (all or nothing). */
function assign(bn: BatchNorm, gamma: ArrayLike<number> | null, beta: ArrayLike<number> | null, mean: ArrayLike<number>, variance: ArrayLike<number>, normalizer: number | null, nbt?: number): void {
  if ((gamma || beta) && !bn.affine) throw new Error("the weights hold gamma/beta but the layer has affine: false");
  if (!(gamma && beta) && bn.affine) throw new Error("the weights hold no gamma/beta but the layer has affine: true");
  // Statistics (not sums) arriving at a caffe layer are stored with normalizer 1; sums arriving
  // at another convention's layer are divided by s (0 → 0, as Caffe).
  let m = mean, v = variance, s = normalizer ?? 1;
  if (normalizer !== null && bn.convention !== "caffe") {
    const f = s === 0 ? 0 : 1 / s;
    m = Float64Array.from(mean, (x) => x * f);
    v = Float64Array.from(variance, (x) => x * f);
    for (let c = 0; c < m.length; c++) {
      for (const [what, q] of [["caffe blob 0 (mean·s)", m[c]], ["caffe blob 1 (var·s)", v[c]]] as const) {
        if (!Number.isFinite(Math.fround(q))) throw new Error(`${what}[${c}] / s is ${q}: beyond float32's range (at most ±${F32_MAX}): s = ${s} is too small for these blobs`);
      }
    }
    s = 1;
  }
  bn.setStats(m, v, s); // validates lengths and variances before writing anything
  if (gamma && beta) { bn.gamma!.set(gamma); bn.beta!.set(beta); }
  if (nbt !== undefined) bn.numBatchesTracked = nbt;
}

function checkBn(bn: unknown): BatchNorm {
  if (!(bn instanceof BatchNorm)) throw new Error(`expected a simdnorm BatchNorm layer, got ${bn === null ? "null" : typeof bn}`);
  return bn;
}

/** Statistics for a format that stores statistics (not Caffe's sums). */
const statsOf = (bn: BatchNorm) => bn.stats();

/**
 * Export a BatchNorm layer's weights in a framework's form (copies, Float32Array):
 * - keras: [gamma, beta, moving_mean, moving_variance] (get_weights() order)
 * - pytorch: { weight, bias, running_mean, running_var, num_batches_tracked }
 * - caffe: { batchNorm: [mean·s, var·s, [s]], scale: [gamma, beta] } (other conventions: s = 1)
 * - onnx: { scale, B, input_mean, input_var, attributes: { epsilon, momentum } }
 * Statistics are exported as the layer holds them (no biased/unbiased conversion).
 */
export function exportWeights(bn: BatchNorm, format: "keras"): Float32Array[];
export function exportWeights(bn: BatchNorm, format: "pytorch"): TorchStateDict & { running_mean: Float32Array; running_var: Float32Array; num_batches_tracked: number };
export function exportWeights(bn: BatchNorm, format: "caffe"): CaffeWeights;
export function exportWeights(bn: BatchNorm, format: "onnx"): OnnxWeights;
/** RMSNorm: pytorch { weight }, onnx { scale, attributes }, keras [scale] (see interop-rms.ts). */
export function exportWeights(layer: RMSNorm, format: "pytorch" | "onnx" | "keras"): RmsWeights;
export function exportWeights(bn: BatchNorm | RMSNorm, format: WeightFormat): unknown {
  if (bn instanceof RMSNorm) return exportRms(bn, format);
  checkBn(bn);
  const affine = bn.affine ? [f32(bn.gamma!), f32(bn.beta!)] : [];
  switch (format) {
    case "keras": { const s = statsOf(bn); return [...affine, s.mean, s.var]; }
    case "pytorch": {
      const s = statsOf(bn);
      const stats = { running_mean: s.mean, running_var: s.var, num_batches_tracked: bn.numBatchesTracked };
      return bn.affine ? { weight: affine[0], bias: affine[1], ...stats } : stats;
    }
    case "caffe":
      return { batchNorm: [f32(bn.runningMean), f32(bn.runningVar), Float32Array.of(bn.normalizer)], scale: bn.affine ? affine : null };
    case "onnx": {
      const s = statsOf(bn), C = bn.channels;
      const momentum = bn.momentum === null || bn.convention === "caffe" ? undefined
        : bn.convention === "keras" || bn.convention === "onnx" ? bn.momentum : 1 - bn.momentum;
      return {
        scale: bn.affine ? affine[0] : new Float32Array(C).fill(1), B: bn.affine ? affine[1] : new Float32Array(C),
        input_mean: s.mean, input_var: s.var, attributes: { epsilon: bn.eps, ...(momentum === undefined ? {} : { momentum }) },
      };
    }
    default: throw new Error(`unknown weight format ${typeof format === "string" ? `"${format}"` : fmt(format)}: expected keras, pytorch, caffe or onnx`);
  }
}

export interface ImportOptions {
  /** pytorch: key prefix of this layer in a whole-model state_dict, e.g. "features.1.". */
  prefix?: string;
}

/**
 * Load weights in a framework's form into a BatchNorm layer (see exportWeights for the forms).
 * Caffe blobs loaded into a non-caffe layer are divided by s; statistics loaded into a caffe
 * layer are stored with s = 1. Everything is checked first: on error nothing changes.
 * @throws on missing or unknown keys, wrong lengths, negative variances, gamma/beta vs affine.
 */
export function importWeights(bn: BatchNorm, format: "keras", w: KerasWeights): BatchNorm;
export function importWeights(bn: BatchNorm, format: "pytorch", w: TorchStateDict | Record<string, unknown>, o?: ImportOptions): BatchNorm;
export function importWeights(bn: BatchNorm, format: "caffe", w: CaffeWeights): BatchNorm;
export function importWeights(bn: BatchNorm, format: "onnx", w: OnnxWeights): BatchNorm;
/** RMSNorm: the forms exportWeights writes for it. */
export function importWeights(layer: RMSNorm, format: "pytorch" | "onnx" | "keras", w: unknown, o?: ImportOptions): RMSNorm;
export function importWeights(bn: BatchNorm | RMSNorm, format: WeightFormat, w: unknown, o: ImportOptions = {}): BatchNorm | RMSNorm {
  const { prefix } = readOptions<ImportOptions>(o, ["prefix"]);
  if (bn instanceof RMSNorm) return importRms(bn, format, w, prefix);
  checkBn(bn);
  const C = bn.channels;
  if (w === null || typeof w !== "object") throw new Error(`${format} weights must be an object or array, got ${w === null ? "null" : typeof w}`);
  switch (format) {
    case "keras": {
      const a = w as unknown[];
      const n = bn.affine ? 4 : 2;
      if (!Array.isArray(a) || a.length !== n) throw new Error(`keras weights must be a list of ${n} arrays ${bn.affine ? "[gamma, beta, moving_mean, moving_variance]" : "[moving_mean, moving_variance]"}, got ${Array.isArray(a) ? a.length + " arrays" : typeof a}`);
      const [g, b] = bn.affine ? [vec("gamma", a[0], C), vec("beta", a[1], C)] : [null, null];
      assign(bn, g, b, vec("moving_mean", a[n - 2], C), vec("moving_variance", a[n - 1], C), null);
      return bn;
    }
    case "pytorch": {
      const p = prefix ?? "", d = w as Record<string, unknown>;
      const known = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"];
      const unknown = Object.keys(d).filter((k) => k.startsWith(p) && !known.includes(k.slice(p.length)));
      if (unknown.length) throw new Error(`unexpected key(s) in state_dict: ${unknown.join(", ")}`);
      const need = ["running_mean", "running_var", ...(bn.affine ? ["weight", "bias"] : [])];
      const missing = need.filter((k) => d[p + k] === undefined);
      if (missing.length) throw new Error(`missing key(s) in state_dict: ${missing.map((k) => p + k).join(", ")}`);
      const g = d[p + "weight"] === undefined ? null : vec(p + "weight", d[p + "weight"], C);
      const b = d[p + "bias"] === undefined ? null : vec(p + "bias", d[p + "bias"], C);
      const nbt = d[p + "num_batches_tracked"] === undefined ? 0 : scalar(p + "num_batches_tracked", d[p + "num_batches_tracked"], true);
      assign(bn, g, b, vec(p + "running_mean", d[p + "running_mean"], C), vec(p + "running_var", d[p + "running_var"], C), null, nbt);
      return bn;
    }
    case "caffe": {
      const cw = w as CaffeWeights;
      if (!Array.isArray(cw.batchNorm) || cw.batchNorm.length !== 3) throw new Error("caffe weights need batchNorm: the BatchNorm layer's 3 blobs [mean·s, var·s, s]");
      const s = scalar("caffe blob 2 (normalizer s)", cw.batchNorm[2]);
      const sc = cw.scale ?? null;
      if (sc !== null && (!Array.isArray(sc) || sc.length !== 2)) throw new Error("caffe scale must be the Scale layer's 2 blobs [gamma, beta] (bias_term: true)");
      const g = sc ? vec("Scale blob 0 (gamma)", sc[0], C) : null, b = sc ? vec("Scale blob 1 (beta)", sc[1], C) : null;
      assign(bn, g, b, vec("caffe blob 0 (mean·s)", cw.batchNorm[0], C), vec("caffe blob 1 (var·s)", cw.batchNorm[1], C), s);
      return bn;
    }
    case "onnx": {
      const ow = w as OnnxWeights;
      const g = vec("scale", ow.scale, C), b = vec("B", ow.B, C);
      const identity = Array.from(g).every((x) => x === 1) && Array.from(b).every((x) => x === 0);
      if (!bn.affine && !identity) throw new Error("scale/B are not 1/0 but the layer has affine: false");
      assign(bn, bn.affine ? g : null, bn.affine ? b : null, vec("input_mean", ow.input_mean, C), vec("input_var", ow.input_var, C), null);
      return bn;
    }
    default: throw new Error(`unknown weight format ${typeof format === "string" ? `"${format}"` : fmt(format)}: expected keras, pytorch, caffe or onnx`);
  }
}

export interface ParameterCounts {
  /** model.summary(): total = trainable + non-trainable. */
  keras: { total: number; trainable: number; nonTrainable: number };
  /** sum(p.numel() for p in parameters()) and for buffers() (incl. num_batches_tracked). */
  pytorch: { parameters: number; buffers: number };
  /** BatchNorm blob values (mean, variance, normalizer) and the following Scale layer's. */
  caffe: { batchNorm: number; scale: number };
  /** Initializer values of an ONNX BatchNormalization node (scale, B, mean, var). */
  onnx: { initializers: number };
}

/**
 * Parameter counts as each framework reports them. BatchNorm with C channels: Keras 4·C total
 * (2·C trainable gamma/beta, 2·C non-trainable moving mean/variance); PyTorch 2·C parameters and
 * 2·C + 1 buffer values; Caffe 2·C + 1 blob values plus 2·C in the Scale layer; ONNX 4·C.
 * Instance/group/layer norm layers hold no running statistics: 2·C trainable when affine;
 * RMSNorm holds C (its scale; ONNX RMSNormalization: one C-value initializer).
 */
export function parameterCounts(layer: NormLayer): ParameterCounts {
  if (!(layer instanceof NormLayer)) throw new Error(`expected a simdnorm normalization layer, got ${layer === null ? "null" : typeof layer}`);
  const t = layer.trainableCount, C = layer.channels;
  if (!(layer instanceof BatchNorm)) {
    const onnx = layer instanceof RMSNorm ? C : 2 * C;
    return { keras: { total: t, trainable: t, nonTrainable: 0 }, pytorch: { parameters: t, buffers: 0 }, caffe: { batchNorm: 0, scale: t }, onnx: { initializers: onnx } };
  }
  return {
    keras: { total: t + 2 * C, trainable: t, nonTrainable: 2 * C },
    pytorch: { parameters: t, buffers: 2 * C + 1 },
    caffe: { batchNorm: 2 * C + 1, scale: t },
    onnx: { initializers: 4 * C },
  };
}
