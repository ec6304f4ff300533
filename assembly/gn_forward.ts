// Instance norm on short channels-first rows (4 ≤ S < 128: (N, C, 7, 7) convolution maps) in one
// pass over memory. Before: statistics (stats_rows_short), the per-statistic finish
// (gn_params_finish_f32), per-row parameters (gn_params_f32) and the normalize (normalize_short)
// as four kernels over the whole tensor, x read twice from wherever it lives. Here the same
// steps run per tile of ≤ 64 rows (≤ 16 KiB of x): the tile's statistics (stats_rows_short into
// scratch triples), its parameters (a loop over the tile's triples, two rows in f64x2 lanes), then
// the tile normalized from L1 (normalize_short). Whole tiles, not one row at a time: a row
// normalized right after its statistics waits on their division / square root / division chain
// (docs/performance.md). Same numerics as the four kernels, value for value: the same pairs of
// rows (tiles start at even rows), the same f64 finish and parameter roundings.
import { normalize_short } from "./cf_short";
import { stats_rows_short } from "./cf_short_stats";

/** Rows per tile (at most): the scratch holds two planes of TILE f32 and TILE triples. */
const TILE = 64;

/**
 * Instance norm of (N, C, S) channels-first, 4 ≤ S < 128: row r = n·C + c normalized with its own
 * statistics and γ[c], β[c] (C f32 each: ones / zeros when absent) into y (may be x); the f32
 * mean and the f32 invstd of row r written to mh + 4r and mf + 4r; mh and mf hold N·C + 1 f32:
 * with N·C odd the last row's pair lane also writes index N·C. eps ≥ 0. scratch: 2,048 bytes,
 * 16-byte aligned.
 */
export function gn_forward_short_f32_cf(N: i32, C: i32, S: i32, x: usize, gamma: usize, beta: usize, y: usize, eps: f64, mh: usize, mf: usize, scratch: usize): void {
  const R = N * C, T = S > 64 ? TILE >> 1 : TILE, stride = <usize>S << 2;
  const st = scratch + (TILE << 3), ps = scratch, pt = scratch + (TILE << 2);
  for (let r0 = 0, c = 0; r0 < R; r0 += T) {
    const n = min(T, R - r0), p = x + <usize>r0 * stride, o = <usize>r0 << 2;
    memory.fill(st, 0, <usize>n * 24);
    stats_rows_short(n, S, p, st);
    tile_params(n, c, C, st, gamma, beta, eps, mh + o, mf + o, ps, pt);
    normalize_short(n, n, S, p, y + <usize>r0 * stride, mh + o, ps, pt);
    c = (c + n) % C;
  }
}

/**
 * From the (count, mean, M2) triples of n rows at st (the first row of channel c): m (the f32
 * mean) at pm, f32 invstd at pf, scale and shift at ps, pt, row j at offset 4j — what
 * gn_params_finish_f32 and gn_params_f32 (one channel per group) compute, two rows at a time in
 * f64x2 lanes. An odd last row's second lane reads the triple after it (scratch) and is
 * written at j + 1 (n < TILE: inside the planes; pm, pf: the one value past N·C).
 */
function tile_params(n: i32, c: i32, C: i32, st: usize, gamma: usize, beta: usize, eps: f64, pm: usize, pf: usize, ps: usize, pt: usize): void {
  const e = f64x2.splat(eps), one = f64x2.splat(1);
  for (let j = 0; j < n; j += 2, st += 48) {
    const v0 = v128.load(st), v1 = v128.load(st, 16), v2 = v128.load(st, 32); // (n0, m0), (M0, n1), (m1, M1)
    const mean = v128.shuffle<f64>(v0, v2, 1, 2);
    const iv = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(v128.shuffle<f64>(v1, v2, 0, 3), v128.shuffle<f64>(v0, v1, 0, 3)), e)));
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
