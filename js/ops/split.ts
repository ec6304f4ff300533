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

/** f64 means → f32 high parts (splitHi without the near-zero rule) and the f64 residues. @internal */
export function splitMeans(mean: ArrayLike<number>): { hi: Float32Array; lo: Float64Array } {
  // f32 means (what the forward returns) are their own high parts: a copy and zero residues,
  // not a loop (one mean per 49 values on 7 × 7 instance norm).
  if (mean instanceof Float32Array) { const hi = new Float32Array(mean); return { hi, lo: new Float64Array(hi.length) }; }
  const n = mean.length, hi = new Float32Array(n), lo = new Float64Array(n);
  for (let i = 0; i < n; i++) { hi[i] = splitHi(mean[i]); lo[i] = mean[i] - hi[i]; }
  return { hi, lo };
}

/**
 * Channel c's normalize parameters at F[b…] (three planes of C f32: m, scale, shift): m = the
 * split mean, scale = γ·invstd, shift = β − (mean − m)·γ·invstd, so y = (x − m)·scale + shift.
 * @internal
 */
export function writeChannelParams(F: Float32Array, b: number, C: number, c: number, mean: number, invstd: number, gamma: number, beta: number): void {
  const hi = splitHi(mean, invstd), scale = gamma * invstd;
  F[b + c] = hi; F[b + C + c] = scale; F[b + 2 * C + c] = beta - (mean - hi) * scale;
}
