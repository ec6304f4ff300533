// Channels-last statistics (bn_stats_f32_cl) of data whose f32 squares underflow: values within
// 2⁻⁷⁵ of zero (±1e-30, denormals) whose block sums cancel to exactly 0 (Σd = Σd² = 0) must not be
// taken as variance 0; all-zero channels and channels equal to a non-zero constant keep M2 = 0
// exactly. The kernel is called on the raw wasm with fresh triples, over tensors of one block and
// of several (blocks of ≥ 256 super-rows and ≥ 4096 values) with a tail of rows; channelStats and
// batchNormTrain (eps 0) on top, channels-last and channels-first rows of < 16 values
// (pseudo-channels: the same kernel).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import * as api from "../dist/index.js";
import { refStats, refBnTrain, geometry, coords, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))),
  { env: { abort() { throw new Error("abort"); } } }).exports;

/** The kernel's lane pattern length (assembly/common.ts pattern_len). */
function patternLen(C) {
  if (C > 1024) return C;
  let a = C, b = 4;
  while (b) [a, b] = [b, a % b];
  let L = (C / a) * 4;
  while (L & 15) L *= 2;
  return L <= 1024 ? L : C;
}

/** bn_stats_f32_cl(R, C) on x into fresh triples: the C triples. */
function kernelStats(R, C, x) {
  const base = (wasm.heap_base() + 63) & ~63, accAt = base + ((4 * x.length + 63) & ~63);
  const scratch = accAt + ((24 * C + 63) & ~63), need = scratch + 12 * (patternLen(C) + 4) + 16 * C;
  if (need > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((need - wasm.memory.buffer.byteLength) / 65536));
  new Float32Array(wasm.memory.buffer, base, x.length).set(x);
  new Float64Array(wasm.memory.buffer, accAt, 3 * C).fill(0);
  wasm.bn_stats_f32_cl(R, C, base, accAt, scratch);
  return new Float64Array(wasm.memory.buffer, accAt, 3 * C).slice();
}

/** Exact (count, mean, M2) per channel of R rows of C, in f64. */
function exactTriples(R, C, x) {
  const out = new Float64Array(3 * C);
  for (let c = 0; c < C; c++) {
    let s = 0, m2 = 0;
    for (let r = 0; r < R; r++) s += x[r * C + c];
    const m = s / R;
    for (let r = 0; r < R; r++) { const d = x[r * C + c] - m; m2 += d * d; }
    out.set([R, m, m2], 3 * c);
  }
  return out;
}

/**
 * Channel kinds: all zero (some −0), alternating ±1e-30 (block sums cancel exactly), alternating
 * denormals, a non-zero constant, ordinary data. Value of row r of a channel of kind k.
 */
const KINDS = ["zero", "±1e-30", "±denormal", "constant 2.5", "ordinary"];
function value(kind, r, c, noise) {
  switch (kind) {
    case 0: return r % 3 ? 0 : -0;
    case 1: return (r % 2 ? 1e-30 : -1e-30) * (1 + (c % 3));
    case 2: return r % 2 ? 3e-42 : -3e-42;
    case 3: return 2.5;
    default: return noise;
  }
}

/** Triples agree relatively (M2 ~1e-60 counts): counts exactly, mean to 1e-6 of |mean| + sd, M2 to 1e-5; kinds 0 and 3 exactly. */
function sameTriples(got, want, kindOf, what) {
  for (let c = 0; c < want.length / 3; c++) {
    const [n, m, m2] = want.subarray(3 * c, 3 * c + 3), [gn, gm, gm2] = got.subarray(3 * c, 3 * c + 3);
    const at = `${what}, channel ${c} (${KINDS[kindOf(c)]}): got (${gn}, ${gm}, ${gm2}), want (${n}, ${m}, ${m2})`;
    if (kindOf(c) === 0 || kindOf(c) === 3) { assert.equal([gn, gm, gm2], [n, m, 0], at); continue; }
    assert.ok(gn === n && Math.abs(gm - m) <= 1e-6 * (Math.abs(m) + Math.sqrt(m2 / n)) && Math.abs(gm2 - m2) <= 1e-5 * m2, at);
  }
}

/** Row counts for C: one block (with a tail when rows of a super-row > 1) and 2–3 blocks with a tail. */
function rowCounts(C) {
  const L = patternLen(C), per = L / C, SB = Math.max(Math.floor(4096 / L), 256);
  return [3 * per + (per > 1 ? 1 : 0), SB * per, 2 * SB * per + 3 * per + per - 1, Math.floor(2.5 * SB) * per + 1];
}

test("kernel: channels-last C in 1…9, 15–17, 63–65, 1027, one block and several, tiny, denormal, zero and constant channels", () => {
  for (const C of [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1027]) { // 1027: rows are the pattern, L mod 4 = 3
    for (const R of rowCounts(C)) {
      for (let v = 0; v < (C < 5 ? 5 : 1); v++) {
        const kindOf = (c) => (c + v) % 5, noise = randomArray(R * C, R + C + v);
        const x = Float32Array.from({ length: R * C }, (_, i) => value(kindOf(i % C), (i / C) | 0, i % C, noise[i]));
        sameTriples(kernelStats(R, C, x), exactTriples(R, C, x), kindOf, `R = ${R}, C = ${C}, v = ${v}`);
      }
    }
  }
});

test("kernel: an all-zero channel next to ±1e-30 channels and a far-from-zero channel (blocks redone)", () => {
  for (const C of [3, 8, 64]) {
    for (const R of rowCounts(C)) {
      const noise = randomArray(R * C, C + R), kindOf = (c) => (c === C - 1 ? 4 : c % 2);
      const x = Float32Array.from({ length: R * C }, (_, i) => (i % C === C - 1 ? 1e4 + noise[i] : value(kindOf(i % C), (i / C) | 0, i % C, 0)));
      sameTriples(kernelStats(R, C, x), exactTriples(R, C, x), kindOf, `R = ${R}, C = ${C}, channel ${C - 1} at 1e4`);
    }
  }
});

test("kernel: a channel zero but for a cancelling pair of ±1e-30 deep in a block (the zero check goes in 16 KiB chunks of rows)", () => {
  for (const C of [4, 5, 16, 64, 96, 256]) {
    const L = patternLen(C), per = L / C, SB = Math.max(Math.floor(4096 / L), 256), chunk = Math.max(1, Math.floor(16384 / (4 * L)));
    const inBlock = (i) => Math.min(i, SB - 2); // both super-rows in the first block
    for (const [at, R] of [[inBlock(chunk - 1), SB * per + 3], [inBlock(chunk), SB * per + 3], [inBlock(2 * chunk + 1), SB * per + 3],
      [SB - 2, SB * per], [SB - 2, 2 * SB * per + 1]]) {
      const c = C > 2 ? 2 : 0, noise = randomArray(R * C, C + at);
      const x = Float32Array.from({ length: R * C }, (_, i) => (i % C === c ? 0 : noise[i]));
      // Row `per − 1` of super-row `at` and of the next one (the last of the first block when
      // at = SB − 2): the same lane, c + (per − 1)·C, past the first group when per > 1.
      x[(at * per + per - 1) * C + c] = 1e-30;
      x[((at + 1) * per + per - 1) * C + c] = -1e-30; // Σd = 0, Σd² underflows to 0
      if (per > 1 && at === SB - 2) { // also a pair inside the block's last super-row alone (two of its rows)
        const y = x.slice(), last = (SB - 1) * per;
        y[(at * per + per - 1) * C + c] = 0; y[((at + 1) * per + per - 1) * C + c] = 0;
        y[last * C + c] = 1e-30; y[(last + 1) * C + c] = -1e-30;
        const gy = kernelStats(R, C, y);
        assert.ok(gy[3 * c + 2] > 0, `C = ${C}, R = ${R}, pair in the last super-row: M2 = ${gy[3 * c + 2]}, not 0`);
      }
      const got = kernelStats(R, C, x), want = exactTriples(R, C, x), kindOf = (ch) => (ch === c ? 1 : 4);
      assert.ok(got[3 * c + 2] > 0, `C = ${C}, pair at super-row ${at}: M2 = ${got[3 * c + 2]}, not 0`);
      sameTriples(got, want, kindOf, `C = ${C}, pair at super-row ${at} (chunks of ${chunk})`);
    }
  }
});

test("kernel: dead (all-zero) channels among ordinary ones keep mean 0 and M2 0 exactly, one block and several", () => {
  for (const C of [3, 8, 64, 65, 256]) {
    for (const R of rowCounts(C)) {
      const noise = randomArray(R * C, 7 * C + R), kindOf = (c) => (c % 3 === 1 ? 0 : 4);
      const x = Float32Array.from({ length: R * C }, (_, i) => (kindOf(i % C) === 0 ? 0 : Math.max(0, noise[i])));
      sameTriples(kernelStats(R, C, x), exactTriples(R, C, x), kindOf, `R = ${R}, C = ${C}, dead channels`);
    }
  }
});

/** The shapes of the brief: pseudo-channels (channels-first rows of < 16 values), NC, channels-last. */
const SHAPES = [[[64, 2, 3], "NCL"], [[200, 1, 2], "NCL"], [[64, 3], "NC"], [[32, 2, 3], "NLC"], [[8, 4, 4, 3], "NHWC"],
  [[300, 2, 5], "NCL"], [[4, 64, 64, 5], "NHWC"], [[2, 40, 40, 17], "NHWC"]];

/** ±1e-30 alternating along each channel's sequence (sign by n + s), magnitude by channel. */
function tinyData(shape, layout, scale = 1e-30) {
  const g = geometry(shape, layout), n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => { const q = coords(i, g); return ((q.n + q.s) % 2 ? scale : -scale) * (1 + (q.c % 3)); });
}

test("channelStats on ±1e-30 and denormal data whose sums cancel: the float64 variance", () => {
  for (const [shape, layout] of SHAPES) {
    for (const scale of [1e-30, 3e-42]) {
      const x = tinyData(shape, layout, scale), e = refStats(x, shape, layout), r = api.channelStats(x, { shape, layout });
      close(r.mean, e.mean, 1e-6 * scale, 0, "channelStats mean", shape, layout);
      close(r.var, e.var, 0, 1e-5, `channelStats var (${scale})`, shape, layout);
    }
  }
});

test("batchNormTrain with eps 0 on ±1e-30 data: finite invstd ≈ 1e30 and finite y", () => {
  for (const [shape, layout] of SHAPES) {
    const x = tinyData(shape, layout), C = geometry(shape, layout).C;
    const p = { eps: 0, momentum: 0.1, runningMean: new Float64Array(C), runningVar: new Float64Array(C).fill(1) };
    const e = refBnTrain(x, shape, layout, p);
    const r = api.batchNormTrain(x, { shape, layout, eps: 0, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
    assert.ok(r.saveInvstd.every(Number.isFinite) && r.y.every(Number.isFinite), `${layout} ${shape}: invstd ${r.saveInvstd.slice(0, 3)}, y ${r.y.slice(0, 3)}`);
    close(r.saveInvstd, e.saveInvstd, 0, 1e-4, "saveInvstd", shape, layout);
    close(r.y, e.y, 2e-4, 1e-4, "y", shape, layout);
  }
});

test.run();
