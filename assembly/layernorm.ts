// Layer norm: statistics per (n, position) over the channel axis, affine per channel.
//
// Statistics come from the existing Welford kernels (channels-last: stats_f32_cf on (1, R, C),
// one row of C per statistic; channels-first: stats_f32_cl on each sample's (C, S) block, one
// column per statistic). What is new here is that normalize and backward combine PER-STATISTIC
// parameters with PER-CHANNEL gamma/beta, which are on different axes of the same block:
//
//   channels-last  (R, C):    statistic = row r (splat),   channel = column c (vector)
//   channels-first (N, C, S): statistic = column (n, s) (vector), channel = row c (splat)
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
import { hsum } from "./common";

const BLOCK: i32 = 4096;
const FLUSH_ROWS: i32 = 64;

/**
 * Channels-last (R rows of C): y = ((x − m[r])·a[r] + b[r])·gamma[c] + beta[c].
 * m, a, b: R f32 (a = invstd, b = −residue·invstd); gamma, beta: C f32.
 */
export function layernorm_normalize_f32_cl(R: i32, C: i32, x: usize, m: usize, a: usize, b: usize, gamma: usize, beta: usize, y: usize): void {
  const C4 = C & ~3;
  for (let r = 0; r < R; r++) {
    const ro = <usize>r << 2;
    const ms = load<f32>(m + ro), as = load<f32>(a + ro), bs = load<f32>(b + ro);
    const mv = f32x4.splat(ms), av = f32x4.splat(as), bv = f32x4.splat(bs);
    const base = <usize>r * <usize>C << 2;
    const px = x + base, py = y + base;
    let j = 0;
    for (; j < C4; j += 4) {
      const o = <usize>j << 2;
      const t = f32x4.add(f32x4.mul(f32x4.sub(v128.load(px + o), mv), av), bv);
      v128.store(py + o, f32x4.add(f32x4.mul(t, v128.load(gamma + o)), v128.load(beta + o)));
    }
    for (; j < C; j++) {
      const o = <usize>j << 2;
      store<f32>(py + o, ((load<f32>(px + o) - ms) * as + bs) * load<f32>(gamma + o) + load<f32>(beta + o));
    }
  }
}

/**
 * Channels-first (N, C, S): y = ((x − m[n,s])·a[n,s] + b[n,s])·gamma[c] + beta[c].
 * m, a, b: N·S f32 (sample n's S values contiguous); gamma, beta: C f32.
 */
export function layernorm_normalize_f32_cf(N: i32, C: i32, S: i32, x: usize, m: usize, a: usize, b: usize, gamma: usize, beta: usize, y: usize): void {
  const S4 = S & ~3;
  for (let n = 0; n < N; n++) {
    const po = <usize>n * <usize>S << 2;
    const pm = m + po, pa = a + po, pb = b + po;
    for (let c = 0; c < C; c++) {
      const gs = load<f32>(gamma + (<usize>c << 2)), hs = load<f32>(beta + (<usize>c << 2));
      const gv = f32x4.splat(gs), hv = f32x4.splat(hs);
      const base = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
      const px = x + base, py = y + base;
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
}

/** Add an f32 scratch array of len values into f64 pairs (slot 0 or 1 of each pair) and zero it. */
function flush_pairs(src: usize, len: i32, dst: usize, slot: usize): void {
  for (let j = 0; j < len; j++) {
    const d = dst + (<usize>j << 4) + (slot << 3);
    store<f64>(d, load<f64>(d) + <f64>load<f32>(src + (<usize>j << 2)));
  }
  memory.fill(src, 0, <usize>len << 2);
}

/**
 * Channels-last backward, pass 1. Per row r (statistic), WRITTEN to sacc (R f64 pairs):
 *   (Σ_c gamma[c]·dy, Σ_c gamma[c]·dy·(x − m[r])).
 * Per column c (channel), ADDED to cacc (C f64 pairs): (Σ_r dy, Σ_r dy·x̂), x̂ = (x − m)·a + b.
 * scratch: 2·C f32 (16-byte aligned) column partial sums, flushed every FLUSH_ROWS rows.
 */
export function layernorm_backward_reduce_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, a: usize, b: usize, gamma: usize, sacc: usize, cacc: usize, scratch: usize): void {
  const colB = scratch, colG = scratch + (<usize>C << 2);
  memory.fill(scratch, 0, <usize>C << 3);
  for (let r = 0; r < R; r++) {
    const ro = <usize>r << 2;
    const ms = load<f32>(m + ro), as = load<f32>(a + ro), bs = load<f32>(b + ro);
    const mv = f32x4.splat(ms), av = f32x4.splat(as), bv = f32x4.splat(bs);
    const base = <usize>r * <usize>C << 2;
    const px = x + base, pd = dy + base;
    let sa: f64 = 0, sb: f64 = 0;
    for (let j0 = 0; j0 < C; j0 += BLOCK) {
      const end = min(C, j0 + BLOCK), end4 = j0 + ((end - j0) & ~3);
      let va = f32x4.splat(0), vb = f32x4.splat(0);
      let j = j0;
      for (; j < end4; j += 4) {
        const o = <usize>j << 2;
        const d = v128.load(pd + o);
        const xm = f32x4.sub(v128.load(px + o), mv);
        const gd = f32x4.mul(d, v128.load(gamma + o));
        va = f32x4.add(va, gd);
        vb = f32x4.add(vb, f32x4.mul(gd, xm));
        v128.store(colB + o, f32x4.add(v128.load(colB + o), d));
        v128.store(colG + o, f32x4.add(v128.load(colG + o), f32x4.mul(d, f32x4.add(f32x4.mul(xm, av), bv))));
      }
      let ta = hsum(va), tb = hsum(vb);
      for (; j < end; j++) {
        const o = <usize>j << 2;
        const d = load<f32>(pd + o);
        const xm = load<f32>(px + o) - ms;
        const gd = d * load<f32>(gamma + o);
        ta += <f64>gd; tb += <f64>(gd * xm);
        store<f32>(colB + o, load<f32>(colB + o) + d);
        store<f32>(colG + o, load<f32>(colG + o) + d * (xm * as + bs));
      }
      sa += ta; sb += tb;
    }
    store<f64>(sacc + (<usize>r << 4), sa);
    store<f64>(sacc + (<usize>r << 4), sb, 8);
    if ((r + 1) % FLUSH_ROWS == 0 || r == R - 1) {
      flush_pairs(colB, C, cacc, 0);
      flush_pairs(colG, C, cacc, 1);
    }
  }
}

/**
 * Channels-first backward, pass 1 (the transpose of the cl kernel). Per column (n, s)
 * (statistic), WRITTEN to sacc (N·S f64 pairs): (Σ_c gamma[c]·dy, Σ_c gamma[c]·dy·(x − m[n,s])).
 * Per row c (channel), ADDED to cacc (C f64 pairs): (Σ dy, Σ dy·x̂).
 * scratch: 2·min(S, BLOCK) f32 (16-byte aligned). Columns are taken in tiles of ≤ BLOCK so the
 * per-column sums and parameters stay in L1 and every f32 row sum covers ≤ BLOCK values.
 */
export function layernorm_backward_reduce_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, a: usize, b: usize, gamma: usize, sacc: usize, cacc: usize, scratch: usize): void {
  const T = min(S, BLOCK);
  const colA = scratch, colB = scratch + (<usize>T << 2);
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += BLOCK) {
      const len = min(BLOCK, S - s0), len4 = len & ~3;
      const po = (<usize>n * <usize>S + <usize>s0) << 2;
      const pm = m + po, pa = a + po, pb = b + po;
      const ps = sacc + (po << 2);
      memory.fill(ps, 0, <usize>len << 4);
      memory.fill(scratch, 0, <usize>T << 3);
      for (let c = 0; c < C; c++) {
        const gs = load<f32>(gamma + (<usize>c << 2));
        const gv = f32x4.splat(gs);
        const base = ((<usize>n * <usize>C + <usize>c) * <usize>S + <usize>s0) << 2;
        const px = x + base, pd = dy + base;
        let vd = f32x4.splat(0), vg = f32x4.splat(0);
        let i = 0;
        for (; i < len4; i += 4) {
          const o = <usize>i << 2;
          const d = v128.load(pd + o);
          const xm = f32x4.sub(v128.load(px + o), v128.load(pm + o));
          const gd = f32x4.mul(d, gv);
          v128.store(colA + o, f32x4.add(v128.load(colA + o), gd));
          v128.store(colB + o, f32x4.add(v128.load(colB + o), f32x4.mul(gd, xm)));
          vd = f32x4.add(vd, d);
          vg = f32x4.add(vg, f32x4.mul(d, f32x4.add(f32x4.mul(xm, v128.load(pa + o)), v128.load(pb + o))));
        }
        let td = hsum(vd), tg = hsum(vg);
        for (; i < len; i++) {
          const o = <usize>i << 2;
          const d = load<f32>(pd + o);
          const xm = load<f32>(px + o) - load<f32>(pm + o);
          const gd = d * gs;
          store<f32>(colA + o, load<f32>(colA + o) + gd);
          store<f32>(colB + o, load<f32>(colB + o) + gd * xm);
          td += <f64>d; tg += <f64>(d * (xm * load<f32>(pa + o) + load<f32>(pb + o)));
        }
        const q = cacc + (<usize>c << 4);
        store<f64>(q, load<f64>(q) + td);
        store<f64>(q, load<f64>(q, 8) + tg, 8);
        if ((c + 1) % FLUSH_ROWS == 0 || c == C - 1) {
          flush_pairs(colA, len, ps, 0);
          flush_pairs(colB, len, ps, 1);
        }
      }
    }
  }
}

/**
 * Channels-last backward, pass 2: dx = dy·(k[r]·gamma[c]) + (x − m[r])·c1[r] + c0[r].
 * m, k, c1, c0: R f32; gamma: C f32.
 */
export function layernorm_backward_dx_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, k: usize, c1: usize, c0: usize, gamma: usize, dx: usize): void {
  const C4 = C & ~3;
  for (let r = 0; r < R; r++) {
    const ro = <usize>r << 2;
    const ms = load<f32>(m + ro), ks = load<f32>(k + ro), as = load<f32>(c1 + ro), bs = load<f32>(c0 + ro);
    const mv = f32x4.splat(ms), kv = f32x4.splat(ks), av = f32x4.splat(as), bv = f32x4.splat(bs);
    const base = <usize>r * <usize>C << 2;
    const px = x + base, pd = dy + base, po = dx + base;
    let j = 0;
    for (; j < C4; j += 4) {
      const o = <usize>j << 2;
      const gk = f32x4.mul(v128.load(gamma + o), kv);
      v128.store(po + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o), gk), f32x4.mul(f32x4.sub(v128.load(px + o), mv), av)), bv));
    }
    for (; j < C; j++) {
      const o = <usize>j << 2;
      store<f32>(po + o, load<f32>(pd + o) * (load<f32>(gamma + o) * ks) + (load<f32>(px + o) - ms) * as + bs);
    }
  }
}

/**
 * Channels-first backward, pass 2: dx = dy·(gamma[c]·k[n,s]) + (x − m[n,s])·c1[n,s] + c0[n,s].
 * m, k, c1, c0: N·S f32; gamma: C f32.
 */
export function layernorm_backward_dx_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, k: usize, c1: usize, c0: usize, gamma: usize, dx: usize): void {
  const S4 = S & ~3;
  for (let n = 0; n < N; n++) {
    const pp = <usize>n * <usize>S << 2;
    const pm = m + pp, pk = k + pp, pa = c1 + pp, pb = c0 + pp;
    for (let c = 0; c < C; c++) {
      const gs = load<f32>(gamma + (<usize>c << 2));
      const gv = f32x4.splat(gs);
      const base = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
      const px = x + base, pd = dy + base, po = dx + base;
      let i = 0;
      for (; i < S4; i += 4) {
        const o = <usize>i << 2;
        const gk = f32x4.mul(v128.load(pk + o), gv);
        v128.store(po + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(pd + o), gk), f32x4.mul(f32x4.sub(v128.load(px + o), v128.load(pm + o)), v128.load(pa + o))), v128.load(pb + o)));
      }
      for (; i < S; i++) {
        const o = <usize>i << 2;
        store<f32>(po + o, load<f32>(pd + o) * (load<f32>(pk + o) * gs) + (load<f32>(px + o) - load<f32>(pm + o)) * load<f32>(pa + o) + load<f32>(pb + o));
      }
    }
  }
}
