// Batch norm's per-channel arithmetic between the data kernels: statistics finished into planes,
// normalize parameters, backward parameters and the element checks of the caller's vectors. As JS
// loops they cost 5–30 ns a channel (a division and a square root each, results written one
// element at a time), which at C = 1024 outweighed the data kernels on small tensors
// (docs/performance.md, per-call cost). All arithmetic is f64, rounded once to f32, with the
// roundings the JS loops had. Inputs are f64 planes JS copied in (Float32Array → f64 is exact).
// Parameters are written once per channel; the channels-first short-row path, which runs channel c
// as the pseudo-channels c·rep … c·rep + rep − 1 of the channels-last kernels, repeats them with
// bn_params_repeat_f32 (js/ops/dispatch.ts paramsAt; also group norm's backward for its means).

/**
 * The mean split every batch-norm kernel subtracts: 0 when the data sit near zero
 * (|mean|·invstd ≤ 1: the kernels then skip the subtraction), else the f32 rounding of the mean
 * (x − m is then exact near it; the f64 residue mean − m is folded into the shift / c0).
 */
@inline export function split_hi(mean: f64, inv: f64): f64 {
  return Math.abs(mean) * inv <= 1 ? 0 : <f64><f32>mean;
}

/** split_hi of two means lane by lane (the same operations): fm is the means' f32 rounding (demoted, lanes 0 and 1). */
@inline export function split_hi_pair(mean: v128, fm: v128, inv: v128): v128 {
  return v128.andnot(f64x2.promote_low_f32x4(fm), f64x2.le(f64x2.mul(f64x2.abs(mean), inv), f64x2.splat(1)));
}

/**
 * Normalize parameters per channel: m = split_hi(mean, invstd), scale = γ·invstd,
 * shift = β − (mean − m)·scale (C f32 at pm, ps, pt). mu (means),
 * w: C f64; invstd = 1/sqrt(w + eps) (w: variances), or with eps < 0 w holds invstd itself.
 * gm, bt (γ, β): C f64 or 0 (γ = 1, β = 0). sv ≠ 0: also the f32 results mean | invstd | w
 * (3·C f32 at sv).
 */
export function bn_params_f32(C: i32, mu: usize, w: usize, gm: usize, bt: usize, eps: f64, pm: usize, ps: usize, pt: usize, sv: usize): void {
  const E = C & ~1;
  params_pairs(E, C, mu, w, gm, bt, eps, pm, ps, pt, sv);
  for (let c = E; c < C; c++) {
    const o = <usize>c << 3, m = load<f64>(mu + o), v = load<f64>(w + o);
    const inv = eps < 0 ? v : 1.0 / Math.sqrt(v + eps);
    const g: f64 = gm ? load<f64>(gm + o) : 1.0, b: f64 = bt ? load<f64>(bt + o) : 0.0;
    const hi = split_hi(m, inv), scale = g * inv, q = <usize>c << 2;
    store<f32>(pm + q, <f32>hi); store<f32>(ps + q, <f32>scale); store<f32>(pt + q, <f32>(b - (m - hi) * scale));
    if (sv) {
      const r = sv + q, plane = <usize>C << 2;
      store<f32>(r, <f32>m);
      store<f32>(r + plane, <f32>inv);
      store<f32>(r + 2 * plane, <f32>v);
    }
  }
}

/**
 * bn_params_f32 for channels 0 … E − 1 (E even), two to an f64x2: the same
 * operations in the same order lane by lane (f64x2.sqrt and .div are IEEE), so the same bits, at
 * ~1/3 of the scalar loop's time (its square root and division a channel: docs/performance.md).
 */
function params_pairs(E: i32, C: i32, mu: usize, w: usize, gm: usize, bt: usize, eps: f64, pm: usize, ps: usize, pt: usize, sv: usize): void {
  const one = f64x2.splat(1), zero = f64x2.splat(0), ev = f64x2.splat(eps), plane = <usize>C << 2;
  for (let c = 0; c < E; c += 2) {
    const o = <usize>c << 3, q = <usize>c << 2, m = v128.load(mu + o), v = v128.load(w + o);
    const inv = eps < 0 ? v : f64x2.div(one, f64x2.sqrt(f64x2.add(v, ev)));
    const g = gm ? v128.load(gm + o) : one, b = bt ? v128.load(bt + o) : zero;
    const fm = f32x4.demote_f64x2_zero(m);
    const hi = split_hi_pair(m, fm, inv);
    const scale = f64x2.mul(g, inv);
    v128.store64_lane(pm + q, f32x4.demote_f64x2_zero(hi), 0);
    v128.store64_lane(ps + q, f32x4.demote_f64x2_zero(scale), 0);
    v128.store64_lane(pt + q, f32x4.demote_f64x2_zero(f64x2.sub(b, f64x2.mul(f64x2.sub(m, hi), scale))), 0);
    if (sv) {
      v128.store64_lane(sv + q, fm, 0);
      v128.store64_lane(sv + plane + q, f32x4.demote_f64x2_zero(inv), 0);
      v128.store64_lane(sv + 2 * plane + q, f32x4.demote_f64x2_zero(v), 0);
    }
  }
}

/**
 * C (count, mean, M2) triples at acc → three f64 planes at `planes`: mean, M2/count,
 * M2/(count − 1) (NaN where count ≤ 0, resp. ≤ 1).
 */
export function bn_params_finish_f64(C: i32, acc: usize, planes: usize): void {
  const plane = <usize>C << 3, E = C & ~1;
  // Channel pairs in f64x2 lanes (triples unpacked by shuffles: bn_stats_lanes.ts), same bits.
  const nan = f64x2.splat(NaN), zero = f64x2.splat(0), one = f64x2.splat(1);
  for (let c = 0; c < E; c += 2) {
    const t = acc + <usize>c * 24, o = planes + (<usize>c << 3);
    const A = v128.load(t), B = v128.load(t, 16), D = v128.load(t, 32);
    const n = v128.shuffle<f64>(A, B, 0, 3), m = v128.shuffle<f64>(A, D, 1, 2), M = v128.shuffle<f64>(B, D, 0, 3);
    const some = f64x2.gt(n, zero);
    v128.store(o, v128.bitselect(m, nan, some));
    v128.store(o + plane, v128.bitselect(f64x2.div(M, n), nan, some));
    v128.store(o + 2 * plane, v128.bitselect(f64x2.div(M, f64x2.sub(n, one)), nan, f64x2.gt(n, one)));
  }
  for (let c = E; c < C; c++) {
    const t = acc + <usize>c * 24, o = planes + (<usize>c << 3);
    const n = load<f64>(t), m2 = load<f64>(t, 16);
    store<f64>(o, n > 0 ? load<f64>(t, 8) : NaN);
    store<f64>(o + plane, n > 0 ? m2 / n : NaN);
    store<f64>(o + 2 * plane, n > 1 ? m2 / (n - 1) : NaN);
  }
}

/**
 * The running statistics' update in place, in f64 (the caller's vectors as copied in; JS copies
 * them back out): rm[c] = keep·rm[c] + weight·mu[c] and rv[c] = keep·rv[c] + weight·w[c] (mu: the
 * batch means, w: the variances the convention takes). With narrow ≠ 0 the results are written
 * as C f32 from rm and from rv instead (packed over the f64 slots already read: the rounding of a
 * Float32Array element store, and JS copies them out without a conversion, which cost ~0.8 µs a
 * vector at C = 1024). Channel pairs in f64x2 lanes, the operations and order of the JS loop this
 * replaces (which, with the two vectors' element access in the op call, cost ~6 µs at C = 1024).
 */
export function bn_params_running_f64(C: i32, rm: usize, rv: usize, mu: usize, w: usize, keep: f64, weight: f64, narrow: i32): void {
  const k = f64x2.splat(keep), u = f64x2.splat(weight), E = C & ~1;
  for (let c = 0; c < E; c += 2) {
    const o = <usize>c << 3;
    const m = f64x2.add(f64x2.mul(k, v128.load(rm + o)), f64x2.mul(u, v128.load(mu + o)));
    const v = f64x2.add(f64x2.mul(k, v128.load(rv + o)), f64x2.mul(u, v128.load(w + o)));
    if (narrow) {
      v128.store64_lane(rm + (<usize>c << 2), f32x4.demote_f64x2_zero(m), 0);
      v128.store64_lane(rv + (<usize>c << 2), f32x4.demote_f64x2_zero(v), 0);
    } else {
      v128.store(rm + o, m);
      v128.store(rv + o, v);
    }
  }
  if (E < C) {
    const o = <usize>E << 3;
    const m = keep * load<f64>(rm + o) + weight * load<f64>(mu + o), v = keep * load<f64>(rv + o) + weight * load<f64>(w + o);
    if (narrow) { store<f32>(rm + (<usize>E << 2), <f32>m); store<f32>(rv + (<usize>E << 2), <f32>v); }
    else { store<f64>(rm + o, m); store<f64>(rv + o, v); }
  }
}

/**
 * Backward parameters from the C (Σdy, Σdy·(x − m)) pairs at sums (around m = pm[c], the
 * f32 split): lo = mean − m, a = Σdy, d = Σdy·(x − mean) = Σdy·(x − m) − lo·a; the parameter
 * gradients d·invstd | a (2·C f32 at grads); and from (A, B) = gsums[c] (synchronized batch
 * norm) or (a, d): k = γ·invstd, c1 = −k·invstd²·B/count, c0 = −k·A/count − lo·c1 (C f32 at
 * pk, pc1, pc0). mu (means), w (invstd): C f64; gm (γ): C f64 or 0;
 * gsums: C f64 pairs or 0.
 */
export function bn_params_backward_f32(C: i32, sums: usize, mu: usize, w: usize, gm: usize, gsums: usize, count: f64, pm: usize, pk: usize, pc1: usize, pc0: usize, grads: usize): void {
  const E = C & ~1;
  backward_pairs(E, C, sums, mu, w, gm, gsums, count, pm, pk, pc1, pc0, grads);
  for (let c = E; c < C; c++) {
    const o = <usize>c << 3, q = <usize>c << 2, pair = <usize>c << 4;
    const iv = load<f64>(w + o), g: f64 = gm ? load<f64>(gm + o) : 1.0;
    const lo = load<f64>(mu + o) - <f64>load<f32>(pm + q);
    const a = load<f64>(sums + pair), d = load<f64>(sums + pair, 8) - lo * a;
    store<f32>(grads + q, <f32>(d * iv));
    store<f32>(grads + (<usize>(C + c) << 2), <f32>a);
    const A = gsums ? load<f64>(gsums + pair) : a, B = gsums ? load<f64>(gsums + pair, 8) : d;
    const k = g * iv, c1 = -k * iv * iv * B / count;
    store<f32>(pk + q, <f32>k); store<f32>(pc1 + q, <f32>c1); store<f32>(pc0 + q, <f32>(-k * A / count - lo * c1));
  }
}

/** bn_params_backward_f32 for channels 0 … E − 1 (E even), two to an f64x2 (same operations, same order, same bits). */
function backward_pairs(E: i32, C: i32, sums: usize, mu: usize, w: usize, gm: usize, gsums: usize, count: f64, pm: usize, pk: usize, pc1: usize, pc0: usize, grads: usize): void {
  const one = f64x2.splat(1), cnt = f64x2.splat(count), plane = <usize>C << 2;
  for (let c = 0; c < E; c += 2) {
    const o = <usize>c << 3, q = <usize>c << 2, pair = <usize>c << 4;
    const iv = v128.load(w + o), g = gm ? v128.load(gm + o) : one;
    const lo = f64x2.sub(v128.load(mu + o), f64x2.promote_low_f32x4(v128.load64_zero(pm + q)));
    const P = v128.load(sums + pair), Q = v128.load(sums + pair, 16);
    const a = v128.shuffle<f64>(P, Q, 0, 2), d = f64x2.sub(v128.shuffle<f64>(P, Q, 1, 3), f64x2.mul(lo, a));
    v128.store64_lane(grads + q, f32x4.demote_f64x2_zero(f64x2.mul(d, iv)), 0);
    v128.store64_lane(grads + plane + q, f32x4.demote_f64x2_zero(a), 0);
    let A = a, B = d;
    if (gsums) {
      const G = v128.load(gsums + pair), H = v128.load(gsums + pair, 16);
      A = v128.shuffle<f64>(G, H, 0, 2); B = v128.shuffle<f64>(G, H, 1, 3);
    }
    const k = f64x2.mul(g, iv), nk = f64x2.neg(k);
    const c1 = f64x2.div(f64x2.mul(f64x2.mul(f64x2.mul(nk, iv), iv), B), cnt);
    v128.store64_lane(pk + q, f32x4.demote_f64x2_zero(k), 0);
    v128.store64_lane(pc1 + q, f32x4.demote_f64x2_zero(c1), 0);
    v128.store64_lane(pc0 + q, f32x4.demote_f64x2_zero(f64x2.sub(f64x2.div(f64x2.mul(nk, A), cnt), f64x2.mul(lo, c1))), 0);
  }
}

/**
 * The C f32 at v, each written rep times in a row at pm (C·rep f32): per-channel parameters for
 * the pseudo-channels c·rep … c·rep + rep − 1 of channel c (any C, rep ≥ 1: the pseudo-channels of
 * js/ops/dispatch.ts paramsAt, rep < 16 and C·rep ≤ 1024; group norm's backward, each group's mean
 * repeated C/G times, N·C values; a scalar loop).
 */
export function bn_params_repeat_f32(C: i32, rep: i32, v: usize, pm: usize): void {
  for (let c = 0; c < C; c++) {
    const x = load<f32>(v + (<usize>c << 2));
    for (let r = 0; r < rep; r++, pm += 4) store<f32>(pm, x);
  }
}

/**
 * The index of the first of n f64 at w that is not finite, or (from index `from` on) negative;
 * −1 when none is. JS copies the caller's per-channel vectors here in one block and, on a hit,
 * runs its own checks, which name the argument and the element.
 */
export function bn_params_check_f64(n: i32, w: usize, from: i32): i32 {
  // Finite: the sum of the values is not finite when one is not (vec_finite_f32's test; finite
  // f64 values overflow a sum only past 1.8e308, and then the scalar loop finds none), two
  // independent f64x2 sums (four lanes), one add a vector. Negative: OR of the sign tests from `from` on.
  // No branch per value; on a hit the scalar loop rescans from 0 for the first index, else it
  // checks the tails (from the lower of the two loops' ends).
  const zero = f64x2.splat(0);
  let s0 = zero, s1 = zero, neg = zero, i = 0, j = from;
  for (; i + 4 <= n; i += 4) {
    const p = w + (<usize>i << 3);
    s0 = f64x2.add(s0, v128.load(p)); s1 = f64x2.add(s1, v128.load(p, 16));
  }
  for (; j + 2 <= n; j += 2) neg = v128.or(neg, f64x2.lt(v128.load(w + (<usize>j << 3)), zero));
  const s = f64x2.add(s0, s1);
  let k = v128.any_true(v128.or(f64x2.ne(f64x2.sub(s, s), zero), neg)) ? 0 : min(i, j);
  for (; k < n; k++) {
    const v = load<f64>(w + (<usize>k << 3));
    if (!(v - v == 0) || (k >= from && v < 0)) return k;
  }
  return -1;
}
