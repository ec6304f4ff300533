// Memory ceiling for the benchmark: the fastest a single thread can stream float32 data
// through wasm SIMD on this machine. copy_f32 moves 8 bytes per value (read + write, like
// inference); read_f32 moves 4 (like statistics). Every kernel in the package is judged
// against these two.
//
// Contract: n ≥ 0 values; src and dst are byte pointers into this module's memory, 16-byte
// alignment recommended (v128 loads/stores tolerate any alignment, at some cost); src and dst
// must not overlap. No allocation, no validation (the JS side owns the buffers).
// Tail: a scalar loop over the last n mod 16 values.

/** dst[i] = src[i] for i < n: 4× unrolled f32x4 loads/stores, 64 bytes per iteration. */
export function copy_f32(n: i32, src: usize, dst: usize): void {
  const n16 = n & ~15;
  let i = 0;
  for (; i < n16; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(src + o);
    const b = v128.load(src + o, 16);
    const c = v128.load(src + o, 32);
    const d = v128.load(src + o, 48);
    v128.store(dst + o, a);
    v128.store(dst + o, b, 16);
    v128.store(dst + o, c, 32);
    v128.store(dst + o, d, 48);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o));
  }
}

/**
 * Σ src[i] for i < n, so the loads cannot be optimized away. Four independent f32x4
 * accumulators hide the add latency (one accumulator would make this latency-bound, not
 * bandwidth-bound). The sum's value is irrelevant beyond being used.
 */
export function read_f32(n: i32, src: usize): f32 {
  const n16 = n & ~15;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let i = 0;
  for (; i < n16; i += 16) {
    const p = src + (<usize>i << 2);
    s0 = f32x4.add(s0, v128.load(p));
    s1 = f32x4.add(s1, v128.load(p, 16));
    s2 = f32x4.add(s2, v128.load(p, 32));
    s3 = f32x4.add(s3, v128.load(p, 48));
  }
  const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  let t: f32 = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < n; i++) t += load<f32>(src + (<usize>i << 2));
  return t;
}

/**
 * Σ src[i] and Σ src[i]² for i < n in one pass: the best statistics loop on this hardware, the
 * ceiling of every statistics kernel (it reads like read_f32 but does two float adds and a
 * multiply per vector; two add ports make that ~0.70× of the read here). Four independent
 * chains for each sum (eight accumulators). Returns the sum plus the sum of squares (f32), so
 * nothing is optimized away. The same loop as assembly/bn_stats.ts block_sq on purpose: the
 * ceiling module must not depend on the package it measures.
 */
export function sumsq_f32(n: i32, src: usize): f32 {
  const n16 = n & ~15;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
  let i = 0;
  for (; i < n16; i += 16) {
    const p = src + (<usize>i << 2);
    const d0 = v128.load(p), d1 = v128.load(p, 16), d2 = v128.load(p, 32), d3 = v128.load(p, 48);
    s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, d0));
    s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, d1));
    s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, d2));
    s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, d3));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  let t: f32 = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < n; i++) { const v = load<f32>(src + (<usize>i << 2)); t += v + v * v; }
  return t;
}

// ---- Op-shaped bounds -------------------------------------------------------------------------
// The fewest operations each normalization pass needs, as the plainest fast loops (contiguous
// values, splatted parameters, four to eight vectors an iteration): the time a kernel making the
// same passes over the same bytes can reach at best, whatever its layout. Each is the
// fastest of the variants measured (docs/performance.md, "Attainable bounds"). bench/matrix.mjs
// --bound sums them per op (inference: affine; training forward, instance and group norm:
// sumsq + affine; backwards: dsums + dxpass) and reports what fraction of the copy ceiling
// each cell could reach at best.

/** dst[i] = src[i]·a + b: a load, a multiply, an add and a store per vector (inference's pass); eight vectors an iteration. */
export function affine_f32(n: i32, src: usize, dst: usize, a: f32, b: f32): void {
  const n32 = n & ~31, va = f32x4.splat(a), vb = f32x4.splat(b);
  let i = 0;
  for (; i < n32; i += 32) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o), va), vb));
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 16), va), vb), 16);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 32), va), vb), 32);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 48), va), vb), 48);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 64), va), vb), 64);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 80), va), vb), 80);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 96), va), vb), 96);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(src + o, 112), va), vb), 112);
  }
  for (; i < n; i++) { const o = <usize>i << 2; store<f32>(dst + o, load<f32>(src + o) * a + b); }
}

/**
 * Σdy[i] and Σdy[i]·x[i] in one pass (the backward's sums, without subtracting the mean): two
 * loads, a multiply and two adds per vector, four independent chains per sum. Returns their sum.
 * The shape of the m = 0 sums loop in assembly/bn_backward.ts on purpose: the ceiling module
 * must not depend on the package it measures.
 */
export function dsums_f32(n: i32, x: usize, dy: usize): f32 {
  const n16 = n & ~15;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0), q3 = f32x4.splat(0);
  let i = 0;
  for (; i < n16; i += 16) {
    const o = <usize>i << 2;
    const d0 = v128.load(dy + o), d1 = v128.load(dy + o, 16), d2 = v128.load(dy + o, 32), d3 = v128.load(dy + o, 48);
    s0 = f32x4.add(s0, d0); q0 = f32x4.add(q0, f32x4.mul(d0, v128.load(x + o)));
    s1 = f32x4.add(s1, d1); q1 = f32x4.add(q1, f32x4.mul(d1, v128.load(x + o, 16)));
    s2 = f32x4.add(s2, d2); q2 = f32x4.add(q2, f32x4.mul(d2, v128.load(x + o, 32)));
    s3 = f32x4.add(s3, d3); q3 = f32x4.add(q3, f32x4.mul(d3, v128.load(x + o, 48)));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
  let t: f32 = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < n; i++) { const o = <usize>i << 2; const d = load<f32>(dy + o); t += d + d * load<f32>(x + o); }
  return t;
}

/** dst[i] = dy[i]·a + x[i]·b + c: two loads, two multiplies, two adds and a store per vector (the backward's dx pass). */
export function dxpass_f32(n: i32, x: usize, dy: usize, dst: usize, a: f32, b: f32, c: f32): void {
  const n16 = n & ~15, va = f32x4.splat(a), vb = f32x4.splat(b), vc = f32x4.splat(c);
  let i = 0;
  for (; i < n16; i += 16) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(dy + o), va), f32x4.add(f32x4.mul(v128.load(x + o), vb), vc)));
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(dy + o, 16), va), f32x4.add(f32x4.mul(v128.load(x + o, 16), vb), vc)), 16);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(dy + o, 32), va), f32x4.add(f32x4.mul(v128.load(x + o, 32), vb), vc)), 32);
    v128.store(dst + o, f32x4.add(f32x4.mul(v128.load(dy + o, 48), va), f32x4.add(f32x4.mul(v128.load(x + o, 48), vb), vc)), 48);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dy + o) * a + (load<f32>(x + o) * b + c));
  }
}
