// Passes over one row of C contiguous values for the row kernels (layer norm, RMS norm and the
// skip norms over the last axis: ln_forward.ts, rms_forward.ts, skip_forward.ts, ln_backward.ts
// …). A row kernel reads a row from memory once (the first pass) and runs the others while it
// is in L1. Each pass is its own function with one hot loop (V8 compiles them better apart).
//
// Sums run in f32 lanes (four or two independent vectors) over chunks of ≤ BLOCK values and are
// added in f64 per chunk. Tails: a 4-wide loop, then a scalar remainder (the last C % 4 values,
// in f64 for the sums).
import { BLOCK, hsum, ret0, ret1 } from "./common";
import { TINY, two_pass } from "./bn_stats";

/** Σ x² over C values (f64). */
export function row_sumsq(p: usize, C: i32): f64 {
  let total: f64 = 0;
  for (let j0 = 0; j0 < C; j0 += BLOCK) {
    const end = min(C, j0 + BLOCK), e16 = j0 + ((end - j0) & ~15), e4 = j0 + ((end - j0) & ~3);
    let a = f32x4.splat(0), b = f32x4.splat(0), c = f32x4.splat(0), d = f32x4.splat(0);
    let j = j0;
    for (; j < e16; j += 16) {
      const o = p + (<usize>j << 2);
      const u = v128.load(o), v = v128.load(o, 16), w = v128.load(o, 32), z = v128.load(o, 48);
      a = f32x4.add(a, f32x4.mul(u, u)); b = f32x4.add(b, f32x4.mul(v, v));
      c = f32x4.add(c, f32x4.mul(w, w)); d = f32x4.add(d, f32x4.mul(z, z));
    }
    for (; j < e4; j += 4) { const u = v128.load(p + (<usize>j << 2)); a = f32x4.add(a, f32x4.mul(u, u)); }
    let t = hsum(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)));
    for (; j < end; j++) { const u = <f64>load<f32>(p + (<usize>j << 2)); t += u * u; }
    total += t;
  }
  return total;
}

// Σ(s − shift), Σ(s − shift)² over a row (ret0, ret1, f64), s = x, or with ADD the residual sum
// x + k (+ bias with BIAS), stored at ps; SHIFT false: plain Σs, Σs²; SQ: Σs² alone (ret0 = 0: RMS
// norm needs no Σs, one add a vector less). Constants after inlining.
@inline function sums_body(px: usize, pk: usize, bias: usize, ps: usize, C: i32, shift: f32, SHIFT: bool, ADD: bool, BIAS: bool, SQ: bool = false): void {
  const hv = f32x4.splat(shift);
  let s1: f64 = 0, s2: f64 = 0;
  for (let j0 = 0; j0 < C; j0 += BLOCK) {
    const end = min(C, j0 + BLOCK), e16 = j0 + ((end - j0) & ~15), e4 = j0 + ((end - j0) & ~3);
    let a = f32x4.splat(0), b = f32x4.splat(0), qa = f32x4.splat(0), qb = f32x4.splat(0);
    let j = j0;
    // 16 values per iteration: one address per stream, and each accumulator takes one add of two
    // vectors' sum (the add latency is not the bound).
    for (; j < e16; j += 16) {
      const o = <usize>j << 2, x = px + o;
      let u0 = v128.load(x), u1 = v128.load(x, 16), u2 = v128.load(x, 32), u3 = v128.load(x, 48);
      if (ADD) {
        const k = pk + o, s = ps + o;
        if (BIAS) {
          const c = bias + o;
          u0 = f32x4.add(f32x4.add(u0, v128.load(k)), v128.load(c));
          u1 = f32x4.add(f32x4.add(u1, v128.load(k, 16)), v128.load(c, 16));
          u2 = f32x4.add(f32x4.add(u2, v128.load(k, 32)), v128.load(c, 32));
          u3 = f32x4.add(f32x4.add(u3, v128.load(k, 48)), v128.load(c, 48));
        } else {
          u0 = f32x4.add(u0, v128.load(k)); u1 = f32x4.add(u1, v128.load(k, 16));
          u2 = f32x4.add(u2, v128.load(k, 32)); u3 = f32x4.add(u3, v128.load(k, 48));
        }
        v128.store(s, u0); v128.store(s, u1, 16); v128.store(s, u2, 32); v128.store(s, u3, 48);
      }
      if (SHIFT) { u0 = f32x4.sub(u0, hv); u1 = f32x4.sub(u1, hv); u2 = f32x4.sub(u2, hv); u3 = f32x4.sub(u3, hv); }
      if (!SQ) { a = f32x4.add(a, f32x4.add(u0, u1)); b = f32x4.add(b, f32x4.add(u2, u3)); }
      qa = f32x4.add(qa, f32x4.add(f32x4.mul(u0, u0), f32x4.mul(u1, u1)));
      qb = f32x4.add(qb, f32x4.add(f32x4.mul(u2, u2), f32x4.mul(u3, u3)));
    }
    for (; j < e4; j += 4) {
      const o = <usize>j << 2;
      let u = v128.load(px + o);
      if (ADD) { u = f32x4.add(u, v128.load(pk + o)); if (BIAS) u = f32x4.add(u, v128.load(bias + o)); v128.store(ps + o, u); }
      const du = SHIFT ? f32x4.sub(u, hv) : u;
      if (!SQ) a = f32x4.add(a, du);
      qa = f32x4.add(qa, f32x4.mul(du, du));
    }
    let t1 = hsum(f32x4.add(a, b)), t2 = hsum(f32x4.add(qa, qb));
    for (; j < end; j++) {
      const o = <usize>j << 2;
      let u = load<f32>(px + o);
      if (ADD) { u = u + load<f32>(pk + o); if (BIAS) u += load<f32>(bias + o); store<f32>(ps + o, u); }
      const du = <f64>(SHIFT ? u - shift : u);
      if (!SQ) t1 += du;
      t2 += du * du;
    }
    s1 += t1; s2 += t2;
  }
  ret0 = s1; ret1 = s2;
}

/**
 * s = x + k + bias over C values (the residual sum), stored at ps (may alias px or pk);
 * Σ (s − shift) → ret0 and Σ (s − shift)² → ret1 (f64). bias: C f32, or 0 when the op has none
 * (a loop without the bias stream: one load and one add less per vector).
 */
export function row_add_shifted(px: usize, pk: usize, bias: usize, ps: usize, C: i32, shift: f32): void {
  if (bias) sums_body(px, pk, bias, ps, C, shift, true, true, true);
  else add_nobias(px, pk, ps, C, shift);
}

/** row_add_shifted without a bias (its own function: one hot loop each). */
function add_nobias(px: usize, pk: usize, ps: usize, C: i32, shift: f32): void {
  sums_body(px, pk, 0, ps, C, shift, true, true, false);
}


/**
 * s = x + k + bias as row_add_shifted, Σ s² → ret1 (RMS norm). Without a bias Σs² alone (one add
 * a vector less); with one, row_add_shifted at shift 0 (the same ret1; a loop of its own would
 * cost ~0.5 KB).
 */
export function row_add_sq(px: usize, pk: usize, bias: usize, ps: usize, C: i32): void {
  if (bias) row_add_shifted(px, pk, bias, ps, C, 0);
  else add_sq_nobias(px, pk, ps, C);
}

/** row_add_sq without a bias (its own function: one hot loop each). */
function add_sq_nobias(px: usize, pk: usize, ps: usize, C: i32): void {
  sums_body(px, pk, 0, ps, C, 0, false, true, false, true);
}

/** Σ (x − m) → ret0 and Σ (x − m)² → ret1 over C values (f64): layer norm's shifted sums. */
export function row_dev(p: usize, C: i32, m: f32): void {
  sums_body(p, 0, 0, 0, C, m, true, false, false);
}

/** Σ x → ret0 and Σ x² → ret1 over C values (f64): the unshifted sums of rows near zero. */
export function row_sums(p: usize, C: i32): void {
  sums_body(p, 0, 0, 0, C, 0, false, false, false);
}

/** A row's f32 mean as the next row's shift when finite, else 0. */
@inline export function next_shift(m: f32): f32 {
  return m - m == 0 ? m : 0;
}

// Per-row parameters of the last ln_row_stats call (globals: no multi-value returns).
export let row_m: f32 = 0;
export let row_a: f32 = 0;
export let row_b: f32 = 0;
/** The residue around the stored f32 mean, (mean_f32 − mean)·invstd, for a normalize around it (skip_forward.ts tiles). */
export let row_r: f32 = 0;
/** The shift for the next row's sums: 0 (unshifted sums) when this row's mean² ≤ var/16, else its f32 mean. */
export let row_h: f32 = 0;

/**
 * Layer-norm statistics of a row from its shifted sums d1 = Σ(x − shift), d2 = Σ(x − shift)²
 * (taken in the pass that read the row from memory): when the shift is within half a standard
 * deviation of the mean ((d1/C)² ≤ ¼·d2/C) the variance d2/C − (d1/C)² loses at most a factor
 * 4/3 to cancellation and is used as it is; otherwise (or on inf/NaN) the deviation pass is
 * redone around the f32 mean from L1; where f32 cannot hold the sums, the row is taken exactly in
 * f64 (Σd²/C below 2⁻¹⁰⁰, sums not finite, or the redo still off). Sets row_m (the f32 mean; 0
 * for an exact row whose mean is within a std of zero), row_a
 * (invstd), row_b (−(mean − row_m)·invstd: |row_b| ≤ 2⁻²⁴·|mean|·invstd, or ≤ 1 with row_m = 0)
 * and row_h; writes the f32 mean and invstd at pm, pi.
 */
export function ln_row_stats(p: usize, C: i32, shift: f32, d1: f64, d2: f64, eps: f64, pm: usize, pi: usize): void {
  let m = shift, d = d1 / <f64>C, q = d2 / <f64>C, off = !(d * d <= 0.25 * q);
  if (off) {
    m = <f32>(<f64>shift + d);
    row_dev(p, C, m);
    d = ret0 / <f64>C; q = ret1 / <f64>C;
    off = !(d * d <= 0.25 * q);
  }
  let v = q - d * d, mu = <f64>m + d;
  if (v < 0) v = 0; // rounding; NaN stays NaN
  // Sums f32 could not hold — past its range (|x − m| beyond ~1.8e19, or sums of ±3e38: q = ∞ or
  // NaN), below its normal range (q < 2⁻¹⁰⁰, unless every value is m), or still far off the mean
  // after the redo (a row of 1e-30 after a row at 1e6: the first mean lost it) — the row again
  // exactly, in f64 (a NaN in the row gives NaN there too).
  const exact = off || !(q < Infinity) || q < TINY && !flat_row(p, C, m);
  if (exact) { exact_stats(p, C, 1, 0); mu = ret0; v = ret1; }
  const inv = 1 / Math.sqrt(v + eps), mf = <f32>mu;
  const mn: f32 = exact ? exact_center(mu, v) : mf;
  row_m = mn; row_a = <f32>inv; row_b = <f32>((<f64>mn - mu) * inv); row_r = <f32>((<f64>mf - mu) * inv);
  row_h = mu * mu <= 0.0625 * v ? 0 : next_shift(mf);
  store<f32>(pm, mf);
  store<f32>(pi, <f32>inv);
}

/** True when every one of the C values at p equals m (+0 and −0 alike). */
export function flat_row(p: usize, C: i32, m: f32): bool {
  const mv = f32x4.splat(m), C4 = C & ~3;
  for (let j = 0; j < C4; j += 4) if (v128.any_true(f32x4.ne(v128.load(p + (<usize>j << 2)), mv))) return false;
  for (let j = C4; j < C; j++) if (load<f32>(p + (<usize>j << 2)) != m) return false;
  return true;
}

/**
 * RMS norm's 1/sqrt(Σx²/C + eps) for the row of C values at p whose squares f32 lanes summed to
 * ss. Where f32 cannot hold them — ss not finite (|x| beyond ~1.8e19) or below 2⁻¹⁰⁰ (squares
 * under f32's normal range; zero rows too) — the row's mean square again exactly in f64. Inlined,
 * and with no call on its cold path: a call site in the row loop cost the RMS row kernel 8–12 % on
 * rows of 13–100 values (docs/performance.md).
 */
@inline export function rms_inv(p: usize, C: i32, ss: f64, eps: f64): f32 {
  if (!(ss >= TINY && ss < Infinity)) {
    // Σx² in f64 (no mean taken out: a row with ±∞ keeps Σx² = ∞, rstd 0, as float64 has it).
    ss = 0;
    for (let j = 0; j < C; j++) { const v = <f64>load<f32>(p + (<usize>j << 2)); ss += v * v; }
  }
  return <f32>(1 / Math.sqrt(ss / <f64>C + eps));
}

/**
 * The mean (ret0) and variance (ret1) in f64 of the len·rows values at p + r·stride + 4·i
 * (bn_stats' two_pass): a row (rows = 1), or a channels-first position (len = 1, rows = C).
 */
export function exact_stats(p: usize, len: i32, rows: i32, stride: usize): void {
  const n = <f64>len * <f64>rows, m = two_pass(p, len, rows, stride), c = ret0 / n;
  let v = ret1 / n - c * c;
  if (v < 0) v = 0;
  ret0 = m + c; ret1 = v;
}

/**
 * Where a statistic taken exactly in f64 is normalized around: 0 when its mean is within a std of
 * zero (the mean then goes in the residue b, |b| ≤ 1: x − mean can overflow f32 where values span
 * its range, ±3e38), else the f32 mean.
 */
@inline export function exact_center(mu: f64, v: f64): f32 {
  return mu * mu <= v ? 0 : <f32>mu;
}

/**
 * y = ((x − m)·a + b)·gamma + beta over C values (per-column gamma, beta); y may alias x. When
 * |b| ≤ 2⁻²⁴ b is below the rounding of x̂ and dropped: one add less per vector (m is the f32
 * mean and b = −(mean − m)·a its residue, so |b| ≤ 2⁻²⁴·|mean|·invstd: every row with |mean| ≤ std;
 * with m = 0 for an exact row, b = −mean·a is dropped only when |mean| ≤ 2⁻²⁴·std).
 */
export function row_norm(px: usize, py: usize, C: i32, m: f32, a: f32, b: f32, gamma: usize, beta: usize): void {
  if (Mathf.abs(b) <= <f32>5.9604645e-8) norm_near(px, py, C, m, a, gamma, beta);
  else norm_res(px, py, C, m, a, b, gamma, beta);
}

/** y = ((x − m)·a + b)·gamma + beta over C values (rows far from zero: 4 values per iteration, wasm size). */
function norm_res(px: usize, py: usize, C: i32, m: f32, a: f32, b: f32, gamma: usize, beta: usize): void {
  const mv = f32x4.splat(m), av = f32x4.splat(a), bv = f32x4.splat(b);
  const C4 = C & ~3;
  let j = 0;
  for (; j < C4; j += 4) {
    const o = <usize>j << 2;
    const t = f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), mv), av), bv);
    v128.store(py + o, f32x4.add(f32x4.mul(t, v128.load(gamma + o)), v128.load(beta + o)));
  }
  for (; j < C; j++) {
    const o = <usize>j << 2;
    store<f32>(py + o, ((load<f32>(px + o) - m) * a + b) * load<f32>(gamma + o) + load<f32>(beta + o));
  }
}

/** y = (x − m)·a·gamma + beta over C values, 16 per iteration (one address per stream). */
function norm_near(px: usize, py: usize, C: i32, m: f32, a: f32, gamma: usize, beta: usize): void {
  const mv = f32x4.splat(m), av = f32x4.splat(a);
  const C16 = C & ~15, C4 = C & ~3;
  let j = 0;
  for (; j < C16; j += 16) {
    const o = <usize>j << 2, x = px + o, g = gamma + o, q = beta + o, y = py + o;
    const t0 = f32x4.mul(f32x4.sub(v128.load(x), mv), av), t1 = f32x4.mul(f32x4.sub(v128.load(x, 16), mv), av);
    const t2 = f32x4.mul(f32x4.sub(v128.load(x, 32), mv), av), t3 = f32x4.mul(f32x4.sub(v128.load(x, 48), mv), av);
    v128.store(y, f32x4.add(f32x4.mul(t0, v128.load(g)), v128.load(q)));
    v128.store(y, f32x4.add(f32x4.mul(t1, v128.load(g, 16)), v128.load(q, 16)), 16);
    v128.store(y, f32x4.add(f32x4.mul(t2, v128.load(g, 32)), v128.load(q, 32)), 32);
    v128.store(y, f32x4.add(f32x4.mul(t3, v128.load(g, 48)), v128.load(q, 48)), 48);
  }
  for (; j < C4; j += 4) {
    const o = <usize>j << 2;
    const t = f32x4.mul(f32x4.sub(v128.load(px + o), mv), av);
    v128.store(py + o, f32x4.add(f32x4.mul(t, v128.load(gamma + o)), v128.load(beta + o)));
  }
  for (; j < C; j++) {
    const o = <usize>j << 2;
    store<f32>(py + o, (load<f32>(px + o) - m) * a * load<f32>(gamma + o) + load<f32>(beta + o));
  }
}

/** y = x·a·gamma over C values (RMS norm); y may alias x. */
export function row_scale(px: usize, py: usize, C: i32, a: f32, gamma: usize): void {
  const av = f32x4.splat(a);
  const C16 = C & ~15, C4 = C & ~3;
  let j = 0;
  // 16 values per iteration: one address per stream.
  for (; j < C16; j += 16) {
    const o = <usize>j << 2, x = px + o, g = gamma + o, y = py + o;
    v128.store(y, f32x4.mul(f32x4.mul(v128.load(x), av), v128.load(g)));
    v128.store(y, f32x4.mul(f32x4.mul(v128.load(x, 16), av), v128.load(g, 16)), 16);
    v128.store(y, f32x4.mul(f32x4.mul(v128.load(x, 32), av), v128.load(g, 32)), 32);
    v128.store(y, f32x4.mul(f32x4.mul(v128.load(x, 48), av), v128.load(g, 48)), 48);
  }
  for (; j < C4; j += 4) {
    const o = <usize>j << 2;
    v128.store(py + o, f32x4.mul(f32x4.mul(v128.load(px + o), av), v128.load(gamma + o)));
  }
  for (; j < C; j++) {
    const o = <usize>j << 2;
    store<f32>(py + o, load<f32>(px + o) * a * load<f32>(gamma + o));
  }
}
