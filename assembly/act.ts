// Activation epilogues in f32x4 (not a kernel file: helpers for the kernels that apply them).
//
// Ids (js/ops/activation.ts holds the same table): 0 none, 1 relu, 2 relu6, 3 silu, 4 gelu
// (erf form), 5 gelu_tanh. lin4/dlin4 (relu, relu6) and act4/dact4 (the exp-based ones) give the
// activation and its derivative; all are @inline so a call with a constant id folds to one
// branch. Row helpers take the id at run time and switch once per row to a function holding one
// loop (V8 compiles one hot loop per function best).
//
// Accuracy (test/act.test.mjs sweeps [−20, 20] against float64): |err| ≤ 1e-6·max(1, |v|)
// (measured: ≤ 5.6e-7; derivatives ≤ 7.2e-7). e^−x = 2^k·2^(−g) (|g| ≤ ½), 2^(−g) by a
// fitted quartic (relative error 2.6e-6), 2^k by exponent bits; x is clamped above at 87 and each
// activation sends v below a threshold (where its value is < 1e-30) to 0. The activations need
// e^−x far less precisely than 1e-6: silu's error is |v|·σ(1 − σ)·δ ≤ 0.2·δ·max(1, |v|), and
// Φ's and sigmoid(2u)'s are as small. erf: Abramowitz–Stegun 7.1.26
// (|error| ≤ 1.5e-7) written as erfc on |z| so Φ(v) = ½·erfc(−v/√2) keeps relative precision
// for negative v. Limits: act(+inf) = +inf (relu6: 6), act(−inf) = 0 (the products v·0 that
// would give NaN are replaced by 0); NaN stays NaN.

export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_SILU: i32 = 3;
export const ACT_GELU: i32 = 4;
export const ACT_GELU_TANH: i32 = 5;

@inline function sp(v: f32): v128 { return f32x4.splat(v); }

// Every constant except 0 is read from this table (one broadcast load): V8 builds a v128
// constant from immediates (3 instructions at each use, not hoisted from the loop), which made
// the exp-based loops twice as long as their arithmetic.
const K = memory.data<f32>([
  87.0, 1.44269504088896341, 12583039.0, // exp: 0…2
  9.570086374878883e-3, -5.591783672571182e-2, 2.40247443318367e-1, -6.931217908859253e-1, 9.999992847442627e-1, // 3…7
  1.0, 6.0, -88.0, 0.70710678118654752, 0.3275911, // 8…12
  // ½·(A–S 7.1.26's coefficients): the product with t·e^(−z²) is ½·erfc(z) (halving is exact).
  0.5307027145, -0.7265760135, 0.7107068705, -0.142248368, 0.127414796, // 13…17
  -14.0, 14.0, 0.3989422804014327, 0.07135481627260025, 1.5957691216057308, -10.0, 0.21406444881780076, -0.0, // 18…25
], 16);
const E_HI = 0, E_LOG2E = 1, E_MAGIC = 2, E_P = 3;
const ONE = 8, SIX = 9, SILU_LO = 10, RSQRT2 = 11, ERF_A = 12, ERF_P = 13;
const GELU_LO = 18, GELU_HI = 19, RSQRT2PI = 20, TANH_C = 21, TANH_2K = 22, TANH_LO = 23, TANH_D = 24, SIGN = 25;

/** The table constant i in 4 lanes. */
@inline function kc(i: i32): v128 { return v128.load32_splat(K + (<usize>i << 2)); }

// The constants of e^−x (and 1) travel as arguments: a row function loads them once before its
// loop and passes them down, and AssemblyScript's inlining leaves them in locals, which V8 keeps
// in registers. Read from the table at each use, each is a load in the loop (V8 does not hoist
// loads past the loop's stores; docs/performance.md has the measurement).

/** e^−x for x ≤ 87, 4 lanes (clamped above; below −88 the result is garbage: callers zero
 * those lanes, see zero_below); NaN kept. Every caller wants e^−x: taking x itself saves the
 * negation. */
@inline function expn4(x: v128, hi: v128, magic: v128, log2e: v128, p4: v128, p3: v128, p2: v128, p1: v128, p0: v128): v128 {
  // pmin(x, b) = b < x ? b : x keeps a NaN x (one instruction; IEEE min/max take ~8 in V8).
  const xc = f32x4.pmin(x, hi);
  // e^−x = 2^(−u), u = x·log2 e = g − k: k = round(−u) by the (1.5·2²³ + 127) trick (its bits
  // then hold k + 127 + 0x4B400000, so 2^k is bits << 23, the high bits shifting out — cheaper
  // than nearest + trunc_sat), g = u + k exactly (|g| ≤ ½). The rounding of u adds ≤ ½ulp(u)·ln2
  // to the relative error (1.7e-7 for |x| ≤ 5, more only where the callers' budget is loose);
  // no ln2 split (Cody–Waite) needed. 2^(−g) by a quartic fitted for the least relative error on
  // |g| ≤ ½ (2.6e-6), evaluated as (p0 + p1·g) + g²·((p2 + p3·g) + g²·p4): the loops are
  // latency-bound, and this chain is 5 operations long where Horner's is 8.
  const u = f32x4.mul(xc, log2e), kb = f32x4.sub(magic, u);
  const g = f32x4.add(u, f32x4.sub(kb, magic)), g2 = f32x4.mul(g, g);
  const lo = f32x4.add(f32x4.mul(p1, g), p0), mid = f32x4.add(f32x4.mul(p3, g), p2);
  const p = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(p4, g2), mid), g2), lo);
  return f32x4.mul(p, i32x4.shl(kb, 23));
}

/** y where v ≥ lim, else 0: the −∞ limits (the clamped exp would give −∞·tiny or −∞·0 there). */
@inline function zero_below(v: v128, y: v128, lim: i32): v128 {
  return v128.andnot(y, f32x4.lt(v, kc(lim))); // andnot: one instruction in V8 (bitselect with 0: several)
}

/** |v|/√2 (|v| by and-not with the sign bit from the table: one instruction and a load in V8,
 * where f32x4.abs builds its mask in two more). */
@inline function zof(v: v128): v128 { return f32x4.mul(v128.andnot(v, kc(SIGN)), kc(RSQRT2)); }

/** Φ(v), the standard normal CDF, from z = |v|/√2 and e = e^(−z²). */
@inline function phi4(v: v128, z: v128, e: v128, one: v128): v128 {
  const t = f32x4.div(one, f32x4.add(one, f32x4.mul(z, kc(ERF_A))));
  let p = kc(ERF_P);
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 1));
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 2));
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 3));
  p = f32x4.add(f32x4.mul(p, t), kc(ERF_P + 4));
  const half = f32x4.mul(f32x4.mul(p, t), e); // ½·erfc(z)
  return v128.bitselect(f32x4.sub(one, half), half, f32x4.ge(v, sp(0)));
}

/** 2u, u = √(2/π)(v + 0.044715 v³): ½(1 + tanh u) = sigmoid(2u). As v·(2√(2/π) + c·v²), c =
 * 2√(2/π)·0.044715: four operations (five in the textbook order); v2 = v·v. */
@inline function tanh_u2(v: v128, v2: v128): v128 {
  return f32x4.mul(v, f32x4.add(f32x4.mul(v2, kc(TANH_C)), kc(TANH_2K)));
}

/** max(v, 0) with NaN kept and +0 for −0: pmax(v, 0) = v < 0 ? 0 : v (2 instructions here; the
 * IEEE f32x4.max takes ~8 in V8). */
@inline function relu4(v: v128): v128 { return f32x4.add(f32x4.pmax(v, sp(0)), sp(0)); }

/** relu or relu6 of 4 values (id a constant after inlining). */
@inline function lin4(v: v128, id: i32): v128 {
  return id == ACT_RELU ? relu4(v) : f32x4.pmin(relu4(v), kc(SIX));
}

/** Their derivatives: 1 where v > 0 (relu), where 0 < v < 6 (relu6). */
@inline function dlin4(v: v128, id: i32): v128 {
  const m = f32x4.gt(v, sp(0));
  return v128.and(id == ACT_RELU ? m : v128.and(m, f32x4.lt(v, kc(SIX))), kc(ONE));
}

/** The exp-based activation `id` of 4 values (id a constant after inlining); e^−x constants as
 * expn4's, and one. */
@inline function act4(v: v128, id: i32, hi: v128, magic: v128, log2e: v128, p4: v128, p3: v128, p2: v128, p1: v128, p0: v128, one: v128): v128 {
  if (id == ACT_SILU) return zero_below(v, f32x4.div(v, f32x4.add(one, expn4(v, hi, magic, log2e, p4, p3, p2, p1, p0))), SILU_LO);
  if (id == ACT_GELU) {
    const z = zof(v), e = expn4(f32x4.mul(z, z), hi, magic, log2e, p4, p3, p2, p1, p0);
    return zero_below(v, f32x4.mul(v, phi4(v, z, e, one)), GELU_LO);
  }
  return zero_below(v, f32x4.div(v, f32x4.add(one, expn4(tanh_u2(v, f32x4.mul(v, v)), hi, magic, log2e, p4, p3, p2, p1, p0))), TANH_LO);
}

/** d act / dv at v for the exp-based activation `id` (arguments as act4). */
@inline function dact4(v: v128, id: i32, hi: v128, magic: v128, log2e: v128, p4: v128, p3: v128, p2: v128, p1: v128, p0: v128, one: v128): v128 {
  if (id == ACT_GELU) {
    const z = zof(v), e = expn4(f32x4.mul(z, z), hi, magic, log2e, p4, p3, p2, p1, p0);
    // The clamped e^(−z²) is never 0 (≥ 8e-39): v·φ(v) is ±∞ only at ±∞, and both are replaced.
    const d = zero_below(v, f32x4.add(phi4(v, z, e, one), f32x4.mul(v, f32x4.mul(e, kc(RSQRT2PI)))), GELU_LO);
    return v128.bitselect(one, d, f32x4.gt(v, kc(GELU_HI)));
  }
  // silu: s = sigmoid(v), s + v·s·(1 − s); gelu_tanh: s = sigmoid(2u), s + v·s·(1 − s)·2u'.
  // v enters the products as vc = min(v, 87) (expn4's own clamp, the same node): above 87, s is 1
  // in f32 for both, so s·(1 − s) = 0 and vc·0 = 0 where v·0 at +∞ (or du·0 at |v| > 1e19) would
  // be NaN; below 87 vc = v. 0 below the threshold (zero_below).
  const vc = f32x4.pmin(v, hi);
  const v2 = f32x4.mul(vc, vc), u = id == ACT_SILU ? v : tanh_u2(vc, v2);
  const s = f32x4.div(one, f32x4.add(one, expn4(u, hi, magic, log2e, p4, p3, p2, p1, p0)));
  const ss = f32x4.mul(s, f32x4.sub(one, s));
  if (id == ACT_SILU) return zero_below(v, f32x4.add(s, f32x4.mul(vc, ss)), SILU_LO);
  const du = f32x4.add(f32x4.mul(v2, kc(TANH_D)), kc(TANH_2K)); // 2u' = 2√(2/π)(1 + 3·0.044715 v²)
  return zero_below(v, f32x4.add(s, f32x4.mul(vc, f32x4.mul(du, ss))), TANH_LO);
}

// Row loops: one loop per function (V8 compiles one hot loop per function best). relu/relu6
// (and their gradients): full vectors, then the last n % 4 values through lane 0 of a splat (a
// partial-vector branch in the loop doubled their time). silu, gelu, gelu_tanh and their
// gradients: the partial vector inside the loop (one inlined copy of the exp-based math; a
// second copy for the tail costs code for little speed). The partial loads and stores are
// inlined: as calls they made V8 spill the loop's state around them (docs/performance.md).

/** The first k (1…3) f32 at p in lanes 0…k−1, zeros above. */
@inline function load_part(p: usize, k: i32): v128 {
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (k > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (k > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Lanes 0…k−1 (k = 1…3) of v to p. */
@inline function store_part(p: usize, v: v128, k: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (k > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (k > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

@inline function lin_loop(p: usize, q: usize, n: i32, id: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(q + o, lin4(v128.load(p + o), id));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(q + o, f32x4.extract_lane(lin4(f32x4.splat(load<f32>(p + o)), id), 0));
  }
}

@inline function exp_loop(p: usize, q: usize, n: i32, id: i32): void {
  const hi = kc(E_HI), magic = kc(E_MAGIC), log2e = kc(E_LOG2E), one = kc(ONE);
  const p4 = kc(E_P), p3 = kc(E_P + 1), p2 = kc(E_P + 2), p1 = kc(E_P + 3), p0 = kc(E_P + 4);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2, k = n - i;
    const v = k >= 4 ? v128.load(p + o) : load_part(p + o, k);
    const r = act4(v, id, hi, magic, log2e, p4, p3, p2, p1, p0, one);
    if (k >= 4) v128.store(q + o, r); else store_part(q + o, r, k);
  }
}

function relu_row(p: usize, q: usize, n: i32): void { lin_loop(p, q, n, ACT_RELU); }
function relu6_row(p: usize, q: usize, n: i32): void { lin_loop(p, q, n, ACT_RELU6); }
function silu_row(p: usize, q: usize, n: i32): void { exp_loop(p, q, n, ACT_SILU); }
function gelu_row(p: usize, q: usize, n: i32): void { exp_loop(p, q, n, ACT_GELU); }
function gelu_tanh_row(p: usize, q: usize, n: i32): void { exp_loop(p, q, n, ACT_GELU_TANH); }

/** q[i] = act(p[i]) for n values; q may alias p (in place, the row in L1). id 0: a copy. */
export function act_row(p: usize, q: usize, n: i32, id: i32): void {
  if (id == ACT_RELU) relu_row(p, q, n);
  else if (id == ACT_RELU6) relu6_row(p, q, n);
  else if (id == ACT_SILU) silu_row(p, q, n);
  else if (id == ACT_GELU) gelu_row(p, q, n);
  else if (id == ACT_GELU_TANH) gelu_tanh_row(p, q, n);
  else if (p != q) memory.copy(q, p, <usize>n << 2);
}

@inline function lin_grad_loop(v: usize, dy: usize, g: usize, n: i32, id: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(g + o, f32x4.mul(v128.load(dy + o), dlin4(v128.load(v + o), id)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(g + o, load<f32>(dy + o) * f32x4.extract_lane(dlin4(f32x4.splat(load<f32>(v + o)), id), 0));
  }
}

@inline function exp_grad_loop(v: usize, dy: usize, g: usize, n: i32, id: i32): void {
  const hi = kc(E_HI), magic = kc(E_MAGIC), log2e = kc(E_LOG2E), one = kc(ONE);
  const p4 = kc(E_P), p3 = kc(E_P + 1), p2 = kc(E_P + 2), p1 = kc(E_P + 3), p0 = kc(E_P + 4);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2, k = n - i;
    const d = k >= 4 ? v128.load(dy + o) : load_part(dy + o, k);
    const x = k >= 4 ? v128.load(v + o) : load_part(v + o, k);
    const r = f32x4.mul(d, dact4(x, id, hi, magic, log2e, p4, p3, p2, p1, p0, one));
    if (k >= 4) v128.store(g + o, r); else store_part(g + o, r, k);
  }
}

function relu_grad(v: usize, dy: usize, g: usize, n: i32): void { lin_grad_loop(v, dy, g, n, ACT_RELU); }
function relu6_grad(v: usize, dy: usize, g: usize, n: i32): void { lin_grad_loop(v, dy, g, n, ACT_RELU6); }
function silu_grad(v: usize, dy: usize, g: usize, n: i32): void { exp_grad_loop(v, dy, g, n, ACT_SILU); }
function gelu_grad(v: usize, dy: usize, g: usize, n: i32): void { exp_grad_loop(v, dy, g, n, ACT_GELU); }
function gelu_tanh_grad(v: usize, dy: usize, g: usize, n: i32): void { exp_grad_loop(v, dy, g, n, ACT_GELU_TANH); }

/** g[i] = dy[i]·act'(v[i]) for n values; g may alias v or dy. id 0: g = dy. */
export function act_grad_row(v: usize, dy: usize, g: usize, n: i32, id: i32): void {
  if (id == ACT_RELU) relu_grad(v, dy, g, n);
  else if (id == ACT_RELU6) relu6_grad(v, dy, g, n);
  else if (id == ACT_SILU) silu_grad(v, dy, g, n);
  else if (id == ACT_GELU) gelu_grad(v, dy, g, n);
  else if (id == ACT_GELU_TANH) gelu_tanh_grad(v, dy, g, n);
  else if (g != dy) memory.copy(g, dy, <usize>n << 2);
}
