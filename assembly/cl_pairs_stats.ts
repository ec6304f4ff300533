// Channels-last statistics past the caches for 48-, 64- and 80-value lane patterns (C = 3, 6, 12,
// 24, 48 → L = 48; C = 64; C = 5, 10, 20, 40, 80 → L = 80): the super-rows read in memory order,
// two at a time, into lane sums kept in L1. The column sweeps (pattern_sq in bn_stats.ts: 16 lanes
// down a sub-block at a time) made the reads and the sums take turns past the caches; one
// sequential stream lets the prefetchers run ahead (docs/performance.md, "Channels-last
// statistics past the caches: super-rows in memory order"). From the caches the sweeps are
// faster (the lane sums' loads and stores), so this runs past 4 Mi values.

/**
 * Σ (x − k) and Σ (x − k)² per lane of an L-long pattern (L a multiple of 4) over nb super-rows
 * of L values at p (nb even) ADDED to sp, qp (f32 patterns of L lanes, kept in L1), the
 * super-rows read in memory order two at a time: per vector of lanes, each of the two
 * super-rows' values added to the lane sums in turn (s + d₀ + d₁), the sums loaded and stored
 * once per pair. Per lane the adds run in the order of pattern_sq's sweeps (super-row by
 * super-row), so the sums are the same bits. Shifts at kp, subtracted also when 0 (x − 0 is x).
 */
export function pairs_sq(p: usize, nb: i32, L: i32, kp: usize, sp: usize, qp: usize): void {
  const stride = <usize>L << 2, end = p + <usize>nb * stride;
  for (let a = p; a != end; a += stride << 1) {
    for (let o: usize = 0; o != stride; o += 16) {
      const x = a + o, s = sp + o, t = qp + o, k = v128.load(kp + o);
      const d = f32x4.sub(v128.load(x), k), e = f32x4.sub(v128.load(x + stride), k);
      v128.store(s, f32x4.add(f32x4.add(v128.load(s), d), e));
      v128.store(t, f32x4.add(f32x4.add(v128.load(t), f32x4.mul(d, d)), f32x4.mul(e, e)));
    }
  }
}
