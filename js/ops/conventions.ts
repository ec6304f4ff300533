// Running-statistics conventions of each framework (DESIGN.md "Conventions users arrive with").
import { ownEntry, fmt } from "../core/errors";

export type Convention = "pytorch" | "keras" | "onnx" | "tf-fused" | "caffe";

export interface ConventionInfo {
  /** Default momentum (its meaning depends on `momentumKeepsOld`). */
  momentum: number;
  eps: number;
  /** true: running ← momentum·running + (1−momentum)·batch; false: momentum weights the batch. */
  momentumKeepsOld: boolean;
  /** Running variance takes the unbiased batch variance (m/(m−1)). */
  unbiased: boolean;
  /** momentum null means a cumulative average over numBatchesTracked + 1 batches. */
  allowsCumulative: boolean;
  /**
   * Caffe: the running blobs hold λ-weighted sums (blob ← λ·blob + batch, λ = momentum) and a
   * normalizer s ← λ·s + 1; the statistics are blob / s (0 while s = 0).
   */
  weightedSums?: boolean;
}

/**
 * Each convention's defaults and update rule, read by every layer and op: frozen, it and each
 * entry (a change would silently alter every later layer; copy an entry to inspect or vary it).
 */
export const CONVENTIONS: Readonly<Record<Convention, Readonly<ConventionInfo>>> = deepFreeze({
  pytorch: { momentum: 0.1, eps: 1e-5, momentumKeepsOld: false, unbiased: true, allowsCumulative: true },
  keras: { momentum: 0.99, eps: 1e-3, momentumKeepsOld: true, unbiased: false, allowsCumulative: false },
  onnx: { momentum: 0.9, eps: 1e-5, momentumKeepsOld: true, unbiased: false, allowsCumulative: false },
  // tf.raw_ops.FusedBatchNormV3: exponential_avg_factor is the weight of the new batch (default 1).
  "tf-fused": { momentum: 1.0, eps: 1e-3, momentumKeepsOld: false, unbiased: true, allowsCumulative: false },
  // Caffe BatchNorm: moving_average_fraction λ; blobs [Σ λ^k·mean, Σ λ^k·var, s].
  caffe: { momentum: 0.999, eps: 1e-5, momentumKeepsOld: true, unbiased: true, allowsCumulative: false, weightedSums: true },
});

/** The table and each of its entries frozen (an entry's values are numbers and booleans). */
function deepFreeze<T extends Record<string, object>>(table: T): T {
  for (const k of Object.keys(table)) Object.freeze(table[k]);
  return Object.freeze(table);
}

/**
 * @internal The convention's entry ("pytorch" when absent), looked up as an own property only.
 */
export function convention(name: unknown): ConventionInfo {
  if (name === undefined || name === "pytorch") return CONVENTIONS.pytorch; // the default: no own-property lookup
  const c = ownEntry(CONVENTIONS as Record<string, ConventionInfo>, name ?? "pytorch");
  if (!c) throw new Error(`unknown convention ${typeof name === "string" ? `"${name}"` : fmt(name)}: expected one of ${Object.keys(CONVENTIONS).join(", ")}`);
  return c;
}

/** @internal Running update running ← keep·running + w·(batch statistic): the batch weight w. */
export function updateBatchWeight(info: ConventionInfo, momentum: number | null, numBatchesTracked: number): number {
  return info.weightedSums ? 1 : batchWeight(info, momentum, numBatchesTracked);
}

/** @internal The keep weight of that update for batch weight w (Caffe's blobs: λ itself). */
export function updateKeepWeight(info: ConventionInfo, momentum: number | null, w: number): number {
  return info.weightedSums ? (momentum as number) : 1 - w;
}

/** @internal Weight of the new batch for this update. */
export function batchWeight(info: ConventionInfo, momentum: number | null, numBatchesTracked: number): number {
  if (momentum === null) return 1 / (numBatchesTracked + 1);
  return info.momentumKeepsOld ? 1 - momentum : momentum;
}
