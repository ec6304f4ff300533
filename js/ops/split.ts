// The one rule for splitting an f64 mean for the kernels: they subtract an f32 part hi (x − hi
// is exact for x near it) and JS folds the f64 residue mean − hi into a shift, so offsets of
// 1e4–1e6 cost no precision.

/**
 * f64 mean → the part the kernel subtracts in f32. Data near zero (|mean|·invstd ≤ 1, when
 * invstd is given) is not centred at all: the kernels then skip the subtract and lose at most a
 * bit to cancellation. Otherwise the f32 rounding of the mean.
 * @internal
 */
export function splitHi(mean: number, invstd?: number): number {
  return invstd !== undefined && Math.abs(mean) * invstd <= 1 ? 0 : Math.fround(mean);
}

/** f64 means → f32 high parts (splitHi: the near-zero rule when invstd is given) and the f64 residues. @internal */
export function splitMeans(mean: ArrayLike<number>, invstd?: ArrayLike<number>): { hi: Float32Array; lo: Float64Array } {
  const n = mean.length, hi = new Float32Array(n), lo = new Float64Array(n);
  for (let i = 0; i < n; i++) { hi[i] = splitHi(mean[i], invstd?.[i]); lo[i] = mean[i] - hi[i]; }
  return { hi, lo };
}

/**
 * splitMeans of n means (the near-zero rule when invstd is given) written straight into wasm
 * memory: f32 high parts at F32[h…], f64 residues at F64[l…] (element indices); f32 means
 * without the rule are copied, with zero residues. @internal
 */
export function splitMeansInto(mean: ArrayLike<number>, n: number, F32: Float32Array, h: number, F64: Float64Array, l: number, invstd?: ArrayLike<number>): void {
  if (!invstd && mean instanceof Float32Array) { F32.set(mean, h); F64.fill(0, l, l + n); return; }
  for (let i = 0; i < n; i++) { const v = mean[i], hi = splitHi(v, invstd?.[i]); F32[h + i] = hi; F64[l + i] = v - hi; }
}
