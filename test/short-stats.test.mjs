// Channels-first statistics of short rows against a float64 reference: bn_stats_f32_cf called
// on the raw wasm (so its contract — MERGE into the triples at acc — is tested with triples
// that already hold data, near zero and far from it), and channelStats / instanceNorm on top.
// Paths: N = 1, 4 ≤ S < 128 goes two rows at a time (assembly/cf_short_stats.ts: check and
// merge in f64x2 lanes; pairs far from zero summed around the mean of each row's first 4 values;
// a pair that fails the check or merges into data settled row by row with
// its sums, an odd last row through stats_block); N > 1 with N·S ≤ 2048 goes two channels at a
// time over their rows (the same file: a pair whose first values sit far from zero in channel
// order, an odd last channel too); longer channels sum up to 4096/S rows of a channel per block
// (rows_sq: a masked last vector per row, shifted or not; a block that fails the check is redone
// around its mean as one block); S < 4 keeps scalar rows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import * as api from "../dist/index.js";
import { refStats, refInstanceNorm, randomArray, exactTriples } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

/** Row lengths around every tail: scalar rows (< 4), the 4-wide body, the 16-wide unroll, 7 × 7. */
const S_LIST = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 49, 63, 64, 65, 127, 128];

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))),
  { env: { abort() { throw new Error("abort"); } } }).exports;

/** bn_stats_f32_cf(N, C, S) on x merged into the triples `prior` (C triples): the merged triples. */
function kernelStats(N, C, S, x, prior) {
  const base = (wasm.heap_base() + 63) & ~63, accAt = base + ((4 * x.length + 63) & ~63), scratch = accAt + ((24 * C + 63) & ~63), need = scratch + 24 * C;
  if (need > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((need - wasm.memory.buffer.byteLength) / 65536));
  new Float32Array(wasm.memory.buffer, base, x.length).set(x);
  new Float64Array(wasm.memory.buffer, accAt, 3 * C).set(prior);
  wasm.bn_stats_f32_cf(N, C, S, base, accAt, scratch);
  return new Float64Array(wasm.memory.buffer, accAt, 3 * C).slice();
}

/** Triples agree: counts exactly, means to 1e-6 of a standard deviation, M2 to 1e-5 relative (NaN with NaN). */
function sameTriples(got, want, what) {
  for (let c = 0; c < want.length / 3; c++) {
    const [n, m, m2] = want.subarray(3 * c, 3 * c + 3), [gn, gm, gm2] = got.subarray(3 * c, 3 * c + 3);
    const at = `${what}, channel ${c}: got (${gn}, ${gm}, ${gm2}), want (${n}, ${m}, ${m2})`;
    if (Number.isNaN(m2)) { assert.ok(Number.isNaN(gm2), at); continue; }
    assert.is(gn, n, at);
    const sd = Math.sqrt(m2 / n);
    assert.ok(Math.abs(gm - m) <= 1e-6 * sd + 1e-12 * Math.abs(m) + 1e-30, `${at} (mean)`);
    assert.ok(Math.abs(gm2 - m2) <= 1e-5 * m2 + 1e-30, `${at} (M2)`);
  }
}

/** Rows of channel c far from zero (|mean| ≫ std: shifted or redone) when c is in `far`. */
function rows(N, C, S, seed, far = []) {
  const x = randomArray(N * C * S, seed, { scale: 1 + (seed % 3) });
  for (const c of far) for (let r = 0; r < N; r++) for (let i = 0; i < S; i++) x[(r * C + c) * S + i] += 1e4;
  return x;
}

test("kernel: N = 1, C = 1 … 9 rows (odd and even counts), every S, fresh triples", () => {
  for (const S of S_LIST) {
    for (let C = 1; C <= 9; C++) {
      const x = rows(1, C, S, 10 * S + C);
      sameTriples(kernelStats(1, C, S, x, new Float64Array(3 * C)), exactTriples([{ x, N: 1 }], C, S), `(1, ${C}, ${S})`);
    }
  }
});

test("kernel: merging into triples that hold data, near zero and far from it (such pairs settled row by row)", () => {
  for (const S of S_LIST) {
    for (const [N, C] of [[1, 5], [1, 8], [2, 3], [3, 7]]) {
      const far = [1, C - 1];
      const first = rows(2, C, S, 20 * S + C, far), x = rows(N, C, S, 30 * S + C, far);
      const prior = exactTriples([{ x: first, N: 2 }], C, S);
      sameTriples(kernelStats(N, C, S, x, prior), exactTriples([{ x: first, N: 2 }, { x, N }], C, S), `(${N}, ${C}, ${S}) onto a prior chunk`);
      // Far rows with nothing merged yet: the first block fails the check and is redone around its mean.
      sameTriples(kernelStats(N, C, S, x, new Float64Array(3 * C)), exactTriples([{ x, N }], C, S), `(${N}, ${C}, ${S}) fresh, channels ${far} far`);
    }
  }
});

test("kernel: N = 2 … 9 (blocks of a channel's rows), every S, C = 1 … 9", () => {
  for (const S of S_LIST) {
    for (let C = 1; C <= 9; C += 2) {
      const N = 2 + ((S + C) % 8), x = rows(N, C, S, 40 * S + C);
      sameTriples(kernelStats(N, C, S, x, new Float64Array(3 * C)), exactTriples([{ x, N }], C, S), `(${N}, ${C}, ${S})`);
    }
  }
});

test("kernel: constant rows, NaN, ±Inf, huge and tiny rows next to ordinary ones (pairs that fail the check)", () => {
  for (const S of [4, 5, 49, 63, 65]) {
    const C = 9, x = rows(1, C, S, 50 + S);
    x.fill(2.5, 0, S);                                          // row 0: constant, paired with an ordinary row
    x[2 * S + S - 1] = NaN;                                     // row 2: NaN in the masked last vector
    x[4 * S] = Infinity;                                        // row 4: +Inf
    for (let i = 0; i < S; i++) x[5 * S + i] = 1e30 * (1 + i / S); // row 5: squares overflow f32
    for (let i = 0; i < S; i++) x[6 * S + i] = 1e-25 * (i % 3);     // row 6: squares underflow f32
    const got = kernelStats(1, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N: 1 }], C, S);
    assert.is(got[2], 0, `S = ${S}: a constant row has M2 = 0`);
    assert.ok(Number.isNaN(got[8]) && Number.isNaN(got[7]), `S = ${S}: the NaN row stays NaN`);
    assert.ok(Number.isNaN(got[14]) || got[13] === Infinity, `S = ${S}: the Inf row is not finite`);
    for (const c of [1, 3, 5, 6, 7, 8]) sameTriples(got.subarray(3 * c, 3 * c + 3), want.subarray(3 * c, 3 * c + 3), `S = ${S}, row ${c}`);
  }
});

test("kernel: N = 1, rows far from zero from some pair on (summed around their first values; each failing pair settled with its sums: redone around the row means, or exact), the awkward rows among them", () => {
  for (const S of [4, 5, 7, 8, 9, 16, 17, 49, 63, 64, 65, 127]) {
    for (const [offset, first] of [[3, 0], [1e4, 2], [1e6, 5], [-40, 3]]) {
      const C = 23 + (S & 1), x = rows(1, C, S, 80 + S + first);
      for (let r = first; r < C; r++) for (let i = 0; i < S; i++) x[r * S + i] = offset + x[r * S + i] * (1 + r % 3);
      const at = (r) => r * S;
      x.fill(offset, at(first + 2), at(first + 3));                 // a constant row at the offset
      x[at(first + 4) + (S >> 1)] = NaN;                             // NaN inside a far row
      x[at(first + 5) + S - 1] = Infinity;                           // +Inf in a masked last vector
      for (let i = 0; i < 4; i++) x[at(first + 6) + i] = offset + 50; // first values far from the row's mean: redone
      for (let i = 0; i < S; i++) x[at(first + 7) + i] = 1e-30 * (1 + (i % 5));  // tiny data: exact
      x.fill(0, at(first + 8), at(first + 9));                       // all zero
      for (let i = 0; i < S; i++) x[at(first + 9) + i] = Math.sin(i + 1); // near zero again
      for (let i = 0; i < S; i++) x[at(first + 10) + i] = 1e30 * (1 + i / S); // squares overflow f32
      const got = kernelStats(1, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N: 1 }], C, S);
      const what = `(1, ${C}, ${S}), offset ${offset} from row ${first}`;
      assert.is(got[3 * (first + 2) + 2], 0, `${what}: the constant row has M2 = 0`);
      assert.ok(Number.isNaN(got[3 * (first + 4) + 1]) && Number.isNaN(got[3 * (first + 4) + 2]), `${what}: the NaN row stays NaN`);
      assert.ok(!Number.isFinite(got[3 * (first + 5) + 2]), `${what}: the Inf row is not finite`);
      assert.equal([...got.subarray(3 * (first + 8), 3 * (first + 9))], [S, 0, 0], `${what}: the zero row`);
      tinyTriples(got.subarray(3 * (first + 7), 3 * (first + 8)), want.subarray(3 * (first + 7), 3 * (first + 8)), what);
      for (let c = 0; c < C; c++) {
        if (c === first + 4 || c === first + 5 || c === first + 7) continue;
        sameTriples(got.subarray(3 * c, 3 * c + 3), want.subarray(3 * c, 3 * c + 3), `${what}, row ${c}`);
      }
    }
  }
});

test("kernel: N > 1, one block a channel, channels in pairs: near and far partners, a failing partner, onto prior data, odd and wide C", () => {
  for (const S of [4, 7, 8, 9, 16, 17, 49, 64, 65, 127]) {
    for (const [N, C] of [[2, 64], [3, 65], [Math.floor(2048 / S), 12], [2, 1001]]) {
      // Channel 1 far (its partner 0 near), 2 and 3 both far, 4 constant next to an ordinary 5,
      // 6 near in its first 8 values and far after them (the pair's sums fail the check) next to
      // an ordinary 7, 8 to 10 ordinary, the last channel far (alone when C is odd).
      const far = [1, 2, 3, C - 1], x = rows(N, C, S, 7 * S + C + N, far);
      for (let n = 0; n < N; n++) x.fill(2.5, (n * C + 4) * S, (n * C + 5) * S);
      for (let n = 0; n < N; n++) for (let i = n ? 0 : 8; i < S; i++) x[(n * C + 6) * S + i] += 1e4;
      const what = `(${N}, ${C}, ${S})`, fresh = kernelStats(N, C, S, x, new Float64Array(3 * C));
      sameTriples(fresh, exactTriples([{ x, N }], C, S), `${what} fresh`);
      assert.is(fresh[14], 0, `${what}: the constant channel has M2 = 0`);
      const first = rows(N, C, S, 3 * S + C, far), prior = exactTriples([{ x: first, N }], C, S);
      sameTriples(kernelStats(N, C, S, x, prior), exactTriples([{ x: first, N }, { x, N }], C, S), `${what} onto a prior chunk`);
    }
  }
});

test("kernel: N > 1, a channel far from zero: summed around its first values, or its block redone around its mean (NaN, Inf, constant, tiny-variance and misleading first values)", () => {
  for (const S of [4, 5, 7, 8, 9, 16, 17, 49, 64, 65, 127, 784, 1024, 1500]) {
    const N = Math.min(12, Math.max(2, Math.floor(8192 / S))), C = 7, x = rows(N, C, S, 90 + S);
    const ch = (c, f) => { for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) x[(n * C + c) * S + i] = f(n, i, x[(n * C + c) * S + i]); };
    ch(0, (n, i, v) => 3 + v);                        // far: around its first values (S ≥ 8), else fails and is redone
    ch(1, (n, i, v) => 1e4 + 1e-3 * v);               // far with a tiny spread
    ch(2, (n, i, v) => (n === 1 && i === 2 ? NaN : 7 + v));
    ch(3, (n, i, v) => (n === N - 1 && i === S - 1 ? Infinity : -5 + v));
    ch(4, () => 2.5);                                 // constant
    ch(5, (n, i, v) => (n === 0 && i < 8 ? 50 + v : v)); // first values far, the rest near zero
    ch(6, (n, i, v) => (n === 0 && i === 1 ? NaN : 4 + v) + (n === 0 && i === 0 ? Infinity : 0));
    ch(3, (n, i, v) => (n === N - 1 && i === S - 1 ? Infinity : -5 + v));
    const C2 = 2, y = rows(N, C2, S, 95 + S); // squares that are f32 subnormals: Σd² ≠ 0 but < 2⁻¹⁰⁰, so exact
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) y[n * C2 * S + i] = 1e-22 * (1 + ((n * S + i) % 5));
    const gotY = kernelStats(N, C2, S, y, new Float64Array(3 * C2)), wantY = exactTriples([{ x: y, N }], C2, S);
    tinyTriples(gotY.subarray(0, 3), wantY.subarray(0, 3), `(${N}, ${C2}, ${S}), subnormal squares`);
    const got = kernelStats(N, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N }], C, S);
    const what = `(${N}, ${C}, ${S})`;
    assert.ok(Number.isNaN(got[8]), `${what}: the NaN channel stays NaN`);
    assert.ok(!Number.isFinite(got[11]), `${what}: the Inf channel is not finite`);
    assert.equal([got[12], got[13], got[14]], [N * S, 2.5, 0], `${what}: the constant channel`);
    assert.ok(Number.isNaN(got[20]), `${what}: the channel with NaN and Inf first stays NaN`);
    for (const c of [0, 1, 5]) sameTriples(got.subarray(3 * c, 3 * c + 3), want.subarray(3 * c, 3 * c + 3), `${what}, channel ${c}`);
  }
});

test("kernel: a zero channel but for a cancelling ±1e-30 pair at any position of its rows (the zero check reads every lane)", () => {
  for (const S of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 49]) {
    for (const N of [2, 3]) {
      for (let j = 0; j < S; j++) {
        // The pair at the same position of two rows (the first and last, or the second and last):
        // no other lane and no other row sees it.
        const C = 3, c = 1, x = rows(N, C, S, 11 * S + j), r0 = j % 2 && N > 2 ? 1 : 0;
        for (let n = 0; n < N; n++) x.fill(0, (n * C + c) * S, (n * C + c + 1) * S);
        x[(r0 * C + c) * S + j] = 1e-30; x[((N - 1) * C + c) * S + j] = -1e-30;
        const got = kernelStats(N, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N }], C, S);
        assert.ok(got[3 * c + 2] > 0, `(${N}, ${C}, ${S}), pair at ${j}: M2 = ${got[3 * c + 2]}, not 0`);
        tinyTriples(got.subarray(3 * c, 3 * c + 3), want.subarray(3 * c, 3 * c + 3), `(${N}, ${C}, ${S}), pair at ${j}`);
      }
    }
  }
});

test("kernel: N = 1 past 4 Mi values (rows of ≥ 96 values one after the other), odd and even counts, rows that fail the check", () => {
  for (const S of [95, 96, 97, 98, 99, 100, 127, 128, 129, 784, 4095, 4096]) {
    const C = Math.floor((4 << 20) / S) + 1 + (S & 1), x = rows(1, C, S, 70 + S);
    x.fill(2.5, 0, S);                                          // a constant row
    x[3 * S - 1] = NaN;                                         // NaN in row 2's masked last vector
    for (let i = 0; i < S; i++) x[5 * S + i] += 1e4;            // row 5 far from zero (stats_block)
    x.fill(0, 8 * S, 9 * S);                                    // an all-zero row
    x.fill(0, (C - 1) * S, C * S);                              // the last row (odd counts: alone)
    const got = kernelStats(1, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N: 1 }], C, S);
    assert.is(got[2], 0, `S = ${S}: a constant row has M2 = 0`);
    assert.ok(Number.isNaN(got[8]), `S = ${S}: the NaN row stays NaN`);
    for (let c = 0; c < C; c++) if (c !== 2) sameTriples(got.subarray(3 * c, 3 * c + 3), want.subarray(3 * c, 3 * c + 3), `(1, ${C}, ${S}), row ${c}`);
  }
});

test("kernel: N > 1, data whose squares underflow f32 (at 1e-30, ±1e-30 with sums that cancel to 0), constant channels", () => {
  const cases = [
    ["at 1e-30", (i) => 1e-30 * (1 + ((i * 7) % 11) / 4)],
    ["±1e-30", (i) => (i % 2 ? 1e-30 : -2e-30) * (1 + (i % 3))],
    ["pairs ±a", (i) => (i % 2 ? 1 : -1) * 1e-30 * (1 + (i >> 1) % 5)], // rows whose f32 sum is exactly 0
  ];
  for (const [name, f] of cases) {
    for (const S of [4, 5, 6, 7, 8, 9, 16, 17, 49]) {
      for (const [N, C] of [[22, 3], [30, 3], [9, 1], [2, 5]]) {
        const x = Float32Array.from({ length: N * C * S }, (_, i) => f(i));
        const got = kernelStats(N, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N }], C, S);
        // sameTriples' absolute floor (1e-30) would hide these: M2 is ~1e-59, compared relatively.
        for (let c = 0; c < C; c++) {
          const [n, m, m2] = want.subarray(3 * c, 3 * c + 3), [gn, gm, gm2] = got.subarray(3 * c, 3 * c + 3);
          const at = `${name} (${N}, ${C}, ${S}), channel ${c}: got (${gn}, ${gm}, ${gm2}), want (${n}, ${m}, ${m2})`;
          assert.ok(gn === n && Math.abs(gm - m) <= 1e-6 * Math.abs(m) + 1e-6 * Math.sqrt(m2 / n) && Math.abs(gm2 - m2) <= 1e-5 * m2, at);
        }
      }
    }
  }
  // Constant channels (0, and a value the running mean becomes): M2 exactly 0.
  for (const S of [4, 7, 49]) {
    const N = 12, C = 2, x = new Float32Array(N * C * S);
    for (let r = 0; r < N; r++) x.fill(2.5, (r * C + 1) * S, (r * C + 2) * S);
    const got = kernelStats(N, C, S, x, new Float64Array(3 * C));
    assert.equal([got[2], got[4], got[5]], [0, 2.5, 0], `S = ${S}: constant channels`);
  }
});

/** Relative check of triples whose M2 is ~1e-59 (sameTriples' absolute floor of 1e-30 would hide it). */
function tinyTriples(got, want, what) {
  for (let c = 0; c < want.length / 3; c++) {
    const [n, m, m2] = want.subarray(3 * c, 3 * c + 3), [gn, gm, gm2] = got.subarray(3 * c, 3 * c + 3);
    const at = `${what}, row ${c}: got (${gn}, ${gm}, ${gm2}), want (${n}, ${m}, ${m2})`;
    assert.ok(gn === n && Math.abs(gm - m) <= 1e-6 * Math.abs(m) + 1e-6 * Math.sqrt(m2 / n) && Math.abs(gm2 - m2) <= 1e-5 * m2, at);
  }
}

test("kernel: N = 1, data whose squares underflow f32 (sums that cancel to 0), next to all-zero rows", () => {
  const cases = [
    ["pairs ±a", (i) => (i % 2 ? 1 : -1) * 1e-30 * (1 + (i >> 1) % 5)], // rows whose f32 sum is exactly 0
    ["±1e-30", (i) => (i % 2 ? 1e-30 : -2e-30) * (1 + (i % 3))],
    ["at 1e-30", (i) => 1e-30 * (1 + ((i * 7) % 11) / 4)],
  ];
  for (const [name, f] of cases) {
    for (const S of [4, 5, 6, 7, 8, 9, 15, 16, 17, 49, 63, 64, 65, 127]) {
      for (const C of [1, 2, 3, 5, 8]) {
        // Row 1 (when C > 2) all zero, one of them −0: M2 exactly 0 there, the tiny rows exact.
        const x = Float32Array.from({ length: C * S }, (_, i) => (C > 2 && (i / S | 0) === 1 ? (i % 3 ? 0 : -0) : f(i + S)));
        const got = kernelStats(1, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N: 1 }], C, S);
        if (C > 2) assert.equal([...got.subarray(3, 6)], [S, 0, 0], `${name} S = ${S}: the zero row`);
        tinyTriples(got, want, `${name} (1, ${C}, ${S})`);
      }
    }
  }
});

test("instanceNorm with eps 0 on short rows of ±1e-30 whose sums cancel: finite invstd and y", () => {
  for (const S of [4, 5, 9, 16, 17, 49, 64, 65]) {
    for (const [N, C] of [[1, 1], [1, 3], [2, 3], [3, 5]]) {
      const shape = [N, C, 1, S], x = Float32Array.from({ length: N * C * S }, (_, i) => (i % 2 ? 1 : -1) * 1e-30 * (1 + (i >> 1) % 5));
      const e = refInstanceNorm(x, x, shape, "NCHW", { eps: 0 }), r = api.instanceNorm(x, { shape, layout: "NCHW", eps: 0 });
      assert.ok(r.invstd.every(Number.isFinite) && r.y.every(Number.isFinite), `(${shape}): invstd ${r.invstd.slice(0, 3)}, y ${r.y.slice(0, 3)}`);
      close(r.invstd, e.invstd, 0, 1e-4, "instance invstd", shape, "NCHW");
      close(r.y, e.y, 2e-4, 1e-4, "instance y", shape, "NCHW");
    }
  }
});

test("channelStats and instanceNorm on short rows, N = 1, odd and even row counts", () => {
  for (const S of [4, 5, 9, 16, 17, 49, 63, 64, 65]) {
    for (const C of [1, 3, 7, 9, 8 + Math.ceil(1100 / S)]) {
      const shape = [1, C, 1, S], x = rows(1, C, S, 60 * S + C, C > 2 ? [2] : []);
      const e = refStats(x, shape, "NCHW"), r = api.channelStats(x, { shape, layout: "NCHW" });
      close(r.mean, e.mean, 1e-5, 1e-6, "channelStats mean", shape, "NCHW");
      close(r.var, e.var, 1e-5, 1e-5, "channelStats var", shape, "NCHW");
      const N = 1 + (S % 2), xs = rows(N, C, S, 70 * S + C), sh = [N, C, 1, S]; // N·C odd and even
      const ei = refInstanceNorm(xs, xs, sh, "NCHW", { eps: 1e-5 }), ri = api.instanceNorm(xs, { shape: sh, layout: "NCHW" });
      close(ri.mean, ei.mean, 1e-5, 1e-6, "instance mean", sh, "NCHW");
      close(ri.invstd, ei.invstd, 2e-4, 1e-4, "instance invstd", sh, "NCHW");
      close(ri.y, ei.y, 2e-4, 1e-4, "instance y", sh, "NCHW");
    }
  }
});

test.run();
