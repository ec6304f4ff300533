// Activation epilogues in f32x4 (not a kernel file: helpers for the kernels that apply them).
//
// Ids (js/ops/activation.ts holds the same table): 0 none, 1 relu, 2 relu6, 3 silu, 4 gelu
// (erf form), 5 gelu_tanh. act4(v, id) is the activation, dact4(v, id) its derivative; both are
// @inline so a call with a constant id folds to one branch. Row helpers take the id at run time
// and switch once per row to a function holding one loop (V8 compiles one hot loop per function
// best).
//
// Accuracy (test/act.test.mjs sweeps [−20, 20] against float64): |err| ≤ 1e-6·max(1, |v|).
// exp: Cody–Waite reduction x = k·ln2 + r (|r| ≤ ln2/2, ln2 split in two), Cephes' degree-5
// polynomial for e^r (relative error ~1e-7), 2^k by exponent bits; saturates to +inf above 88
// and to 0 below −87 (the reduction is done on the clamped value). erf: Abramowitz–Stegun 7.1.26
// (|error| ≤ 1.5e-7) written as erfc on |z| so Φ(v) = ½·erfc(−v/√2) keeps relative precision
// for negative v. Limits: act(+inf) = +inf (relu6: 6), act(−inf) = 0 (the products v·0 that
// would give NaN are replaced by 0); NaN stays NaN.

export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_SILU: i32 = 3;
export const ACT_GELU: i32 = 4;
export const ACT_GELU_TANH: i32 = 5;

@inline function sp(v: f32): v128 { return f32x4.splat(v); }

/** e^x, 4 lanes: see the header for the method and limits. */
@inline export function exp4(x: v128): v128 {
  // wasm f32x4.min/max propagate NaN, so NaN survives the clamp.
  const xc = f32x4.max(f32x4.min(x, sp(88.0)), sp(-87.0));
  const k = f32x4.nearest(f32x4.mul(xc, sp(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, sp(0.693359375))), f32x4.mul(k, sp(-2.12194440e-4)));
  let p = sp(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), sp(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), sp(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), sp(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), sp(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), sp(5.0000001201e-1));
  const e = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(r, r), p), r), sp(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  const y = f32x4.mul(e, scale);
  const big = v128.bitselect(sp(Infinity), y, f32x4.gt(x, sp(88.0)));
  return v128.bitselect(sp(0), big, f32x4.lt(x, sp(-87.0)));
}

/** 1/(1 + e^−v): 0 at −inf, 1 at +inf. */
@inline function sigmoid4(v: v128): v128 {
  return f32x4.div(sp(1.0), f32x4.add(sp(1.0), exp4(f32x4.neg(v))));
}

/** v·s with v·0 → 0 (the −inf limit); NaN kept. */
@inline function times(v: v128, s: v128): v128 {
  return v128.bitselect(sp(0), f32x4.mul(v, s), f32x4.eq(s, sp(0)));
}

/** |v|/√2. */
@inline function zof(v: v128): v128 { return f32x4.mul(f32x4.abs(v), sp(0.70710678118654752)); }

/** Φ(v), the standard normal CDF, from z = |v|/√2 and e = e^(−z²). */
@inline function phi4(v: v128, z: v128, e: v128): v128 {
  const t = f32x4.div(sp(1.0), f32x4.add(sp(1.0), f32x4.mul(z, sp(0.3275911))));
  let p = sp(1.061405429);
  p = f32x4.add(f32x4.mul(p, t), sp(-1.453152027));
  p = f32x4.add(f32x4.mul(p, t), sp(1.421413741));
  p = f32x4.add(f32x4.mul(p, t), sp(-0.284496736));
  p = f32x4.add(f32x4.mul(p, t), sp(0.254829592));
  const half = f32x4.mul(f32x4.mul(f32x4.mul(p, t), e), sp(0.5)); // ½·erfc(z)
  return v128.bitselect(f32x4.sub(sp(1.0), half), half, f32x4.ge(v, sp(0)));
}

@inline function ez(z: v128): v128 { return exp4(f32x4.neg(f32x4.mul(z, z))); }

/** sigmoid(2u), u = √(2/π)(v + 0.044715 v³): ½(1 + tanh u). */
@inline function tanh_gate4(v: v128): v128 {
  const u2 = f32x4.mul(f32x4.add(v, f32x4.mul(f32x4.mul(f32x4.mul(v, v), v), sp(0.044715))), sp(1.5957691216057308));
  return sigmoid4(u2);
}

/** The activation `id` of 4 values (id a constant after inlining). */
@inline export function act4(v: v128, id: i32): v128 {
  if (id == ACT_RELU) return f32x4.max(v, sp(0));
  if (id == ACT_RELU6) return f32x4.min(f32x4.max(v, sp(0)), sp(6.0));
  if (id == ACT_SILU) return times(v, sigmoid4(v));
  if (id == ACT_GELU) { const z = zof(v); return times(v, phi4(v, z, ez(z))); }
  if (id == ACT_GELU_TANH) return times(v, tanh_gate4(v));
  return v;
}

/** d act / dv at v (id a constant after inlining). relu: 1 where v > 0; relu6: 1 where 0 < v < 6. */
@inline export function dact4(v: v128, id: i32): v128 {
  if (id == ACT_RELU) return v128.and(f32x4.gt(v, sp(0)), sp(1.0));
  if (id == ACT_RELU6) return v128.and(v128.and(f32x4.gt(v, sp(0)), f32x4.lt(v, sp(6.0))), sp(1.0));
  if (id == ACT_SILU) {
    const s = sigmoid4(v);
    // s + v·s·(1 − s), with the v·0 products of the infinite limits taken as 0.
    return f32x4.add(s, times(v, f32x4.mul(s, f32x4.sub(sp(1.0), s))));
  }
  if (id == ACT_GELU) {
    const z = zof(v), e = ez(z);
    return f32x4.add(phi4(v, z, e), times(v, f32x4.mul(e, sp(0.3989422804014327))));
  }
  if (id == ACT_GELU_TANH) {
    const s = tanh_gate4(v);
    const du = f32x4.mul(f32x4.add(sp(1.0), f32x4.mul(f32x4.mul(v, v), sp(0.134145))), sp(1.5957691216057308));
    // du overflows for |v| > ~1e12 where s·(1 − s) is 0: the product is taken as 0 there.
    return f32x4.add(s, times(v, times(du, f32x4.mul(s, f32x4.sub(sp(1.0), s)))));
  }
  return sp(1.0);
}

// Row loops: one loop per function; the tail (n % 4 values) goes through lane 0 of a splat.
@inline function act_loop(p: usize, q: usize, n: i32, id: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(q + o, act4(v128.load(p + o), id));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(q + o, f32x4.extract_lane(act4(f32x4.splat(load<f32>(p + o)), id), 0));
  }
}

function relu_row(p: usize, q: usize, n: i32): void { act_loop(p, q, n, ACT_RELU); }
function relu6_row(p: usize, q: usize, n: i32): void { act_loop(p, q, n, ACT_RELU6); }
function silu_row(p: usize, q: usize, n: i32): void { act_loop(p, q, n, ACT_SILU); }
function gelu_row(p: usize, q: usize, n: i32): void { act_loop(p, q, n, ACT_GELU); }
function gelu_tanh_row(p: usize, q: usize, n: i32): void { act_loop(p, q, n, ACT_GELU_TANH); }

/** q[i] = act(p[i]) for n values; q may alias p (in place, the row in L1). id 0: a copy. */
export function act_row(p: usize, q: usize, n: i32, id: i32): void {
  if (id == ACT_RELU) relu_row(p, q, n);
  else if (id == ACT_RELU6) relu6_row(p, q, n);
  else if (id == ACT_SILU) silu_row(p, q, n);
  else if (id == ACT_GELU) gelu_row(p, q, n);
  else if (id == ACT_GELU_TANH) gelu_tanh_row(p, q, n);
  else if (p != q) memory.copy(q, p, <usize>n << 2);
}

@inline function grad_loop(v: usize, dy: usize, g: usize, n: i32, id: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, f32x4.mul(v128.load(dy + o), dact4(v128.load(v + o), id)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(g + o, load<f32>(dy + o) * f32x4.extract_lane(dact4(f32x4.splat(load<f32>(v + o)), id), 0));
  }
}

function relu_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop(v, dy, g, n, ACT_RELU); }
function relu6_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop(v, dy, g, n, ACT_RELU6); }
function silu_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop(v, dy, g, n, ACT_SILU); }
function gelu_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop(v, dy, g, n, ACT_GELU); }
function gelu_tanh_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop(v, dy, g, n, ACT_GELU_TANH); }

/** g[i] = dy[i]·act'(v[i]) for n values; g may alias v or dy. id 0: g = dy. */
export function act_grad_row(v: usize, dy: usize, g: usize, n: i32, id: i32): void {
  if (id == ACT_RELU) relu_grad(v, dy, g, n);
  else if (id == ACT_RELU6) relu6_grad(v, dy, g, n);
  else if (id == ACT_SILU) silu_grad(v, dy, g, n);
  else if (id == ACT_GELU) gelu_grad(v, dy, g, n);
  else if (id == ACT_GELU_TANH) gelu_tanh_grad(v, dy, g, n);
  else if (g != dy) memory.copy(g, dy, <usize>n << 2);
}
