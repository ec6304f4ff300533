// Activation epilogues: the names users pass, the ids the kernels take (assembly/act.ts), and a
// float64 definition of each (the reference the docs and tests describe).
import { ownEntry } from "../core/errors";

/** Activations an op can apply to its normalized output in the same pass. */
export const ACTIVATIONS = {
  /** max(v, 0) */
  relu: 1,
  /** min(max(v, 0), 6) */
  relu6: 2,
  /** v·sigmoid(v) (Swish; after GroupNorm in diffusion UNets) */
  silu: 3,
  /** 0.5·v·(1 + erf(v/√2)) (exact GELU: PyTorch approximate="none", BERT, ViT) */
  gelu: 4,
  /** 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))) (PyTorch approximate="tanh", GPT-2) */
  gelu_tanh: 5,
} as const;

export type Activation = keyof typeof ACTIVATIONS;

/**
 * The kernel id of an `activation` option: 0 when absent (undefined or null), else the id of a
 * name in ACTIVATIONS, looked up as an own property only.
 * @throws naming the allowed values for anything else.
 */
export function activationId(a: unknown): number {
  if (a === undefined || a === null) return 0;
  const id = ownEntry(ACTIVATIONS, a);
  if (id !== undefined) return id;
  throw new Error(`activation must be one of ${Object.keys(ACTIVATIONS).join(", ")}, got ${typeof a === "string" ? `"${a}"` : String(a)}`);
}
