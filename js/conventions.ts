// Running-statistics conventions of each framework (DESIGN.md "Conventions users arrive with").

export type Convention = "pytorch" | "keras" | "onnx" | "tf-fused";

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
}

export const CONVENTIONS: Record<Convention, ConventionInfo> = {
  pytorch: { momentum: 0.1, eps: 1e-5, momentumKeepsOld: false, unbiased: true, allowsCumulative: true },
  keras: { momentum: 0.99, eps: 1e-3, momentumKeepsOld: true, unbiased: false, allowsCumulative: false },
  onnx: { momentum: 0.9, eps: 1e-5, momentumKeepsOld: true, unbiased: false, allowsCumulative: false },
  // tf.raw_ops.FusedBatchNormV3: exponential_avg_factor is the weight of the new batch (default 1).
  "tf-fused": { momentum: 1.0, eps: 1e-3, momentumKeepsOld: false, unbiased: true, allowsCumulative: false },
};

export function convention(name: unknown): ConventionInfo {
  const c = CONVENTIONS[(name ?? "pytorch") as Convention];
  if (!c) throw new Error(`unknown convention "${String(name)}": expected one of ${Object.keys(CONVENTIONS).join(", ")}`);
  return c;
}

/** Weight of the new batch for this update. */
export function batchWeight(info: ConventionInfo, momentum: number | null, numBatchesTracked: number): number {
  if (momentum === null) return 1 / (numBatchesTracked + 1);
  return info.momentumKeepsOld ? 1 - momentum : momentum;
}
