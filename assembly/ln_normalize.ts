// Layer norm over a strided channel axis (channels-first: ConvNeXt's LayerNorm, and RMS norm
// and the skip norms in channels-first layouts). Rows (channels-last, (N, C)) have their own
// kernels: ln_forward.ts, rms_forward.ts, skip_forward.ts.
//
// Statistics come from the Welford kernels (bn_stats_f32_cl on each sample's (C, S) block, one
// column per statistic). Normalize and backward combine PER-STATISTIC parameters (a vector over
// positions) with PER-CHANNEL gamma/beta (a splat per channel row of the block).
//
// Contract, all kernels: pointers are byte offsets of f32 (params) or f64 (accumulators) data,
// rows need no alignment (unaligned v128 loads), scratch must be 16-byte aligned. Per-statistic
// parameters come from JS: m is the f32 rounding of the mean and b = −(mean − m)·invstd carries
// the f64 residue, so x − m is exact near the mean and offsets of 1e4–1e6 keep full precision
// (the (x − mean) form, never a·x + b). y may alias x, dx may alias x or dy: every value is read
// before it is written, at the same index.
// Tail strategy: the vector axis (C in cl, S in cf) runs 4-wide, the last (len % 4) values of
// each row run scalar ("scalar remainder"). f32 partial sums are flushed into f64 every BLOCK
// values per accumulator (rows longer than BLOCK are chunked; column sums every FLUSH_ROWS rows).

/**
 * Channels-first (N, C, S): y = ((x − m[n,s])·a[n,s] + b[n,s])·gamma[c] + beta[c].
 * m, a, b: N·S f32 (sample n's S values contiguous); gamma, beta: C f32.
 */
export function ln_normalize_f32_cf(N: i32, C: i32, S: i32, x: usize, m: usize, a: usize, b: usize, gamma: usize, beta: usize, y: usize): void {
  const rs = <usize>S << 2;
  for (let n = 0; n < N; n++) {
    const po = <usize>n * rs, base = <usize>n * <usize>C * rs;
    norm_tile(x + base, y + base, rs, C, S, m + po, a + po, b + po, gamma, beta);
  }
}

/**
 * y = ((x − m[t])·a[t] + b[t])·gamma[c] + beta[c] over C channel rows of T values at a stride of
 * rs bytes (one sample, or a tile of its positions: ln_forward_cf.ts). m, a, b: T f32. near:
 * every |b| is below the rounding of x̂ and is dropped in the vector loops (one add less per
 * vector). Four channel rows at a time share the per-position loads; the last C % 4 rows run
 * alone; the last T % 4 positions in scalar (with b).
 */
export function norm_tile(x: usize, y: usize, rs: usize, C: i32, T: i32, pm: usize, pa: usize, pb: usize, gamma: usize, beta: usize, near: bool = false): void {
  if (near) tile_near(x, y, rs, C, T, pm, pa, gamma, beta);
  else tile_res(x, y, rs, C, T, pm, pa, pb, gamma, beta);
  for (let i = T & ~3; i < T; i++) {
    const o = <usize>i << 2, ms = load<f32>(pm + o), as = load<f32>(pa + o), bs = load<f32>(pb + o);
    for (let c = 0; c < C; c++) {
      const r = <usize>c * rs + o, co = <usize>c << 2;
      store<f32>(y + r, ((load<f32>(x + r) - ms) * as + bs) * load<f32>(gamma + co) + load<f32>(beta + co));
    }
  }
}

function tile_res(x: usize, y: usize, rs: usize, C: i32, T: i32, pm: usize, pa: usize, pb: usize, gamma: usize, beta: usize): void {
  tile_body(x, y, rs, C, T, pm, pa, pb, gamma, beta, true);
}

function tile_near(x: usize, y: usize, rs: usize, C: i32, T: i32, pm: usize, pa: usize, gamma: usize, beta: usize): void {
  tile_body(x, y, rs, C, T, pm, pa, 0, gamma, beta, false);
}

// ((x − m)·a (+ b))·g + h for one vector (RES: with b).
@inline function nv(xv: v128, mv: v128, av: v128, bv: v128, gv: v128, hv: v128, RES: bool): v128 {
  let t = f32x4.mul(f32x4.sub(xv, mv), av);
  if (RES) t = f32x4.add(t, bv);
  return f32x4.add(f32x4.mul(t, gv), hv);
}

// The vector part (the first T & ~3 positions) of norm_tile.
@inline function tile_body(x: usize, y: usize, rs: usize, C: i32, T: i32, pm: usize, pa: usize, pb: usize, gamma: usize, beta: usize, RES: bool): void {
  const S4 = T & ~3;
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const co = <usize>c << 2;
    const gv0 = v128.load32_splat(gamma + co), gv1 = v128.load32_splat(gamma + co, 4), gv2 = v128.load32_splat(gamma + co, 8), gv3 = v128.load32_splat(gamma + co, 12);
    const hv0 = v128.load32_splat(beta + co), hv1 = v128.load32_splat(beta + co, 4), hv2 = v128.load32_splat(beta + co, 8), hv3 = v128.load32_splat(beta + co, 12);
    const base = <usize>c * rs;
    const x0 = x + base, x1 = x0 + rs, x2 = x1 + rs, x3 = x2 + rs;
    const y0 = y + base, y1 = y0 + rs, y2 = y1 + rs, y3 = y2 + rs;
    for (let i = 0; i < S4; i += 4) {
      const o = <usize>i << 2;
      const mv = v128.load(pm + o), av = v128.load(pa + o), bv = RES ? v128.load(pb + o) : mv;
      v128.store(y0 + o, nv(v128.load(x0 + o), mv, av, bv, gv0, hv0, RES));
      v128.store(y1 + o, nv(v128.load(x1 + o), mv, av, bv, gv1, hv1, RES));
      v128.store(y2 + o, nv(v128.load(x2 + o), mv, av, bv, gv2, hv2, RES));
      v128.store(y3 + o, nv(v128.load(x3 + o), mv, av, bv, gv3, hv3, RES));
    }
  }
  for (; c < C; c++) {
    const co = <usize>c << 2, gv = v128.load32_splat(gamma + co), hv = v128.load32_splat(beta + co);
    const px = x + <usize>c * rs, py = y + <usize>c * rs;
    for (let i = 0; i < S4; i += 4) {
      const o = <usize>i << 2, mv = v128.load(pm + o);
      v128.store(py + o, nv(v128.load(px + o), mv, v128.load(pa + o), RES ? v128.load(pb + o) : mv, gv, hv, RES));
    }
  }
}
