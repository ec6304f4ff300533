// Instance norm on short channels-first rows (4 ≤ S < 128: (N, C, 7, 7) convolution maps) in one
// pass over memory. Until now: statistics (stats_rows_short), the per-statistic finish
// (gn_params_finish_f32), per-row parameters (gn_params_f32) and the normalize (normalize_short)
// were four kernels, each a pass over the rows or their statistics, x read twice from wherever
// it lives. Here rows go in tiles of ≤ 64 (≤ 16 KiB of x): each pair of rows summed as in
// stats_rows_short, its mean, invstd and (m, scale, shift) computed in f64x2 lanes, then the tile
// normalized from L1 by normalize_short. Whole tiles, not one row at a time: a row normalized
// right after its statistics waits on their division / square root / division chain
// (docs/performance.md). Same numerics as the four kernels, value for value: the same f32 sums
// and check (a pair failing it is summed by stats_block, as stats_rows_short does), the same
// f64 finish and parameter roundings.
import { stats_block } from "./bn_stats";
import { tail_mask, normalize_short } from "./cf_short";
import { pair_sums, pair_ok } from "./cf_short_stats";

/** Rows per tile; the scratch holds four planes of TILE f32 and two triples. */
const TILE = 64;

/**
 * Instance norm of (N, C, S) channels-first, 4 ≤ S < 128: row r = n·C + c normalized with its own
 * statistics and γ[c], β[c] (C f32 each: ones / zeros when absent) into y (may be x); the f32
 * mean and the f32 invstd of row r written to mh + 4r and mf + 4r. eps ≥ 0. scratch: 1,088
 * bytes, 16-byte aligned.
 */
export function gn_forward_short_f32_cf(N: i32, C: i32, S: i32, x: usize, gamma: usize, beta: usize, y: usize, eps: f64, mh: usize, mf: usize, scratch: usize): void {
  const R = N * C, T = min(TILE, (4096 / S) & ~1), stride = <usize>S << 2;
  const hs = scratch + (TILE << 2), sc = scratch + (TILE << 3), sh = scratch + TILE * 12;
  for (let r0 = 0, c = 0; r0 < R; r0 += T) {
    const n = min(T, R - r0), p = x + <usize>r0 * stride, o = <usize>r0 << 2;
    tile_params(n, c, C, S, p, gamma, beta, eps, scratch, hs, sc, sh, scratch + (TILE << 4));
    normalize_short(n, n, S, p, y + <usize>r0 * stride, scratch, sc, sh);
    memory.copy(mh + o, scratch, <usize>n << 2);
    memory.copy(mf + o, hs, <usize>n << 2);
    c = (c + n) % C;
  }
}

/**
 * Per row of n rows from p (the first of channel c): m (the f32 mean) at pm, f32 invstd at pf,
 * scale and shift at ps, pt, row j at offset 4j. tr: two triples of scratch for stats_block.
 * An odd last row goes through stats_block (as in stats_rows_short), paired with itself; its
 * second lane is written at j + 1, inside the planes (n < TILE, or n even).
 */
function tile_params(n: i32, c: i32, C: i32, S: i32, p: usize, gamma: usize, beta: usize, eps: f64, pm: usize, pf: usize, ps: usize, pt: usize, tr: usize): void {
  const body = <usize>(S & ~3) << 2, last = <usize>(S - 4) << 2, stride = <usize>S << 2;
  const mask = tail_mask(S), nb = f64x2.splat(<f64>S), e = f64x2.splat(eps), one = f64x2.splat(1), zero = f64x2.splat(0);
  for (let j = 0; j < n; j += 2, p += stride << 1) {
    const pb = j + 1 < n ? p + stride : p, t = pair_sums(p, pb, body, last, mask);
    const s = f64x2.promote_low_f32x4(t), q = f64x2.promote_low_f32x4(i32x4.shuffle(t, t, 2, 3, 0, 1));
    let mean: v128, m2: v128;
    if (pb != p && pair_ok(s, q, S)) {
      // What stats_rows_short stores into an empty triple.
      mean = f64x2.div(s, nb); m2 = f64x2.pmax(f64x2.sub(q, f64x2.mul(s, mean)), zero);
    } else {
      // Two empty triples (stores, not memory.fill: a call out of the module, ~20 ns).
      v128.store(tr, zero); v128.store(tr, zero, 16); v128.store(tr, zero, 32);
      stats_block(tr, p, S); stats_block(tr + 24, pb, S);
      mean = v128.shuffle<f64>(v128.load(tr, 8), v128.load(tr, 32), 0, 2);
      m2 = v128.shuffle<f64>(v128.load(tr, 16), v128.load(tr, 40), 0, 2);
    }
    // gn_params_finish_f32 and gn_params_f32 (one channel per group), lane by lane.
    const iv = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(m2, nb), e)));
    const h = f32x4.demote_f64x2_zero(mean), lo = f64x2.sub(mean, f64x2.promote_low_f32x4(h));
    const c2 = c + 1 == C ? 0 : c + 1, g0 = gamma + (<usize>c << 2), b0 = beta + (<usize>c << 2);
    const gv = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(g0)), 1, <f64>load<f32>(gamma + (<usize>c2 << 2)));
    const bv = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(b0)), 1, <f64>load<f32>(beta + (<usize>c2 << 2)));
    const sv = f64x2.mul(gv, iv), o = <usize>j << 2;
    v128.store64_lane(pm + o, h, 0);
    v128.store64_lane(pf + o, f32x4.demote_f64x2_zero(iv), 0);
    v128.store64_lane(ps + o, f32x4.demote_f64x2_zero(sv), 0);
    v128.store64_lane(pt + o, f32x4.demote_f64x2_zero(f64x2.sub(bv, f64x2.mul(lo, sv))), 0);
    c = c2 + 1 == C ? 0 : c2 + 1;
  }
}
