// Channels-last statistics past the caches for C = 3, 6, 12 and 24: the channels repeat every 24
// values (six vectors), so a block's lane sums fit in twelve registers and the rows are read as
// one sequential stream. The 48-lane pattern's column sweeps (pattern_sq in bn_stats.ts: 16
// lanes down a sub-block at a time) made the reads and the sums take turns past the caches,
// where one stream with its sums in registers (as for L = 16) lets the prefetchers run ahead
// (docs/performance.md, "Statistics past the caches, third pass"). From the caches this loop is
// slower than the sweeps (C = 24: 0.6× at 1–2 Mi values, 0.8× at 4 Mi), so it runs past 4 Mi values.
// Patterns of 48, 64 and 80 lanes (C = 48, 64, 80, 40, 20, 10, 5) are too wide for registers:
// pairs_sq reads their super-rows in memory order too, two at a time, with the lane sums in L1.

/**
 * Σ (x − k) and Σ (x − k)² per lane of the 24-lane pattern over nb super-rows of 24 values at p
 * (lane j meets channel j mod C) → sp, qp (six vectors each, overwritten); shifts at kp (six
 * vectors, subtracted also when 0).
 */
export function period24_sq(p: usize, nb: i32, kp: usize, sp: usize, qp: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0), s4 = f32x4.splat(0), s5 = f32x4.splat(0);
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0), q4 = f32x4.splat(0), q5 = f32x4.splat(0);
  const end = p + <usize>nb * 96;
  for (let q = p; q < end; q += 96) {
    const d0 = f32x4.sub(v128.load(q), v128.load(kp)), d1 = f32x4.sub(v128.load(q, 16), v128.load(kp, 16));
    const d2 = f32x4.sub(v128.load(q, 32), v128.load(kp, 32)), d3 = f32x4.sub(v128.load(q, 48), v128.load(kp, 48));
    const d4 = f32x4.sub(v128.load(q, 64), v128.load(kp, 64)), d5 = f32x4.sub(v128.load(q, 80), v128.load(kp, 80));
    s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
    s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
    s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
    s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
    s4 = f32x4.add(s4, d4); q4 = f32x4.add(q4, f32x4.mul(d4, d4));
    s5 = f32x4.add(s5, d5); q5 = f32x4.add(q5, f32x4.mul(d5, d5));
  }
  v128.store(sp, s0); v128.store(sp, s1, 16); v128.store(sp, s2, 32); v128.store(sp, s3, 48); v128.store(sp, s4, 64); v128.store(sp, s5, 80);
  v128.store(qp, q0); v128.store(qp, q1, 16); v128.store(qp, q2, 32); v128.store(qp, q3, 48); v128.store(qp, q4, 64); v128.store(qp, q5, 80);
}

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
