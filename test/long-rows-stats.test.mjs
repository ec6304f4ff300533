// Channels-first statistics of long rows at N = 1 (128–4096 values: two rows at a time,
// stats_rows_short in assembly/cf_short_stats.ts; past 4096, row by row), against float64: the raw
// kernel (its contract is to MERGE into the triples at acc, so triples holding data take the
// row-by-row path), rows around every tail (S mod 8, odd row counts, the 4096 / 4097 boundary), rows that fail the check next to ordinary
// ones (offsets of 1e4 and 1e6, constant, NaN, ±Inf, squares that overflow or underflow f32),
// and channelStats / groupNorm's statistics on top.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import * as api from "../dist/index.js";
import { refStats, refGroupNorm, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

/** Row lengths: 128 … 4096 with their tails (S mod 8), and past a block (4097). */
const S_LIST = [127, 128, 129, 130, 131, 133, 196, 255, 256, 257, 511, 1023, 1024, 1025, 2047, 4095, 4096, 4097];
const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))),
  { env: { abort() { throw new Error("abort"); } } }).exports;

/** Float64 (count, mean, M2) of each row of S values, merged after `prior` (a triple per row, or none). */
function rowTriples(x, C, S, prior) {
  const t = new Float64Array(3 * C);
  for (let c = 0; c < C; c++) {
    const row = x.subarray(c * S, c * S + S);
    const m = row.reduce((a, v) => a + v, 0) / S, m2 = row.reduce((a, v) => a + (v - m) ** 2, 0);
    const [na, ma, Ma] = prior ? prior.subarray(3 * c, 3 * c + 3) : [0, 0, 0], n = na + S, d = m - ma;
    t.set(na ? [n, ma + (d * S) / n, Ma + m2 + (d * d * na * S) / n] : [S, m, m2], 3 * c);
  }
  return t;
}

/** The kernel on C rows of S values (N = 1), merging into `prior` (zeros when absent). */
function kernelRows(x, C, S, prior) {
  const at = (wasm.heap_base() + 63) & ~63, acc = at + ((4 * x.length + 63) & ~63), scratch = acc + ((24 * C + 63) & ~63), top = scratch + 24 * C;
  if (top > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((top - wasm.memory.buffer.byteLength) / 65536));
  new Float32Array(wasm.memory.buffer, at, x.length).set(x);
  new Float64Array(wasm.memory.buffer, acc, 3 * C).set(prior ?? new Float64Array(3 * C));
  wasm.bn_stats_f32_cf(1, C, S, at, acc, scratch);
  return new Float64Array(wasm.memory.buffer, acc, 3 * C).slice();
}

/** Counts exact, means within 1e-6 of a standard deviation, M2 within 1e-5 relative; NaN matches NaN. */
function agree(got, want, what, skip = []) {
  for (let c = 0; c < want.length / 3; c++) {
    if (skip.includes(c)) continue;
    const g = got.subarray(3 * c, 3 * c + 3), w = want.subarray(3 * c, 3 * c + 3), at = `${what}, row ${c}: got ${g}, want ${w}`;
    if (Number.isNaN(w[2])) { assert.ok(Number.isNaN(g[2]), at); continue; }
    assert.is(g[0], w[0], at);
    assert.ok(Math.abs(g[1] - w[1]) <= 1e-6 * Math.sqrt(w[2] / w[0]) + 1e-12 * Math.abs(w[1]) + 1e-300, `${at} (mean)`);
    assert.ok(Math.abs(g[2] - w[2]) <= 1e-5 * w[2] + 1e-300, `${at} (M2)`);
  }
}

/** C rows of S values, rows listed in `far` moved by `offset` (|mean| ≫ std: they fail the check and are redone). */
function rows(C, S, seed, far = [], offset = 1e4) {
  const x = randomArray(C * S, seed, { scale: 1 + (seed % 3) });
  for (const c of far) for (let i = 0; i < S; i++) x[c * S + i] += offset;
  return x;
}

test("kernel: fresh triples, C = 1 … 9 and 13 rows (odd row counts), every S", () => {
  for (const S of S_LIST) {
    for (const C of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13]) {
      const x = rows(C, S, 7 * S + C);
      agree(kernelRows(x, C, S), rowTriples(x, C, S), `(1, ${C}, ${S})`);
    }
  }
});

test("kernel: rows far from zero among ordinary ones (offsets 1e4, 1e6), merges into triples holding data", () => {
  for (const S of S_LIST) {
    for (const [C, far, offset] of [[8, [1], 1e4], [9, [0, 5, 8], 1e6], [12, [3, 4, 11], -3e5]]) {
      const x = rows(C, S, 11 * S + C, far, offset);
      agree(kernelRows(x, C, S), rowTriples(x, C, S), `(1, ${C}, ${S}) rows ${far} at ${offset}`);
      const first = rows(C, S, 13 * S + C, far, offset), prior = rowTriples(first, C, S);
      agree(kernelRows(x, C, S, prior), rowTriples(x, C, S, prior), `(1, ${C}, ${S}) onto a prior chunk`);
    }
  }
});

test("kernel: constant, NaN, ±Inf, overflowing and underflowing rows next to ordinary ones", () => {
  for (const S of [128, 131, 1023, 4093]) {
    const C = 11, x = rows(C, S, 17 + S);
    x.fill(2.5, 0, S);                                             // row 0: constant
    x[2 * S + S - 1] = NaN;                                        // row 2: NaN in the masked last vector
    x[4 * S + 1] = -Infinity;                                      // row 4: −Inf
    for (let i = 0; i < S; i++) x[5 * S + i] = 1e30 * (1 + i / S); // row 5: squares overflow f32
    for (let i = 0; i < S; i++) x[6 * S + i] = 1e-30 * (i % 3);    // row 6: squares underflow f32
    for (let i = 0; i < S; i++) x[9 * S + i] = (i % 2 ? 1 : -1) * 1e-30 * (1 + ((i >> 1) % 5)); // row 9: sums cancel to 0
    const got = kernelRows(x, C, S), want = rowTriples(x, C, S);
    assert.equal([got[0], got[1], got[2]], [S, 2.5, 0], `S = ${S}: a constant row`);
    assert.ok(Number.isNaN(got[7]) && Number.isNaN(got[8]), `S = ${S}: the NaN row stays NaN`);
    assert.ok(!Number.isFinite(got[13]) || Number.isNaN(got[14]), `S = ${S}: the Inf row is not finite`);
    agree(got, want, `S = ${S}`, [0, 2, 4]);
    // The tiny rows relative to their own M2 (agree's floor would hide an M2 of ~1e-57).
    for (const c of [6, 9]) assert.ok(Math.abs(got[3 * c + 2] - want[3 * c + 2]) <= 1e-5 * want[3 * c + 2], `S = ${S}, tiny row ${c}: ${got[3 * c + 2]} vs ${want[3 * c + 2]}`);
  }
});

test("channelStats at N = 1 and groupNorm's group rows (1, N·G, (C/G)·S), long rows", () => {
  for (const S of [64, 129, 130, 257, 1024]) {
    for (const C of [3, 8, 13]) {
      const shape = [1, C, 1, S], x = rows(C, S, 19 * S + C, C > 4 ? [2, 5] : []);
      const e = refStats(x, shape, "NCHW"), r = api.channelStats(x, { shape, layout: "NCHW" });
      close(r.mean, e.mean, 1e-5, 1e-6, "channelStats mean", shape, "NCHW");
      close(r.var, e.var, 1e-5, 1e-5, "channelStats var", shape, "NCHW");
    }
    const sh = [3, 8, 1, S], xs = rows(24, S, 23 * S), p = { groups: 4, eps: 1e-5 };
    const eg = refGroupNorm(xs, xs, sh, "NCHW", p), rg = api.groupNorm(xs, { shape: sh, layout: "NCHW", groups: 4 });
    close(rg.mean, eg.mean, 1e-5, 1e-6, "group mean", sh, "NCHW");
    close(rg.invstd, eg.invstd, 2e-4, 1e-4, "group invstd", sh, "NCHW");
  }
});

test.run();
