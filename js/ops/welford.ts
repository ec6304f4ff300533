// Welford statistics (count, mean, M2) and Chan's merge: the one form used by one-shot stats,
// chunked streaming, worker shards and synchronized batch norm.

/**
 * Merge the block (nB, meanB, m2B) into the triple at F[i..i+2] (Chan et al.):
 * n = nA + nB; δ = μB − μA; μ = μA + δ·nB/n; M2 = M2A + M2B + δ²·nA·nB/n.
 * @internal
 */
export function chanMergeInto(F: Float64Array, i: number, nB: number, meanB: number, m2B: number): void {
  if (nB === 0) return;
  const nA = F[i];
  const n = nA + nB;
  const d = meanB - F[i + 1];
  F[i] = n;
  F[i + 1] += d * (nB / n);
  F[i + 2] += m2B + d * d * (nA * nB / n);
}

/** Merge partials b into a (both Float64Array of C triples); returns a. */
export function mergePartials(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length || a.length % 3 !== 0) {
    throw new Error(`partial statistics have ${b.length / 3} channels, expected ${a.length / 3}`);
  }
  for (let i = 0; i < a.length; i += 3) chanMergeInto(a, i, b[i], b[i + 1], b[i + 2]);
  return a;
}
