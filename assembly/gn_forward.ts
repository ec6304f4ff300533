// Instance and group norm on short channels-first rows (4 ≤ S < 128: (N, C, 7, 7) convolution
// maps) in one pass over memory. Before: statistics (stats_rows_short), the per-statistic finish
// (gn_params_finish_f32), per-row parameters (gn_params_f32) and the normalize (normalize_short)
// as four kernels over the whole tensor, x read twice from wherever it lives. Here the same
// steps run per tile of ≤ 64 statistics (≤ 32 KiB of x): the tile's statistics
// (stats_rows_short into scratch triples), its parameters, then the tile normalized from L1
// (normalize_short). Whole tiles, not one row at a time: a row normalized right after its
// statistics waits on their division / square root / division chain (docs/performance.md).
// Group norm (C/G channels a group) is contiguous per (sample, group): its statistics are rows of
// (C/G)·S values, its parameters per channel row. Same numerics as the four kernels, value for
// value: the same pairs of statistics rows (tiles start at even rows), the same f64 finish and
// parameter roundings (group norm runs those two kernels themselves on the tile).
import { normalize_short } from "./cf_short";
import { stats_rows_short } from "./cf_short_stats";
import { past, FAR_VALUES } from "./common";
import { gn_params_f32, gn_params_finish_f32, pair_params, next_channel } from "./gn_params";

/** Statistics per tile (at most): the scratch holds TILE triples, then the parameter planes. */
const TILE = 64;
/** Values of x per tile (at most): two groups of ≤ BLOCK values fit. */
const TILE_VALUES = 8192;

/**
 * Instance (G = C) or group norm of (N, C, S) channels-first, 4 ≤ S < 128, (C/G)·S ≤ BLOCK:
 * statistic q = n·G + g over the rows of channels g·C/G … (g + 1)·C/G − 1 of sample n; row
 * n·C + c normalized with its group's statistics and γ[c], β[c] (C f32 each: ones / zeros when
 * absent) into y (may be x); the f32 mean and the f32 invstd of statistic q written to mh + 4q
 * and mf + 4q; mh and mf hold N·G + 1 f32: with N·G odd the last pair's second lane also writes
 * index N·G. eps ≥ 0. scratch: 2,560 + 12·max(64, ⌊8192 / S⌋ + 3) bytes (the kernel table's
 * formula), 16-byte aligned.
 */
export function gn_forward_short_f32_cf(N: i32, C: i32, G: i32, S: i32, x: usize, gamma: usize, beta: usize, y: usize, eps: f64, mh: usize, mf: usize, scratch: usize): void {
  const per = C / G, L = per * S, K = N * G, stride = <usize>L << 2;
  // Even, so that tiles pair the statistics rows as one stats_rows_short call over all of them.
  const T = min(TILE, max(2, TILE_VALUES / L & ~1));
  const P = <usize>max(TILE, TILE_VALUES / S + 3 & ~3) << 2, st = scratch, ml = st + TILE * 24, mi = ml + (TILE << 3);
  const pm = mi + (TILE << 3), ps = pm + P, pt = ps + P, far = past(K, L, FAR_VALUES);
  for (let q0 = 0, g = 0; q0 < K; q0 += T) {
    const n = min(T, K - q0), p = x + <usize>q0 * stride, o = <usize>q0 << 2;
    memory.fill(st, 0, <usize>n * 24);
    stats_rows_short(n, L, p, st, far, q0 == 0);
    if (per == 1) {
      tile_params(n, g, C, st, gamma, beta, eps, mh + o, mf + o, pm, ps, pt);
      normalize_short(n, n, S, p, y + <usize>q0 * stride, pm, ps, pt);
    } else {
      gn_params_finish_f32(n, st, eps, mh + o, ml, mi, mf + o);
      // The tile's groups from group g of a sample on, in runs of one call each: to the end of
      // that sample, whole samples, the groups of the last one (a call a group was 0.9× at C = 3).
      for (let j = 0, h = g; j < n; h = 0) {
        const whole = h == 0 ? (n - j) / G : 0, gg = whole ? G : min(n - j, G - h);
        const cb = <usize>(h * per) << 2, pb = <usize>(j * per) << 2;
        gn_params_f32(whole ? whole : 1, gg * per, gg, mh + o + (<usize>j << 2), ml + (<usize>j << 3), mi + (<usize>j << 3), gamma + cb, beta + cb, pm + pb, ps + pb, pt + pb);
        j += whole ? whole * G : gg;
      }
      normalize_short(n * per, n * per, S, p, y + <usize>q0 * stride, pm, ps, pt);
    }
    g = (g + n) % G;
  }
}

/**
 * From the (count, mean, M2) triples of n rows at st (the first row of channel c): the f32 mean
 * at pf32 and f32 invstd at pf, the normalize's m, scale and shift at pm, ps, pt, row j at offset
 * 4j — what gn_params_finish_f32 and gn_params_f32 (one channel per group) compute, two rows at a
 * time in f64x2 lanes. An odd last row's second lane reads the triple after it (scratch) and is
 * written at j + 1 (n < TILE: inside the planes; pf32, pf: the one value past N·C).
 */
function tile_params(n: i32, c: i32, C: i32, st: usize, gamma: usize, beta: usize, eps: f64, pf32: usize, pf: usize, pm: usize, ps: usize, pt: usize): void {
  const e = f64x2.splat(eps), one = f64x2.splat(1);
  for (let j = 0; j < n; j += 2, st += 48) {
    const v0 = v128.load(st), v1 = v128.load(st, 16), v2 = v128.load(st, 32); // (n0, m0), (M0, n1), (m1, M1)
    const mean = v128.shuffle<f64>(v0, v2, 1, 2);
    const iv = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(v128.shuffle<f64>(v1, v2, 0, 3), v128.shuffle<f64>(v0, v1, 0, 3)), e)));
    const h = f32x4.demote_f64x2_zero(mean), c2 = next_channel(c, C), o = <usize>j << 2;
    v128.store64_lane(pf32 + o, h, 0);
    v128.store64_lane(pf + o, f32x4.demote_f64x2_zero(iv), 0);
    pair_params(mean, h, iv, c, c2, gamma, beta, pm + o, ps + o, pt + o);
    c = next_channel(c2, C);
  }
}
