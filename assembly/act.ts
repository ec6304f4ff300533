// Activation epilogues in f32x4 (not a kernel file: helpers for the kernels that apply them).
//
// Ids (js/ops/activation.ts holds the same table): 0 none, 1 relu, 2 relu6, 3 silu, 4 gelu
// (erf form), 5 gelu_tanh. act4(v, id) is the activation, dact4(v, id) its derivative; both are
// @inline so a call with a constant id folds to one branch. Row helpers take the id at run time
// and switch once per row to a function holding one loop (V8 compiles one hot loop per function
// best).
//
// Accuracy (test/act.test.mjs sweeps [−20, 20] against float64): |err| ≤ 1e-6·max(1, |v|)
// (measured: ≤ 1.7e-7; derivatives ≤ 4e-7). e^−x: Cody–Waite reduction −x = k·ln2 + r
// (|r| ≤ ln2/2, ln2 split in two), e^r = 1 + r + r²·(a fitted cubic) (relative error 1.6e-7),
// 2^k by exponent bits; x is clamped to [−88, 87] and each activation sends v below a threshold
// (where its value is < 1e-30) to 0. erf: Abramowitz–Stegun 7.1.26
// (|error| ≤ 1.5e-7) written as erfc on |z| so Φ(v) = ½·erfc(−v/√2) keeps relative precision
// for negative v. Limits: act(+inf) = +inf (relu6: 6), act(−inf) = 0 (the products v·0 that
// would give NaN are replaced by 0); NaN stays NaN.

export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_SILU: i32 = 3;
export const ACT_GELU: i32 = 4;
export const ACT_GELU_TANH: i32 = 5;

@inline function sp(v: f32): v128 { return f32x4.splat(v); }

// Every constant except 0 is read from this table at its use (one broadcast load): V8 builds a
// v128 constant from immediates (3 instructions at each use, not hoisted from the loop), which
// made the exp-based loops twice as long as their arithmetic.
const K = memory.data<f32>([
  87.0, 1.44269504088896341, 12583039.0, 0.693147180559945, // exp: 0…3
  4.145853966474533e-2, -1.6790899634361267e-1, 5.000435709953308e-1, -9.999634027481079e-1, 9.999992847442627e-1, // 4…8
  1.0, 6.0, -88.0, 0.70710678118654752, 0.3275911, 0.5, // 9…14
  1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592, // erf: 15…19
  -14.0, 14.0, 0.3989422804014327, 0.044715, 1.5957691216057308, -10.0, 0.134145, // 20…26
], 16);
const E_HI = 0, E_LOG2E = 1, E_MAGIC = 2, E_LN2 = 3, E_P = 4;
const ONE = 9, SIX = 10, SILU_LO = 11, RSQRT2 = 12, ERF_A = 13, HALF = 14, ERF_P = 15;
const GELU_LO = 20, GELU_HI = 21, RSQRT2PI = 22, TANH_C = 23, TANH_2K = 24, TANH_LO = 25, TANH_D = 26;

/** The table constant i in 4 lanes. */
@inline function kc(i: i32): v128 { return v128.load32_splat(K + (<usize>i << 2)); }

/** e^−x for x ≤ 87, 4 lanes (clamped above; below −88 the result is garbage: callers zero
 * those lanes, see zero_below); NaN kept. Every caller wants e^−x: taking x itself saves the
 * negation (3 instructions in V8). */
@inline function expn4(x: v128): v128 {
  // pmin(x, b) = b < x ? b : x keeps a NaN x (one instruction; IEEE min/max take ~8 in V8).
  const xc = f32x4.pmin(x, kc(E_HI)), magic = kc(E_MAGIC);
  // k = round(−x·log2 e) by the (1.5·2²³ + 127) trick: its bits then hold k + 127 + 0x4B400000,
  // so 2^k is bits << 23 (the high bits shift out) — cheaper than nearest + trunc_sat.
  const kb = f32x4.sub(magic, f32x4.mul(xc, kc(E_LOG2E)));
  const k = f32x4.sub(kb, magic);
  // s = −r, r = −x − k·ln2 (|r| ≤ ln2/2; ln2 in one constant: its rounding adds ≤ 2.4e-7·|k|
  // to r, which only matters where the callers' error budget is loose); e^r by a quartic fitted
  // for the least relative error on |r| ≤ ln2/2 (2.6e-6), its odd terms sign-flipped for s.
  const s = f32x4.add(xc, f32x4.mul(k, kc(E_LN2)));
  let p = kc(E_P);
  p = f32x4.add(f32x4.mul(p, s), kc(E_P + 1));
  p = f32x4.add(f32x4.mul(p, s), kc(E_P + 2));
  p = f32x4.add(f32x4.mul(p, s), kc(E_P + 3));
  p = f32x4.add(f32x4.mul(p, s), kc(E_P + 4));
  return f32x4.mul(p, i32x4.shl(kb, 23));
}

/** y where v ≥ lim, else 0: the −∞ limits (the clamped exp would give −∞·tiny or −∞·0 there). */
@inline function zero_below(v: v128, y: v128, lim: i32): v128 {
  return v128.andnot(y, f32x4.lt(v, kc(lim))); // bitselect(0, …) took 3 instructions, andnot 1
}

/** 1/(1 + e^−v): 0 at −inf, 1 at +inf. */
@inline function sigmoid4(v: v128): v128 {
  return f32x4.div(kc(ONE), f32x4.add(kc(ONE), expn4(v)));
}

/** v·s with v·0 → 0 (the −inf limit); NaN kept. */
@inline function times(v: v128, s: v128): v128 {
  return v128.andnot(f32x4.mul(v, s), f32x4.eq(s, sp(0)));
}

/** |v|/√2. */
@inline function zof(v: v128): v128 { return f32x4.mul(f32x4.abs(v), kc(RSQRT2)); }

/** Φ(v), the standard normal CDF, from z = |v|/√2 and e = e^(−z²). */
@inline function phi4(v: v128, z: v128, e: v128): v128 {
  const t = f32x4.div(kc(ONE), f32x4.add(kc(ONE), f32x4.mul(z, kc(ERF_A))));
  let p = kc(ERF_P);
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 1));
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 2));
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 3));
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 4));
  const half = f32x4.mul(f32x4.mul(f32x4.mul(p, t), e), kc(HALF)); // ½·erfc(z)
  return v128.bitselect(f32x4.sub(kc(ONE), half), half, f32x4.ge(v, sp(0)));
}

@inline function ez(z: v128): v128 { return expn4(f32x4.mul(z, z)); }

/** 2u, u = √(2/π)(v + 0.044715 v³): ½(1 + tanh u) = sigmoid(2u). */
@inline function tanh_u2(v: v128): v128 {
  return f32x4.mul(f32x4.add(v, f32x4.mul(f32x4.mul(f32x4.mul(v, v), v), kc(TANH_C))), kc(TANH_2K));
}

/** max(v, 0) with NaN kept and +0 for −0: pmax(v, 0) = v < 0 ? 0 : v (2 instructions here; the
 * IEEE f32x4.max takes ~8 in V8). */
@inline function relu4(v: v128): v128 { return f32x4.add(f32x4.pmax(v, sp(0)), sp(0)); }

/** The activation `id` of 4 values (id a constant after inlining). */
@inline export function act4(v: v128, id: i32): v128 {
  if (id == ACT_RELU) return relu4(v);
  if (id == ACT_RELU6) return f32x4.pmin(relu4(v), kc(SIX));
  if (id == ACT_SILU) return zero_below(v, f32x4.div(v, f32x4.add(kc(ONE), expn4(v))), SILU_LO);
  if (id == ACT_GELU) { const z = zof(v); return zero_below(v, f32x4.mul(v, phi4(v, z, ez(z))), GELU_LO); }
  if (id == ACT_GELU_TANH) return zero_below(v, f32x4.div(v, f32x4.add(kc(ONE), expn4(tanh_u2(v)))), TANH_LO);
  return v;
}

/** d act / dv at v (id a constant after inlining). relu: 1 where v > 0; relu6: 1 where 0 < v < 6. */
@inline export function dact4(v: v128, id: i32): v128 {
  if (id == ACT_RELU) return v128.and(f32x4.gt(v, sp(0)), kc(ONE));
  if (id == ACT_RELU6) return v128.and(v128.and(f32x4.gt(v, sp(0)), f32x4.lt(v, kc(SIX))), kc(ONE));
  if (id == ACT_SILU) {
    const s = sigmoid4(v);
    // s + v·s·(1 − s); v·0 at +∞ taken as 0, and 0 below −88.
    return zero_below(v, f32x4.add(s, times(v, f32x4.mul(s, f32x4.sub(kc(ONE), s)))), SILU_LO);
  }
  if (id == ACT_GELU) {
    const z = zof(v), e = ez(z);
    const d = zero_below(v, f32x4.add(phi4(v, z, e), times(v, f32x4.mul(e, kc(RSQRT2PI)))), GELU_LO);
    return v128.bitselect(kc(ONE), d, f32x4.gt(v, kc(GELU_HI))); // the clamped e^(−z²) is not 0 at +∞
  }
  if (id == ACT_GELU_TANH) {
    const s = sigmoid4(tanh_u2(v));
    const du = f32x4.mul(f32x4.add(kc(ONE), f32x4.mul(f32x4.mul(v, v), kc(TANH_D))), kc(TANH_2K));
    // du overflows for |v| > ~1e12 where s·(1 − s) is 0: the product is taken as 0 there.
    return zero_below(v, f32x4.add(s, times(v, times(du, f32x4.mul(s, f32x4.sub(kc(ONE), s))))), TANH_LO);
  }
  return kc(ONE);
}

// Row loops: one loop per function. relu/relu6 (and their gradients): the last n % 4 values
// through lane 0 of a splat; silu, gelu, gelu_tanh and their gradients: the partial vector in the
// loop (a second inlined copy of the exp-based math would add ~0.5 KB each; the branch costs ~8 %
// in their loops, 2× in relu's).

/** The first k (1…3) f32 at p in lanes 0…k−1, zeros above. */
function load_part(p: usize, k: i32): v128 {
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (k > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (k > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Lanes 0…k−1 (k = 1…3) of v to p. */
function store_part(p: usize, v: v128, k: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

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
// The exp-based activations take their tail as a partial vector in the loop (one inlined copy,
// −2 KB of wasm, for ~8 % in the loop; relu/relu6 keep the scalar tail, where the branch would
// double the loop's time).
@inline function act_loop_part(p: usize, q: usize, n: i32, id: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2, k = n - i;
    const r = act4(k >= 4 ? v128.load(p + o) : load_part(p + o, k), id);
    if (k >= 4) v128.store(q + o, r); else store_part(q + o, r, k);
  }
}

function silu_row(p: usize, q: usize, n: i32): void { act_loop_part(p, q, n, ACT_SILU); }
function gelu_row(p: usize, q: usize, n: i32): void { act_loop_part(p, q, n, ACT_GELU); }
function gelu_tanh_row(p: usize, q: usize, n: i32): void { act_loop_part(p, q, n, ACT_GELU_TANH); }

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
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2, k = n - i;
    const d = k >= 4 ? v128.load(dy + o) : load_part(dy + o, k);
    const r = f32x4.mul(d, dact4(k >= 4 ? v128.load(v + o) : load_part(v + o, k), id));
    if (k >= 4) v128.store(g + o, r); else store_part(g + o, r, k);
  }
}

// relu/relu6: full vectors, then the last n % 4 values through lane 0 of a splat (as act_loop).
@inline function grad_loop_tail(v: usize, dy: usize, g: usize, n: i32, id: i32): void {
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

function relu_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop_tail(v, dy, g, n, ACT_RELU); }
function relu6_grad(v: usize, dy: usize, g: usize, n: i32): void { grad_loop_tail(v, dy, g, n, ACT_RELU6); }
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
