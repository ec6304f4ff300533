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
 * rs bytes (one sample, or a tile of its positions: ln_forward.ts). m, a, b: T f32. Four channel
 * rows at a time share the per-position loads; the last C % 4 rows run alone.
 */
export function norm_tile(x: usize, y: usize, rs: usize, C: i32, T: i32, pm: usize, pa: usize, pb: usize, gamma: usize, beta: usize): void {
  const S = T, S4 = S & ~3;
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const co = <usize>c << 2;
    const g0 = load<f32>(gamma + co), g1 = load<f32>(gamma + co, 4), g2 = load<f32>(gamma + co, 8), g3 = load<f32>(gamma + co, 12);
    const h0 = load<f32>(beta + co), h1 = load<f32>(beta + co, 4), h2 = load<f32>(beta + co, 8), h3 = load<f32>(beta + co, 12);
    const gv0 = f32x4.splat(g0), gv1 = f32x4.splat(g1), gv2 = f32x4.splat(g2), gv3 = f32x4.splat(g3);
    const hv0 = f32x4.splat(h0), hv1 = f32x4.splat(h1), hv2 = f32x4.splat(h2), hv3 = f32x4.splat(h3);
    const base = <usize>c * rs;
    const x0 = x + base, x1 = x0 + rs, x2 = x1 + rs, x3 = x2 + rs;
    const y0 = y + base, y1 = y0 + rs, y2 = y1 + rs, y3 = y2 + rs;
    let i = 0;
    for (; i < S4; i += 4) {
      const o = <usize>i << 2;
      const mv = v128.load(pm + o), av = v128.load(pa + o), bv = v128.load(pb + o);
      v128.store(y0 + o, f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.sub(v128.load(x0 + o), mv), av), bv), gv0), hv0));
      v128.store(y1 + o, f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.sub(v128.load(x1 + o), mv), av), bv), gv1), hv1));
      v128.store(y2 + o, f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.sub(v128.load(x2 + o), mv), av), bv), gv2), hv2));
      v128.store(y3 + o, f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.sub(v128.load(x3 + o), mv), av), bv), gv3), hv3));
    }
    for (; i < S; i++) {
      const o = <usize>i << 2;
      const ms = load<f32>(pm + o), as = load<f32>(pa + o), bs = load<f32>(pb + o);
      store<f32>(y0 + o, ((load<f32>(x0 + o) - ms) * as + bs) * g0 + h0);
      store<f32>(y1 + o, ((load<f32>(x1 + o) - ms) * as + bs) * g1 + h1);
      store<f32>(y2 + o, ((load<f32>(x2 + o) - ms) * as + bs) * g2 + h2);
      store<f32>(y3 + o, ((load<f32>(x3 + o) - ms) * as + bs) * g3 + h3);
    }
  }
  for (; c < C; c++) {
    const gs = load<f32>(gamma + (<usize>c << 2)), hs = load<f32>(beta + (<usize>c << 2));
    const gv = f32x4.splat(gs), hv = f32x4.splat(hs);
    const px = x + <usize>c * rs, py = y + <usize>c * rs;
    let i = 0;
    for (; i < S4; i += 4) {
      const o = <usize>i << 2;
      const t = f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), v128.load(pm + o)), v128.load(pa + o)), v128.load(pb + o));
      v128.store(py + o, f32x4.add(f32x4.mul(t, gv), hv));
    }
    for (; i < S; i++) {
      const o = <usize>i << 2;
      store<f32>(py + o, ((load<f32>(px + o) - load<f32>(pm + o)) * load<f32>(pa + o) + load<f32>(pb + o)) * gs + hs);
    }
  }
}
