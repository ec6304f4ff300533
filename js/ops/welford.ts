// Welford statistics (count, mean, M2) and Chan's merge: the one form used by one-shot stats,
// chunked streaming, worker shards and synchronized batch norm.
import { fmt } from "../core/errors";
import { typedKind, typedLength } from "../core/typed";

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

/**
 * Merges each run of `per` consecutive triples at F[a…] into one triple at F[o…] (K runs, K
 * triples), with chanMergeInto's arithmetic in its order: pseudo-channels into their channel,
 * channels into their group. The running triple is kept in locals, each input read once and each
 * output written once (a call per triple cost ~2× at wide C; docs/performance.md, the JS layer at
 * wide C).
 * @internal
 */
export function chanMergeRuns(F: Float64Array, a: number, o: number, K: number, per: number): void {
  for (let q = 0, i = a; q < K; q++) {
    const t = o + 3 * q;
    let cnt = F[t], mean = F[t + 1], m2 = F[t + 2];
    for (const e = i + 3 * per; i < e; i += 3) {
      const nB = F[i];
      if (nB === 0) continue;
      const nA = cnt, d = F[i + 1] - mean;
      cnt = nA + nB;
      mean += d * (nB / cnt);
      m2 += F[i + 2] + d * d * (nA * nB / cnt);
    }
    F[t] = cnt; F[t + 1] = mean; F[t + 2] = m2;
  }
}

/**
 * A Float64Array of C triples (count, mean, M2): partial statistics. Returns C. Each channel's
 * triple stands alone (counts may differ between channels: partials of masked data, or merged
 * from sources that saw different channels). Per channel:
 * - count: a whole number ≥ 0 (a number of values);
 * - with a count > 0, M2 (the sum of squared deviations) ≥ 0 and finite, the mean finite — or NaN
 *   in either, what data holding NaN gives; a mean of ±Infinity only with M2 NaN, what data
 *   holding ±Infinity gives (partialStats reports so).
 * With a count of 0 the mean and M2 are not read by a merge into another triple.
 */
export function checkPartials(name: string, p: unknown): number {
  if (typedKind(p) !== "Float64Array") throw new Error(`${name} must be a Float64Array of C triples (count, mean, M2), got ${fmt(p)}`);
  const n = typedLength(p as Float64Array), F = p as Float64Array;
  if (n % 3 !== 0) throw new Error(`${name} must hold C triples (count, mean, M2), got ${n} values`);
  for (let i = 0; i < n; i += 3) {
    const c = F[i], mean = F[i + 1], m2 = F[i + 2];
    if (!(c >= 0 && Number.isInteger(c))) throw new Error(`${name} count of channel ${i / 3} is ${c}: counts must be whole numbers ≥ 0 (finite)`);
    if (c === 0) {
      // An empty triple is (0, 0, 0): a mean or M2 with no values would ride along in a merge.
      if (mean !== 0 || m2 !== 0) throw new Error(`${name} channel ${i / 3} has count 0 with mean ${mean} and M2 ${m2}: an empty triple must be (0, 0, 0)`);
      continue;
    }
    if (m2 < 0 || m2 === Infinity) throw new Error(`${name} M2 of channel ${i / 3} is ${m2}: M2 (the sum of squared deviations) must be finite and ≥ 0`);
    if ((mean === Infinity || mean === -Infinity) && m2 === m2) throw new Error(`${name} mean of channel ${i / 3} is ${mean} with M2 ${m2}: means must be finite (±Infinity comes from data holding ±Infinity, whose M2 is NaN)`);
  }
  return n / 3;
}

/** Merge partials b into a (both Float64Array of C triples); returns a. */
export function mergePartials(a: Float64Array, b: Float64Array): Float64Array {
  const C = checkPartials("a", a), Cb = checkPartials("b", b);
  if (C !== Cb) throw new Error(`partial statistics have ${Cb} channels, expected ${C}`);
  for (let i = 0; i < 3 * C; i += 3) chanMergeInto(a, i, b[i], b[i + 1], b[i + 2]);
  return a;
}
