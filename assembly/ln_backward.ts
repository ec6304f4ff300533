// Layer norm backward. Rows (channels-last and (N, C)): one row at a time, see
// assembly/rows_backward.ts. Channels-first (see ln_normalize.ts for the layout of statistics
// and channels, and the parameter contract): pass 1 reduces per statistic and per channel, pass 2
// writes dx.
import { BLOCK, hsum, ret0, ret1, FLUSH_ROWS } from "./common";
import { rows_backward, flush_col, demote } from "./rows_backward";
import { ln_back_tile, back_tile_bytes, SHORT_TILE } from "./rows_short";

/**
 * Rows (R rows of C): dx = γg·a + x̂·c1 + c0 per row, g = dy·act'(x̂·γ + β); per column Σg
 * (dbeta), Σg·x̂ (dgamma) WRITTEN to cacc (planes 0 and 1 of three planes of C f32). m, a, b: R f32
 * (a = invstd, b = −residue·invstd); gamma, beta: C f32. scratch: 40·C bytes.
 */
export function ln_backward_rows_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, a: usize, b: usize, gamma: usize, beta: usize, dx: usize, cacc: usize, scratch: usize, act: i32): void {
  rows_backward(R, C, x, dy, 0, m, a, b, gamma, beta, dx, cacc, scratch, false, false, act);
}


/**
 * ln_backward_rows_f32_cl without an activation, for rows of 1 ≤ C ≤ 32 values: four rows at a
 * time in tiles of 64 rows (assembly/rows_short.ts `ln_back_tile`), the column sums flushed to f64
 * after each tile. The last 1–4 rows run on copies in scratch (rows past R: zeros). scratch:
 * 48·⌈C/4⌉ + 2·(8·C rounded up to 16) + 48·C + 736 bytes, 16-byte aligned. rms = 1: RMS norm's
 * backward (rms_backward_f32_cl's dx and Σg·x̂), m and b given as R zeros.
 */
export function ln_backward_short_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, a: usize, b: usize, gamma: usize, dx: usize, cacc: usize, scratch: usize, rms: i32): void {
  const rs = <usize>C << 2, V4 = <usize>((C + 3) >> 2) << 4, P = (<usize>C << 3) + 15 & ~15, TR = (rs << 2) + 16;
  const g = scratch, cb = g + V4, cg = cb + V4, pB = cg + V4, pG = pB + P, t = pG + P;
  const tx = t + back_tile_bytes(SHORT_TILE), td = tx + TR, tq = td + TR, tm = tq + TR, ta = tm + 16, tb = ta + 16;
  memory.fill(g, 0, 3 * V4 + 2 * P);
  memory.copy(g, gamma, rs);
  const F = R > 0 ? (R - 1) >> 2 : 0;
  for (let j0 = 0; j0 < F; j0 += SHORT_TILE) {
    const n = min(SHORT_TILE, F - j0), o = <usize>j0 * 4 * rs, so = <usize>j0 << 4;
    ln_back_tile(n, x + o, dy + o, dx + o, C, m + so, a + so, b + so, g, cb, cg, t, rms != 0);
    flush_col(cb, C, pB); flush_col(cg, C, pG);
  }
  if (R > 0) {
    const k = R - 4 * F, o = <usize>F * 4 * rs, so = <usize>F << 4, kb = <usize>k * rs, kv = <usize>k << 2;
    memory.fill(tx, 0, 3 * TR + 48);
    memory.copy(tx, x + o, kb); memory.copy(td, dy + o, kb);
    memory.copy(tm, m + so, kv); memory.copy(ta, a + so, kv); memory.copy(tb, b + so, kv);
    ln_back_tile(1, tx, td, tq, C, tm, ta, tb, g, cb, cg, t, rms != 0);
    memory.copy(dx + o, tq, kb);
    flush_col(cb, C, pB); flush_col(cg, C, pG);
  }
  demote(pB, cacc, C); demote(pG, cacc + rs, C);
}


/**
 * Add two f32 scratch arrays of len values into the f64 pairs at dst (a into slot 0, b into slot
 * 1 of each pair), two pairs a step, and zero them.
 */
function flush_pairs(a: usize, b: usize, len: i32, dst: usize): void {
  const len2 = len & ~1;
  let j = 0;
  for (; j < len2; j += 2) {
    const o = <usize>j << 2, d = dst + (<usize>j << 4);
    const u = f64x2.promote_low_f32x4(v128.load64_zero(a + o)), v = f64x2.promote_low_f32x4(v128.load64_zero(b + o));
    v128.store(d, f64x2.add(v128.load(d), v128.shuffle<f64>(u, v, 0, 2)));
    v128.store(d, f64x2.add(v128.load(d, 16), v128.shuffle<f64>(u, v, 1, 3)), 16);
  }
  if (j < len) {
    const o = <usize>j << 2, d = dst + (<usize>j << 4);
    store<f64>(d, load<f64>(d) + <f64>load<f32>(a + o));
    store<f64>(d, load<f64>(d, 8) + <f64>load<f32>(b + o), 8);
  }
  memory.fill(a, 0, <usize>len << 2);
  memory.fill(b, 0, <usize>len << 2);
}

/**
 * One channels-first row of len positions: gamma·dy and gamma·dy·(x − m) added into the f32
 * per-position sums colA, colB; Σ dy, Σ dy·x̂ → ret0, ret1 (f64).
 */
function reduce_row_cf(px: usize, pd: usize, pm: usize, pa: usize, pb: usize, gs: f32, colA: usize, colB: usize, len: i32): void {
  const gv = f32x4.splat(gs);
  const len4 = len & ~3;
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
  ret0 = td; ret1 = tg;
}

@inline function add_pair(q: usize, u: f64, v: f64): void {
  store<f64>(q, load<f64>(q) + u);
  store<f64>(q, load<f64>(q, 8) + v, 8);
}

/**
 * Channels-first backward, pass 1 (the transpose of the cl kernel). Per column (n, s)
 * (statistic), WRITTEN to sacc (N·S f64 pairs): (Σ_c gamma[c]·dy, Σ_c gamma[c]·dy·(x − m[n,s])).
 * Per row c (channel), ADDED to cacc (C f64 pairs): (Σ dy, Σ dy·x̂).
 * scratch: 2·min(S, BLOCK) f32 (16-byte aligned). Columns are taken in tiles of ≤ BLOCK so the
 * per-column sums and parameters stay in L1 and every f32 row sum covers ≤ BLOCK values.
 * Two channel rows at a time share the per-position loads and column-sum traffic.
 */
export function ln_backward_reduce_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, a: usize, b: usize, gamma: usize, sacc: usize, cacc: usize, scratch: usize): void {
  const T = min(S, BLOCK);
  const colA = scratch, colB = scratch + (<usize>T << 2);
  const rs = <usize>S << 2;
  for (let n = 0; n < N; n++) {
    for (let s0 = 0; s0 < S; s0 += BLOCK) {
      const len = min(BLOCK, S - s0), len4 = len & ~3;
      const po = (<usize>n * <usize>S + <usize>s0) << 2;
      const pm = m + po, pa = a + po, pb = b + po;
      const ps = sacc + (po << 2);
      memory.fill(ps, 0, <usize>len << 4);
      memory.fill(scratch, 0, <usize>T << 3);
      let c = 0, since = 0;
      for (; c + 2 <= C; c += 2) {
        const g0 = load<f32>(gamma + (<usize>c << 2)), g1 = load<f32>(gamma + (<usize>c << 2), 4);
        const gv0 = f32x4.splat(g0), gv1 = f32x4.splat(g1);
        const base = ((<usize>n * <usize>C + <usize>c) * <usize>S + <usize>s0) << 2;
        const x0 = x + base, x1 = x0 + rs, d0p = dy + base, d1p = d0p + rs;
        let vd0 = f32x4.splat(0), vg0 = f32x4.splat(0), vd1 = f32x4.splat(0), vg1 = f32x4.splat(0);
        let i = 0;
        for (; i < len4; i += 4) {
          const o = <usize>i << 2;
          const mv = v128.load(pm + o), av = v128.load(pa + o), bv = v128.load(pb + o);
          const d0 = v128.load(d0p + o), d1 = v128.load(d1p + o);
          const xm0 = f32x4.sub(v128.load(x0 + o), mv), xm1 = f32x4.sub(v128.load(x1 + o), mv);
          const gd0 = f32x4.mul(d0, gv0), gd1 = f32x4.mul(d1, gv1);
          v128.store(colA + o, f32x4.add(v128.load(colA + o), f32x4.add(gd0, gd1)));
          v128.store(colB + o, f32x4.add(v128.load(colB + o), f32x4.add(f32x4.mul(gd0, xm0), f32x4.mul(gd1, xm1))));
          vd0 = f32x4.add(vd0, d0); vg0 = f32x4.add(vg0, f32x4.mul(d0, f32x4.add(f32x4.mul(xm0, av), bv)));
          vd1 = f32x4.add(vd1, d1); vg1 = f32x4.add(vg1, f32x4.mul(d1, f32x4.add(f32x4.mul(xm1, av), bv)));
        }
        let td0 = hsum(vd0), tg0 = hsum(vg0), td1 = hsum(vd1), tg1 = hsum(vg1);
        for (; i < len; i++) {
          const o = <usize>i << 2;
          const ms = load<f32>(pm + o), as = load<f32>(pa + o), bs = load<f32>(pb + o);
          const d0 = load<f32>(d0p + o), d1 = load<f32>(d1p + o);
          const xm0 = load<f32>(x0 + o) - ms, xm1 = load<f32>(x1 + o) - ms;
          store<f32>(colA + o, load<f32>(colA + o) + (d0 * g0 + d1 * g1));
          store<f32>(colB + o, load<f32>(colB + o) + (d0 * g0 * xm0 + d1 * g1 * xm1));
          td0 += <f64>d0; tg0 += <f64>(d0 * (xm0 * as + bs));
          td1 += <f64>d1; tg1 += <f64>(d1 * (xm1 * as + bs));
        }
        add_pair(cacc + (<usize>c << 4), td0, tg0);
        add_pair(cacc + (<usize>c << 4) + 16, td1, tg1);
        since += 2;
        if (since >= FLUSH_ROWS) { flush_pairs(colA, colB, len, ps); since = 0; }
      }
      for (; c < C; c++) {
        const base = ((<usize>n * <usize>C + <usize>c) * <usize>S + <usize>s0) << 2;
        reduce_row_cf(x + base, dy + base, pm, pa, pb, load<f32>(gamma + (<usize>c << 2)), colA, colB, len);
        add_pair(cacc + (<usize>c << 4), ret0, ret1);
        since++;
      }
      if (since > 0) flush_pairs(colA, colB, len, ps);
    }
  }
}

/**
 * Channels-first backward, pass 2: dx = dy·(gamma[c]·k[n,s]) + (x − m[n,s])·c1[n,s] + c0[n,s].
 * m, k, c1, c0: N·S f32; gamma: C f32. Four channel rows at a time share the per-position
 * loads; the last C % 4 rows run alone.
 */
export function ln_backward_dx_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, k: usize, c1: usize, c0: usize, gamma: usize, dx: usize): void {
  const S4 = S & ~3, rs = <usize>S << 2;
  for (let n = 0; n < N; n++) {
    const pp = <usize>n * rs;
    const pm = m + pp, pk = k + pp, pa = c1 + pp, pb = c0 + pp;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const co = <usize>c << 2;
      const g0 = load<f32>(gamma + co), g1 = load<f32>(gamma + co, 4), g2 = load<f32>(gamma + co, 8), g3 = load<f32>(gamma + co, 12);
      const gv0 = f32x4.splat(g0), gv1 = f32x4.splat(g1), gv2 = f32x4.splat(g2), gv3 = f32x4.splat(g3);
      const base = (<usize>n * <usize>C + <usize>c) * rs;
      const x0 = x + base, d0 = dy + base, o0 = dx + base;
      const x1 = x0 + rs, d1 = d0 + rs, o1 = o0 + rs, x2 = x1 + rs, d2 = d1 + rs, o2 = o1 + rs, x3 = x2 + rs, d3 = d2 + rs, o3 = o2 + rs;
      let i = 0;
      for (; i < S4; i += 4) {
        const o = <usize>i << 2;
        const mv = v128.load(pm + o), kv = v128.load(pk + o), av = v128.load(pa + o), bv = v128.load(pb + o);
        v128.store(o0 + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(d0 + o), f32x4.mul(kv, gv0)), f32x4.mul(f32x4.sub(v128.load(x0 + o), mv), av)), bv));
        v128.store(o1 + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(d1 + o), f32x4.mul(kv, gv1)), f32x4.mul(f32x4.sub(v128.load(x1 + o), mv), av)), bv));
        v128.store(o2 + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(d2 + o), f32x4.mul(kv, gv2)), f32x4.mul(f32x4.sub(v128.load(x2 + o), mv), av)), bv));
        v128.store(o3 + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(d3 + o), f32x4.mul(kv, gv3)), f32x4.mul(f32x4.sub(v128.load(x3 + o), mv), av)), bv));
      }
      for (; i < S; i++) {
        const o = <usize>i << 2;
        const ms = load<f32>(pm + o), ks = load<f32>(pk + o), as = load<f32>(pa + o), bs = load<f32>(pb + o);
        store<f32>(o0 + o, load<f32>(d0 + o) * (ks * g0) + (load<f32>(x0 + o) - ms) * as + bs);
        store<f32>(o1 + o, load<f32>(d1 + o) * (ks * g1) + (load<f32>(x1 + o) - ms) * as + bs);
        store<f32>(o2 + o, load<f32>(d2 + o) * (ks * g2) + (load<f32>(x2 + o) - ms) * as + bs);
        store<f32>(o3 + o, load<f32>(d3 + o) * (ks * g3) + (load<f32>(x3 + o) - ms) * as + bs);
      }
    }
    for (; c < C; c++) {
      const gs = load<f32>(gamma + (<usize>c << 2));
      const gv = f32x4.splat(gs);
      const base = (<usize>n * <usize>C + <usize>c) * rs;
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
