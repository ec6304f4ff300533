// Group norm parameters: per (n, c) normalize parameters from per (n, group) statistics and a
// per-channel affine. With few values per channel (e.g. (256, 512) NC: one value per (n, c))
// there are as many parameters as data values; building them in JS cost many times the kernel
// that uses them (docs/performance.md), so they are built here.
import { split_hi, split_hi_pair } from "./bn_params";

/**
 * For q = n·G + ⌊c / (C/G)⌋ with mean μ = hi[q] + lo[q] and its part m = split_hi(μ, inv[q])
 * (batch norm's rule: +0 for data near zero, else hi[q]): m, scale = f32(γ[c]·inv[q]), shift =
 * f32(β[c] − (μ − m)·γ[c]·inv[q]), products in f64. hi: N·G f32 (the f32 mean); lo, inv: N·G
 * f64 (mean − hi, 1/sqrt(var + eps)); gamma, beta: C f32 (JS passes ones / zeros when absent).
 * Writes N·C f32 at pm, ps, pt ((n, c) order). C must be a multiple of G. Four channels at a
 * time in two f64x2 halves; a group width that is not a multiple of 4 runs scalar.
 */
export function gn_params_f32(N: i32, C: i32, G: i32, hi: usize, lo: usize, inv: usize, gamma: usize, beta: usize, pm: usize, ps: usize, pt: usize): void {
  const per = C / G;
  const per4 = per & ~3;
  let q = 0, i: usize = 0, n0 = 0, first = 0;
  // Instance norm (one channel a statistic): statistics two at a time in f64x2 lanes, an odd
  // last one (channel C − 1 of the last sample) by the loop below.
  if (per == 1) {
    q = instance_params(N * C, C, hi, lo, inv, gamma, beta, pm, ps, pt);
    if (q == N * C) return;
    n0 = q / C; first = q - n0 * C; i = <usize>q << 2;
  }
  for (let n = n0; n < N; n++, first = 0) {
    for (let c0 = first; c0 < C; c0 += per, q++) {
      const h0 = load<f32>(hi + (<usize>q << 2)), l0 = load<f64>(lo + (<usize>q << 3)), iv = load<f64>(inv + (<usize>q << 3));
      const mu = <f64>h0 + l0, hm = split_hi(mu, iv), h = <f32>hm, l = mu - hm;
      const hv = f32x4.splat(h), lv = f64x2.splat(l), ivv = f64x2.splat(iv);
      let c = c0;
      for (; c < c0 + per4; c += 4, i += 16) {
        const o = <usize>c << 2;
        const g4 = v128.load(gamma + o), b4 = v128.load(beta + o);
        const s0 = f64x2.mul(f64x2.promote_low_f32x4(g4), ivv);
        const s1 = f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(g4, g4, 2, 3, 0, 1)), ivv);
        const t0 = f64x2.sub(f64x2.promote_low_f32x4(b4), f64x2.mul(lv, s0));
        const t1 = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(b4, b4, 2, 3, 0, 1)), f64x2.mul(lv, s1));
        v128.store(pm + i, hv);
        v128.store(ps + i, i32x4.shuffle(f32x4.demote_f64x2_zero(s0), f32x4.demote_f64x2_zero(s1), 0, 1, 4, 5));
        v128.store(pt + i, i32x4.shuffle(f32x4.demote_f64x2_zero(t0), f32x4.demote_f64x2_zero(t1), 0, 1, 4, 5));
      }
      for (; c < c0 + per; c++, i += 4) {
        const sc = <f64>load<f32>(gamma + (<usize>c << 2)) * iv;
        store<f32>(pm + i, h);
        store<f32>(ps + i, <f32>sc);
        store<f32>(pt + i, <f32>(<f64>load<f32>(beta + (<usize>c << 2)) - l * sc));
      }
    }
  }
}

/**
 * gn_params_f32 with one channel a group (instance norm) for statistics 0 … K − 1 rounded down to
 * even, two at a time in f64x2 lanes: the same operations lane by lane (split_hi_pair), so the
 * same bits, where the scalar loop paid a statistic's dependent chain alone (~3 ns a statistic,
 * a fifth of an instance norm of 8 × 8 × 1024 NHWC). Statistic q is channel q mod C. Returns the
 * count done (K & ~1).
 */
function instance_params(K: i32, C: i32, hi: usize, lo: usize, inv: usize, gamma: usize, beta: usize, pm: usize, ps: usize, pt: usize): i32 {
  const E = K & ~1;
  for (let q = 0, c = 0; q < E; q += 2) {
    const c2 = next_channel(c, C), o = <usize>q << 2, o8 = <usize>q << 3;
    const mu = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(hi + o)), v128.load(lo + o8));
    pair_params(mu, f32x4.demote_f64x2_zero(mu), v128.load(inv + o8), c, c2, gamma, beta, pm + o, ps + o, pt + o);
    c = next_channel(c2, C);
  }
  return E;
}

/** The channel after c of C: instance norm's statistic q (n·C + c order) is channel q mod C, stepped without a division. */
@inline export function next_channel(c: i32, C: i32): i32 {
  return c + 1 == C ? 0 : c + 1;
}

/**
 * Two statistics' normalize parameters (instance norm: channels c and c2), lane by lane the
 * scalar loop's operations: m = split_hi(mean, invstd), scale = f32(γ·invstd), shift =
 * f32(β − (mean − m)·γ·invstd), as two f32 each at pm, ps, pt. mean, iv: f64x2; h: the means'
 * f32 rounding (lanes 0, 1).
 */
@inline export function pair_params(mean: v128, h: v128, iv: v128, c: i32, c2: i32, gamma: usize, beta: usize, pm: usize, ps: usize, pt: usize): void {
  const hm = split_hi_pair(mean, h, iv), l = f64x2.sub(mean, hm);
  const g = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(gamma + (<usize>c << 2))), 1, <f64>load<f32>(gamma + (<usize>c2 << 2)));
  const b = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(beta + (<usize>c << 2))), 1, <f64>load<f32>(beta + (<usize>c2 << 2)));
  const sc = f64x2.mul(g, iv);
  v128.store64_lane(pm, f32x4.demote_f64x2_zero(hm), 0);
  v128.store64_lane(ps, f32x4.demote_f64x2_zero(sc), 0);
  v128.store64_lane(pt, f32x4.demote_f64x2_zero(f64x2.sub(b, f64x2.mul(l, sc))), 0);
}

/**
 * Per-statistic results from N (count, mean, M2) f64 triples at st: invstd = 1/sqrt(M2/count +
 * eps) in f64 (mi) and rounded to f32 (mf), the mean rounded to f32 (mh: also the part the
 * normalize kernels subtract) and its f64 residue mean − mh (ml). The same roundings as the JS
 * loop this replaces (f64 sqrt is correctly rounded in both); with one statistic per 49 values
 * (instance norm on 7 × 7 rows) that loop cost as much as moving the data.
 */
export function gn_params_finish_f32(N: i32, st: usize, eps: f64, mh: usize, ml: usize, mi: usize, mf: usize): void {
  // Two statistics at a time in f64x2 lanes (the same operations, lane by lane): the division,
  // square root and division of one statistic were a latency chain; f64x2 runs two for one.
  const e = f64x2.splat(eps), one = f64x2.splat(1);
  let q = 0;
  for (; q + 2 <= N; q += 2) {
    const t = st + <usize>q * 24;
    const v0 = v128.load(t), v1 = v128.load(t, 16), v2 = v128.load(t, 32); // (n0, m0), (M0, n1), (m1, M1)
    const m = v128.shuffle<f64>(v0, v2, 1, 2);
    const iv = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(v128.shuffle<f64>(v1, v2, 0, 3), v128.shuffle<f64>(v0, v1, 0, 3)), e)));
    const h = f32x4.demote_f64x2_zero(m);
    v128.store64_lane(mh + (<usize>q << 2), h, 0);
    v128.store(ml + (<usize>q << 3), f64x2.sub(m, f64x2.promote_low_f32x4(h)));
    v128.store(mi + (<usize>q << 3), iv);
    v128.store64_lane(mf + (<usize>q << 2), f32x4.demote_f64x2_zero(iv), 0);
  }
  for (; q < N; q++) {
    const t = st + <usize>q * 24;
    const m = load<f64>(t, 8), iv = 1.0 / Math.sqrt(load<f64>(t, 16) / load<f64>(t) + eps);
    const h = <f32>m;
    store<f32>(mh + (<usize>q << 2), h);
    store<f64>(ml + (<usize>q << 3), m - <f64>h);
    store<f64>(mi + (<usize>q << 3), iv);
    store<f32>(mf + (<usize>q << 2), <f32>iv);
  }
}

/**
 * Group norm backward parameters from per-(n, c) sums (the f64 pairs (Σdy, Σdy·(x − hi)) at
 * sums, (n, c) order, around the group's f32 mean hi): per (n, group) q the exact sums
 * a = Σdy, b = Σdy·(x − μ) = Σdy·(x − hi) − lo[q]·Σdy, their γ-weighted totals A, B, and per
 * (n, c) dx = dy·k + (x − hi)·c1 + c0 with k = γ·inv, c1 = −inv³·B/count,
 * c0 = −inv·A/count − lo·c1 (f64, rounded once; the same formulas as the JS loop this replaces:
 * with one statistic per 49 values it cost several times the kernels). Adds b·inv (dgamma) and a
 * (dbeta) per channel into dsum (C f64 pairs). lo, inv: N·G f64; gamma: C f32 (ones when absent).
 */
export function gn_params_backward_f32(N: i32, C: i32, G: i32, sums: usize, lo: usize, inv: usize, gamma: usize, count: f64, pk: usize, c1: usize, c0: usize, dsum: usize): void {
  const per = C / G;
  // Instance norm: whole samples in pairs of statistics (all of them when C is even; with C odd
  // an odd last sample stays for the loop below).
  const n0 = per == 1 ? (C & 1 ? N & ~1 : N) : 0;
  if (n0) instance_pairs(n0 * C, C, sums, lo, inv, gamma, count, pk, c1, c0, dsum);
  let q = n0 * G, i = q * per;
  for (let n = n0; n < N; n++) {
    for (let g0 = 0; g0 < C; g0 += per, q++) {
      const l = load<f64>(lo + (<usize>q << 3)), iv = load<f64>(inv + (<usize>q << 3));
      let A: f64 = 0, B: f64 = 0;
      for (let c = g0, j = i; c < g0 + per; c++, j++) {
        const gm = <f64>load<f32>(gamma + (<usize>c << 2)), s = sums + (<usize>j << 4);
        const a = load<f64>(s), b = load<f64>(s, 8) - l * a, d = dsum + (<usize>c << 4);
        A += gm * a; B += gm * b;
        store<f64>(d, load<f64>(d) + b * iv);
        store<f64>(d, load<f64>(d, 8) + a, 8);
        store<f32>(pk + (<usize>j << 2), <f32>(gm * iv));
      }
      const k1 = -iv * iv * iv * B / count, k0 = -iv * A / count - l * k1;
      for (let c = g0; c < g0 + per; c++, i++) {
        const o = <usize>i << 2;
        store<f32>(c1 + o, <f32>k1);
        store<f32>(c0 + o, <f32>k0);
      }
    }
  }
}

/**
 * gn_params_backward_f32 with one channel a group (instance norm) for statistics 0 … K − 1 (K
 * even), two at a time in f64x2 lanes: the same operations lane by lane (f64x2 division is IEEE),
 * so the same bits, two divisions for the price of one (one statistic per 49 values on 7 × 7
 * rows).
 */
function instance_pairs(K: i32, C: i32, sums: usize, lo: usize, inv: usize, gamma: usize, count: f64, pk: usize, c1: usize, c0: usize, dsum: usize): void {
  const cnt = f64x2.splat(count);
  let c = 0, q = 0;
  for (; q + 2 <= K; q += 2) {
    const c2 = next_channel(c, C), s = sums + (<usize>q << 4);
    const v0 = v128.load(s), v1 = v128.load(s, 16), l = v128.load(lo + (<usize>q << 3)), iv = v128.load(inv + (<usize>q << 3));
    const a = v128.shuffle<f64>(v0, v1, 0, 2), b = f64x2.sub(v128.shuffle<f64>(v0, v1, 1, 3), f64x2.mul(l, a));
    const gm = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(gamma + (<usize>c << 2))), 1, <f64>load<f32>(gamma + (<usize>c2 << 2)));
    const A = f64x2.mul(gm, a), B = f64x2.mul(gm, b), bi = f64x2.mul(b, iv);
    const d0 = dsum + (<usize>c << 4), d1 = dsum + (<usize>c2 << 4);
    v128.store(d0, f64x2.add(v128.load(d0), v128.shuffle<f64>(bi, a, 0, 2)));
    v128.store(d1, f64x2.add(v128.load(d1), v128.shuffle<f64>(bi, a, 1, 3)));
    const k1 = f64x2.div(f64x2.mul(f64x2.mul(f64x2.mul(f64x2.neg(iv), iv), iv), B), cnt);
    const k0 = f64x2.sub(f64x2.div(f64x2.mul(f64x2.neg(iv), A), cnt), f64x2.mul(l, k1));
    const o = <usize>q << 2;
    v128.store64_lane(pk + o, f32x4.demote_f64x2_zero(f64x2.mul(gm, iv)), 0);
    v128.store64_lane(c1 + o, f32x4.demote_f64x2_zero(k1), 0);
    v128.store64_lane(c0 + o, f32x4.demote_f64x2_zero(k0), 0);
    c = next_channel(c2, C);
  }
}
