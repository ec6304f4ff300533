// Synthetic loops for the channels-last bounds (bench/cl-bound.mjs): the same loads, stores and
// float operations per vector as the kernels, with the parameters in registers or read from L1,
// in memory order or in column sweeps, over n values of memory the caller owns. Not part of the
// package, and on purpose copies of the kernels' loop shapes (like bench/ceiling, it must not depend on
// the code it measures); docs/performance.md ("Channels-last at cache-resident sizes") has the figures.

/** The ceiling: a SIMD copy, 16 values a step (bench/ceiling copy_f32). */
export function copy4(n: i32, x: usize, y: usize): void {
  const e = <usize>n << 2;
  for (let o: usize = 0; o < e; o += 64) {
    const a = v128.load(x + o), b = v128.load(x + o, 16), c = v128.load(x + o, 32), d = v128.load(x + o, 48);
    v128.store(y + o, a); v128.store(y + o, b, 16); v128.store(y + o, c, 32); v128.store(y + o, d, 48);
  }
}

/** y = (x − m)·s + t, the twelve parameter vectors of a 16-lane period in registers, memory order. */
export function reg_sub(n: i32, x: usize, y: usize, q: usize): void {
  const e = <usize>n << 2;
  const m0 = v128.load(q), s0 = v128.load(q, 16), t0 = v128.load(q, 32);
  const m1 = v128.load(q, 48), s1 = v128.load(q, 64), t1 = v128.load(q, 80);
  const m2 = v128.load(q, 96), s2 = v128.load(q, 112), t2 = v128.load(q, 128);
  const m3 = v128.load(q, 144), s3 = v128.load(q, 160), t3 = v128.load(q, 176);
  for (let o: usize = 0; o < e; o += 64) {
    const a = x + o, b = y + o;
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), m0), s0), t0));
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), m1), s1), t1), 16);
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 32), m2), s2), t2), 32);
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 48), m3), s3), t3), 48);
  }
}

/** y = x·s + t (m = 0), eight parameter vectors in registers, memory order. */
export function reg_nosub(n: i32, x: usize, y: usize, q: usize): void {
  const e = <usize>n << 2;
  const s0 = v128.load(q, 16), t0 = v128.load(q, 32);
  const s1 = v128.load(q, 64), t1 = v128.load(q, 80);
  const s2 = v128.load(q, 112), t2 = v128.load(q, 128);
  const s3 = v128.load(q, 160), t3 = v128.load(q, 176);
  for (let o: usize = 0; o < e; o += 64) {
    const a = x + o, b = y + o;
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a), s0), t0));
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 16), s1), t1), 16);
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 32), s2), t2), 32);
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 48), s3), t3), 48);
  }
}

/** y = (x − m)·s + t, the parameters read from an interleaved L1 pattern of `wrap` bytes (norm_span). */
export function l1_sub(n: i32, x: usize, y: usize, q0: usize, wrap: usize): void {
  const e = <usize>n << 2, qe = q0 + wrap;
  let q = q0;
  for (let o: usize = 0; o < e; o += 64) {
    const a = x + o, b = y + o;
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), v128.load(q)), v128.load(q, 16)), v128.load(q, 32)));
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), v128.load(q, 48)), v128.load(q, 64)), v128.load(q, 80)), 16);
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 32), v128.load(q, 96)), v128.load(q, 112)), v128.load(q, 128)), 32);
    v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 48), v128.load(q, 144)), v128.load(q, 160)), v128.load(q, 176)), 48);
    q += 192; if (q == qe) q = q0;
  }
}

/** y = x·s + t, two parameter loads a vector from an L1 pattern of `wrap` bytes. */
export function l1_nosub(n: i32, x: usize, y: usize, q0: usize, wrap: usize): void {
  const e = <usize>n << 2, qe = q0 + wrap;
  let q = q0;
  for (let o: usize = 0; o < e; o += 64) {
    const a = x + o, b = y + o;
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a), v128.load(q)), v128.load(q, 16)));
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 16), v128.load(q, 32)), v128.load(q, 48)), 16);
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 32), v128.load(q, 64)), v128.load(q, 80)), 32);
    v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 48), v128.load(q, 96)), v128.load(q, 112)), 48);
    q += 128; if (q == qe) q = q0;
  }
}

/** l1_sub's loads and stores with integer ops only (xor, or): is it the loads? */
export function l1_3ld_int(n: i32, x: usize, y: usize, q0: usize, wrap: usize): void {
  const e = <usize>n << 2, qe = q0 + wrap;
  let q = q0;
  for (let o: usize = 0; o < e; o += 64) {
    const a = x + o, b = y + o;
    v128.store(b, v128.or(v128.or(v128.xor(v128.load(a), v128.load(q)), v128.load(q, 16)), v128.load(q, 32)));
    v128.store(b, v128.or(v128.or(v128.xor(v128.load(a, 16), v128.load(q, 48)), v128.load(q, 64)), v128.load(q, 80)), 16);
    v128.store(b, v128.or(v128.or(v128.xor(v128.load(a, 32), v128.load(q, 96)), v128.load(q, 112)), v128.load(q, 128)), 32);
    v128.store(b, v128.or(v128.or(v128.xor(v128.load(a, 48), v128.load(q, 144)), v128.load(q, 160)), v128.load(q, 176)), 48);
    q += 192; if (q == qe) q = q0;
  }
}

/** y = (x − m) + t: two float-add-port operations, no multiply (is the add port the bound?). */
export function reg_2add(n: i32, x: usize, y: usize, q: usize): void {
  const e = <usize>n << 2;
  const m0 = v128.load(q), t0 = v128.load(q, 32);
  const m1 = v128.load(q, 48), t1 = v128.load(q, 80);
  const m2 = v128.load(q, 96), t2 = v128.load(q, 128);
  const m3 = v128.load(q, 144), t3 = v128.load(q, 176);
  for (let o: usize = 0; o < e; o += 64) {
    const a = x + o, b = y + o;
    v128.store(b, f32x4.add(f32x4.sub(v128.load(a), m0), t0));
    v128.store(b, f32x4.add(f32x4.sub(v128.load(a, 16), m1), t1), 16);
    v128.store(b, f32x4.add(f32x4.sub(v128.load(a, 32), m2), t2), 32);
    v128.store(b, f32x4.add(f32x4.sub(v128.load(a, 48), m3), t3), 48);
  }
}

/** 16-lane column sweeps: per 16-lane group twelve parameter vectors in registers, down B super-rows of `stride` bytes at a time. */
export function sweep16_sub(rows: i32, stride: usize, x: usize, y: usize, q: usize, B: i32): void {
  for (let r0 = 0; r0 < rows; r0 += B) {
    const base = <usize>r0 * stride, rn = min(B, rows - r0);
    for (let o: usize = 0; o < stride; o += 64) {
      const p = q + o * 3;
      const m0 = v128.load(p), s0 = v128.load(p, 16), t0 = v128.load(p, 32);
      const m1 = v128.load(p, 48), s1 = v128.load(p, 64), t1 = v128.load(p, 80);
      const m2 = v128.load(p, 96), s2 = v128.load(p, 112), t2 = v128.load(p, 128);
      const m3 = v128.load(p, 144), s3 = v128.load(p, 160), t3 = v128.load(p, 176);
      let a = x + base + o, b = y + base + o;
      for (let r = 0; r < rn; r++, a += stride, b += stride) {
        v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), m0), s0), t0));
        v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), m1), s1), t1), 16);
        v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 32), m2), s2), t2), 32);
        v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 48), m3), s3), t3), 48);
      }
    }
  }
}

/** sweep16_sub with m = 0 (eight parameter vectors). */
export function sweep16_nosub(rows: i32, stride: usize, x: usize, y: usize, q: usize, B: i32): void {
  for (let r0 = 0; r0 < rows; r0 += B) {
    const base = <usize>r0 * stride, rn = min(B, rows - r0);
    for (let o: usize = 0; o < stride; o += 64) {
      const p = q + o * 2;
      const s0 = v128.load(p), t0 = v128.load(p, 16);
      const s1 = v128.load(p, 32), t1 = v128.load(p, 48);
      const s2 = v128.load(p, 64), t2 = v128.load(p, 80);
      const s3 = v128.load(p, 96), t3 = v128.load(p, 112);
      let a = x + base + o, b = y + base + o;
      for (let r = 0; r < rn; r++, a += stride, b += stride) {
        v128.store(b, f32x4.add(f32x4.mul(v128.load(a), s0), t0));
        v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 16), s1), t1), 16);
        v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 32), s2), t2), 32);
        v128.store(b, f32x4.add(f32x4.mul(v128.load(a, 48), s3), t3), 48);
      }
    }
  }
}

/** 8-lane column sweeps down B super-rows (B = 4: the old four-row loops). */
export function sweep8_sub(rows: i32, stride: usize, x: usize, y: usize, q: usize, B: i32): void {
  for (let r0 = 0; r0 < rows; r0 += B) {
    const base = <usize>r0 * stride, rn = min(B, rows - r0);
    for (let o: usize = 0; o < stride; o += 32) {
      const p = q + o * 3;
      const m0 = v128.load(p), s0 = v128.load(p, 16), t0 = v128.load(p, 32);
      const m1 = v128.load(p, 48), s1 = v128.load(p, 64), t1 = v128.load(p, 80);
      let a = x + base + o, b = y + base + o;
      for (let r = 0; r < rn; r++, a += stride, b += stride) {
        v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a), m0), s0), t0));
        v128.store(b, f32x4.add(f32x4.mul(f32x4.sub(v128.load(a, 16), m1), s1), t1), 16);
      }
    }
  }
}

/** dx = dy·k + (x − m)·c1 + c0, a 12-value period (twelve vectors) in registers, memory order. */
export function reg_dx(n: i32, x: usize, dy: usize, w: usize, q: usize): void {
  const e = <usize>(n / 12 * 12) << 2;
  const m0 = v128.load(q), k0 = v128.load(q, 16), a0 = v128.load(q, 32), b0 = v128.load(q, 48);
  const m1 = v128.load(q, 64), k1 = v128.load(q, 80), a1 = v128.load(q, 96), b1 = v128.load(q, 112);
  const m2 = v128.load(q, 128), k2 = v128.load(q, 144), a2 = v128.load(q, 160), b2 = v128.load(q, 176);
  for (let o: usize = 0; o < e; o += 48) {
    const u = x + o, d = dy + o, p = w + o;
    v128.store(p, f32x4.add(f32x4.add(f32x4.mul(v128.load(d), k0), f32x4.mul(f32x4.sub(v128.load(u), m0), a0)), b0));
    v128.store(p, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 16), k1), f32x4.mul(f32x4.sub(v128.load(u, 16), m1), a1)), b1), 16);
    v128.store(p, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 32), k2), f32x4.mul(f32x4.sub(v128.load(u, 32), m2), a2)), b2), 32);
  }
}

/** dx = dy·k + x·c1 + c0 (m = 0). */
export function reg_dx0(n: i32, x: usize, dy: usize, w: usize, q: usize): void {
  const e = <usize>(n / 12 * 12) << 2;
  const k0 = v128.load(q, 16), a0 = v128.load(q, 32), b0 = v128.load(q, 48);
  const k1 = v128.load(q, 80), a1 = v128.load(q, 96), b1 = v128.load(q, 112);
  const k2 = v128.load(q, 144), a2 = v128.load(q, 160), b2 = v128.load(q, 176);
  for (let o: usize = 0; o < e; o += 48) {
    const u = x + o, d = dy + o, p = w + o;
    v128.store(p, f32x4.add(f32x4.add(f32x4.mul(v128.load(d), k0), f32x4.mul(v128.load(u), a0)), b0));
    v128.store(p, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 16), k1), f32x4.mul(v128.load(u, 16), a1)), b1), 16);
    v128.store(p, f32x4.add(f32x4.add(f32x4.mul(v128.load(d, 32), k2), f32x4.mul(v128.load(u, 32), a2)), b2), 32);
  }
}

/** dx's loads and stores alone (xor). */
export function reg_dxmem(n: i32, x: usize, dy: usize, w: usize): void {
  const e = <usize>(n / 12 * 12) << 2;
  for (let o: usize = 0; o < e; o += 48) {
    const u = x + o, d = dy + o, p = w + o;
    v128.store(p, v128.xor(v128.load(d), v128.load(u)));
    v128.store(p, v128.xor(v128.load(d, 16), v128.load(u, 16)), 16);
    v128.store(p, v128.xor(v128.load(d, 32), v128.load(u, 32)), 32);
  }
}

/** Σdy, Σdy·(x − m) of a 12-value period in registers (reduce_p12): three float-add-port operations a vector. */
export function reg_sums(n: i32, x: usize, dy: usize, q: usize): void {
  const e = <usize>(n / 12 * 12) << 2;
  const m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
  for (let i: usize = 0; i < e; i += 48) {
    const u = x + i, d = dy + i;
    const d0 = v128.load(d), d1 = v128.load(d, 16), d2 = v128.load(d, 32);
    a0 = f32x4.add(a0, d0); c0 = f32x4.add(c0, f32x4.mul(d0, f32x4.sub(v128.load(u), m0)));
    a1 = f32x4.add(a1, d1); c1 = f32x4.add(c1, f32x4.mul(d1, f32x4.sub(v128.load(u, 16), m1)));
    a2 = f32x4.add(a2, d2); c2 = f32x4.add(c2, f32x4.mul(d2, f32x4.sub(v128.load(u, 32), m2)));
  }
  v128.store(q, f32x4.add(f32x4.add(a0, a1), f32x4.add(f32x4.add(a2, c0), f32x4.add(c1, c2))), 256);
}

/** a read of x and dy alone (xor into three registers). */
export function read2(n: i32, x: usize, dy: usize, q: usize): void {
  const e = <usize>(n / 12 * 12) << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  for (let i: usize = 0; i < e; i += 48) {
    const u = x + i, d = dy + i;
    a0 = v128.xor(a0, v128.xor(v128.load(d), v128.load(u)));
    a1 = v128.xor(a1, v128.xor(v128.load(d, 16), v128.load(u, 16)));
    a2 = v128.xor(a2, v128.xor(v128.load(d, 32), v128.load(u, 32)));
  }
  v128.store(q, v128.xor(a0, v128.xor(a1, a2)), 256);
}
