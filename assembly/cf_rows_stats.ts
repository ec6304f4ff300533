// Channels-first statistics in memory order (n outer, c inner): rows of ≥ 1024 values, and rows
// longer than a block at any N. Each block (≤ BLOCK values of one row) is summed in f32 lanes
// around its channel's shift, checked as stats_block checks it (sums_ok), and its sums ADDED in
// f64 to the channel's pending sums; one Chan merge per channel at the end of the call. A merge
// per block (two divisions, a dozen dependent loads and stores: ~8 ns) cost ~3 % of a call on
// (8, 64, 56, 56), against the Σx, Σx² loop's 0.95 target (docs/performance.md).
//
// Numerics: a channel's shift is chosen once (first_shift of its triple and first row at the
// start: 0 near zero, else the running mean, or the mean of its first values when they sit far
// from zero) and chosen again only after a block of it fails the check; such a
// block goes through stats_block's own path (redone around its mean while in L1, or exact) after
// the channel's pending sums are merged, so every block is summed as stats_block sums it. Blocks
// that each pass the check keep it true for their total (Cauchy–Schwarz), so the one merge loses
// nothing against a merge per block. The results differ from merging block by block: the sums
// are added in another order, and a channel keeps its first shift where a merge per block would
// move it to the running mean, so data with σ < |μ| ≤ √3σ stay summed around 0. Measured against
// exact f64 there, the variance's error is 1.3–1.6× the per-block merge's on average, at worst
// 7.0e-7 against 6.9e-7 relative (docs/performance.md, "Statistics, second pass").
import { rows_sq, settle_block, shift_of, first_shift, sums_ok, merge_block, SHIFT_FLOOR } from "./bn_stats";
import { BLOCK, ret0, ret1 } from "./common";

/**
 * Merges the statistics of (N, C, S) channels-first x into the C triples at acc, blocks in
 * memory order. scratch: 24·C bytes (16-byte aligned), per channel Σd and Σd² pending (f64), the
 * shift (f32) and the values pending (u32: a channel holds < 2³² values of a wasm32 tensor).
 */
export function stats_cf_rows(N: i32, C: i32, S: i32, x: usize, acc: usize, scratch: usize): void {
  for (let c = 0; c < C; c++) {
    const t = scratch + <usize>c * 24;
    v128.store(t, f64x2.splat(0));
    store<f32>(t, first_shift(acc + <usize>c * 24, x + (<usize>c * <usize>S << 2), S), 16);
    store<u32>(t, 0, 20);
  }
  let row = x;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++, row += <usize>S << 2) {
      const t = scratch + <usize>c * 24;
      for (let off = 0; off < S; off += BLOCK) {
        const len = min(BLOCK, S - off), p = row + (<usize>off << 2), k = load<f32>(t, 16);
        rows_sq(p, len, k, 1, 4);
        const s1 = ret0, s2 = ret1;
        // Σd² = 0 with both sums 0 around a shift ≥ SHIFT_FLOOR: every value equals the shift
        // (stats_block merges it as it is); nearer zero stats_block looks at the values.
        if (sums_ok(s1, s2, <f64>len) && (s2 != 0 || abs(k) >= SHIFT_FLOOR)) {
          v128.store(t, f64x2.add(v128.load(t), f64x2.replace_lane(f64x2.splat(s1), 1, s2)));
          store<u32>(t, load<u32>(t, 20) + <u32>len, 20);
          continue;
        }
        const a = acc + <usize>c * 24;
        flush_rows(a, t);
        settle_block(a, p, len, 1, 4, k, s1, s2);
        store<f32>(t, shift_of(a), 16);
      }
    }
  }
  for (let c = 0; c < C; c++) flush_rows(acc + <usize>c * 24, scratch + <usize>c * 24);
}

/** Merges a channel's pending sums (state at t) into its triple at a and empties them. */
function flush_rows(a: usize, t: usize): void {
  const n = load<u32>(t, 20);
  if (n == 0) return;
  merge_block(a, <f64>n, <f64>load<f32>(t, 16), load<f64>(t), load<f64>(t, 8));
  v128.store(t, f64x2.splat(0));
  store<u32>(t, 0, 20);
}
