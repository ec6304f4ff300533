// The one-pass instance- and group-norm forward on short channels-first rows
// (gn_forward_short_f32_cf, assembly/gn_forward.ts: tiles of ≤ 64 statistics, stats_rows_short
// per tile, parameters, normalize_short from L1) against the four kernels it replaces —
// bn_stats_f32_cf on the (1, N·G, (C/G)·S) view, gn_params_finish_f32, gn_params_f32,
// bn_normalize_f32_cf — value for value, on the raw wasm; and instanceNorm / groupNorm against
// the float64 reference across tile boundaries.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import * as api from "../dist/index.js";
import { refInstanceNorm, refGroupNorm, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))),
  { env: { abort() { throw new Error("abort"); } } }).exports;

/** Row lengths around the 4-wide body's tails and the tile size (64 rows up to S = 64, then 4096/S). */
const S_LIST = [4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 100, 127];
/** (N, C): row counts 1–3, around one and two tiles (63–65, 127–129), C = 1 … 9 and 64. */
const NC = [[1, 1], [1, 2], [3, 1], [1, 9], [7, 9], [8, 8], [13, 5], [1, 64], [2, 64], [43, 3], [16, 8], [3, 43], [2, 64]];

/** Memory for the call: x, y, gamma, beta, the outputs with a canary past their end, and scratch. */
function layout(R, S, C, K) {
  let top = (wasm.heap_base() + 63) & ~63;
  const take = (bytes) => { const p = top; top = (top + bytes + 16 + 63) & ~63; return p; };
  const L = { x: take(4 * R * S), y: take(4 * R * S), g: take(4 * C), b: take(4 * C), st: take(24 * K), mh: take(4 * K), ml: take(8 * K), mi: take(8 * K), mf: take(4 * K), pp: take(12 * R), mh2: take(4 * K + 4), mf2: take(4 * K + 4), scr: take(2560 + 12 * Math.max(64, Math.floor(8192 / S) + 3)) };
  if (top > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((top - wasm.memory.buffer.byteLength) / 65536));
  return L;
}

/** Both paths on x ((N, C, S) rows, G groups; y = x when inPlace): [y, mean, invstd] of each. */
function bothPaths(N, C, S, x, gamma, beta, inPlace, G = C) {
  const R = N * C, K = N * G, L = layout(R, S, C, K), F = () => new Float32Array(wasm.memory.buffer), eps = 1e-5;
  F().set(gamma, L.g >>> 2); F().set(beta, L.b >>> 2);
  // The four kernels.
  F().set(x, L.x >>> 2);
  new Float64Array(wasm.memory.buffer, L.st, 3 * K).fill(0);
  wasm.bn_stats_f32_cf(1, K, (C / G) * S, L.x, L.st);
  wasm.gn_params_finish_f32(K, L.st, eps, L.mh, L.ml, L.mi, L.mf);
  wasm.gn_params_f32(N, C, G, L.mh, L.ml, L.mi, L.g, L.b, L.pp, L.pp + 4 * R, L.pp + 8 * R);
  wasm.bn_normalize_f32_cf(1, R, S, L.x, L.pp, L.pp + 4 * R, L.pp + 8 * R, L.y);
  const want = [F().slice(L.y >>> 2, (L.y >>> 2) + R * S), F().slice(L.mh >>> 2, (L.mh >>> 2) + K), F().slice(L.mf >>> 2, (L.mf >>> 2) + K)];
  // One pass; canaries after y, and after mean and invstd (N·G + 1 values each: the kernel may
  // write the one past N·G).
  F().set(x, L.x >>> 2);
  const y = inPlace ? L.x : L.y;
  for (const [p, n] of [[y, R * S], [L.mh2, K + 1], [L.mf2, K + 1]]) F()[(p >>> 2) + n] = 12345;
  wasm.gn_forward_short_f32_cf(N, C, G, S, L.x, L.g, L.b, y, eps, L.mh2, L.mf2, L.scr);
  for (const [p, n] of [[y, R * S], [L.mh2, K + 1], [L.mf2, K + 1]]) assert.is(F()[(p >>> 2) + n], 12345, `nothing written past the end (N ${N}, C ${C}, G ${G}, S ${S})`);
  const got = [F().slice(y >>> 2, (y >>> 2) + R * S), F().slice(L.mh2 >>> 2, (L.mh2 >>> 2) + K), F().slice(L.mf2 >>> 2, (L.mf2 >>> 2) + K)];
  return [got, want];
}

function same(got, want, what) {
  const names = ["y", "mean", "invstd"];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < want[k].length; i++) {
      if (!Object.is(got[k][i], want[k][i])) assert.unreachable(`${what}: ${names[k]}[${i}] = ${got[k][i]}, the four kernels give ${want[k][i]}`);
    }
  }
}

test("kernel: the same values as the four kernels, every S, 1 … 129 rows, in place and not", () => {
  for (const S of S_LIST) {
    for (const [N, C] of NC) {
      const x = randomArray(N * C * S, S + 31 * C + N, { scale: 1 + (S % 3) });
      const gamma = randomArray(C, S + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, S + 2, { scale: 0.5 });
      const [got, want] = bothPaths(N, C, S, x, gamma, beta, (N + C) % 2 === 0);
      same(got, want, `(${N}, ${C}, ${S})`);
    }
  }
});

test("kernel: rows that fail the check (far from zero, constant, NaN, ±Inf, huge, tiny) next to ordinary ones", () => {
  const special = [(r) => r.fill(2.5), (r) => r.fill(0), (r) => { r[r.length - 1] = NaN; }, (r) => { r[0] = Infinity; }, (r) => { r[1] = -Infinity; },
    (r) => r.forEach((v, i) => { r[i] = v * 1e20; }), (r) => r.forEach((v, i) => { r[i] = v * 1e-25; }), (r) => r.forEach((v, i) => { r[i] = v + 1e4; }), (r) => r.forEach((v, i) => { r[i] = v + 3; })];
  for (const S of [4, 5, 7, 9, 16, 17, 49, 65, 127]) {
    for (const [N, C] of [[1, 9], [7, 9], [13, 5], [2, 64]]) {
      const R = N * C, x = randomArray(R * S, 3 * S + R);
      for (let r = 0; r < R; r++) if ((r * 7 + S) % 3 === 0) special[(r + S) % special.length](x.subarray(r * S, (r + 1) * S));
      const gamma = randomArray(C, 5, { offset: 1 }), beta = randomArray(C, 6);
      const [got, want] = bothPaths(N, C, S, x, gamma, beta, R % 2 === 1);
      same(got, want, `(${N}, ${C}, ${S}) with special rows`);
    }
  }
});

/**
 * Group norm (N, C, G): C/G = 2, 3, 4, 8, 16, 32, 64; statistics counts 1–3 and around the tile
 * (⌊8192 / ((C/G)·S)⌋ rounded down to even, 2 … 64), sample boundaries inside a tile (G not
 * dividing the tile), groups of up to 4096 values.
 */
const GROUPS = [[1, 2, 1], [1, 4, 2], [3, 6, 2], [1, 6, 3], [21, 4, 2], [41, 4, 2], [5, 24, 8], [7, 9, 3], [13, 12, 4], [33, 8, 1], [2, 64, 2], [3, 64, 1], [1, 64, 32], [5, 96, 32], [66, 2, 1]];

test("kernel, group norm: the same values as the four kernels, every S, groups of 2–64 channels, in place and not", () => {
  for (const S of S_LIST) {
    for (const [N, C, G] of GROUPS) {
      if ((C / G) * S > 4096) continue;
      const x = randomArray(N * C * S, S + 37 * C + N + G, { scale: 1 + (S % 3) });
      const gamma = randomArray(C, S + 3, { offset: 1, scale: 0.3 }), beta = randomArray(C, S + 4, { scale: 0.5 });
      const [got, want] = bothPaths(N, C, S, x, gamma, beta, (N + G) % 2 === 0, G);
      same(got, want, `(${N}, ${C}, ${S}), G = ${G}`);
    }
  }
});

test("kernel, group norm past 4 Mi values (group rows summed one after the other): the same values as the four kernels", () => {
  for (const [N, C, G, S] of [[21401, 4, 2, 49], [2049, 32, 1, 64]]) {
    const x = randomArray(N * C * S, N + S, { offset: 0.5, scale: 1.5 });
    const gamma = randomArray(C, 9, { offset: 1, scale: 0.3 }), beta = randomArray(C, 10, { scale: 0.5 });
    const [got, want] = bothPaths(N, C, S, x, gamma, beta, false, G);
    same(got, want, `(${N}, ${C}, ${S}), G = ${G}`);
  }
});

test("kernel, group norm: groups that fail the check next to ordinary ones", () => {
  for (const S of [4, 7, 17, 49, 127]) {
    for (const [N, C, G] of [[7, 9, 3], [41, 4, 2], [5, 24, 8]]) {
      const per = (C / G) * S, K = N * G, x = randomArray(K * per, 5 * S + K);
      for (let q = 0; q < K; q++) {
        const r = x.subarray(q * per, (q + 1) * per);
        if (q % 3 === 1) r.forEach((v, i) => { r[i] = v + 1e4; });
        else if (q % 5 === 2) r.fill(0);
        else if (q % 7 === 3) r[per - 1] = NaN;
      }
      const gamma = randomArray(C, 7, { offset: 1 }), beta = randomArray(C, 8);
      const [got, want] = bothPaths(N, C, S, x, gamma, beta, K % 2 === 1, G);
      same(got, want, `(${N}, ${C}, ${S}), G = ${G}, with special groups`);
    }
  }
});

test("groupNorm on short rows across tile and sample boundaries against the float64 reference", () => {
  // The last shape is past 2²¹ values, where groupNorm takes the one-pass kernel.
  for (const [shape, groups, seed] of [[[41, 4, 7, 7], 2, 1], [[3, 64, 3, 3], 32, 2], [[5, 24, 1, 17], 8, 3], [[2, 64, 8, 8], 1, 4], [[7, 9, 2, 2], 3, 5], [[7135, 6, 7, 7], 2, 6]]) {
    const x = randomArray(shape.reduce((a, b) => a * b), seed, { scale: 2, offset: 0.5 });
    const gamma = randomArray(shape[1], seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(shape[1], seed + 2);
    const e = refGroupNorm(x, null, shape, "NCHW", { eps: 1e-5, groups, gamma, beta });
    const meanOut = new Float32Array(shape[0] * groups), invstdOut = new Float32Array(meanOut.length);
    const r = api.groupNorm(x, { shape, layout: "NCHW", groups, gamma, beta, meanOut, invstdOut });
    close(r.y, e.y, 2e-4, 1e-4, "y", shape, "NCHW");
    close(r.mean, e.mean, 1e-5, 1e-6, "mean", shape, "NCHW");
    close(r.invstd, e.invstd, 2e-4, 1e-4, "invstd", shape, "NCHW");
  }
});

test("instanceNorm on short rows across tile boundaries (odd row counts, no gamma / beta) against the float64 reference", () => {
  for (const [shape, seed] of [[[13, 5, 7, 7], 1], [[1, 65, 3, 3], 2], [[3, 43, 2, 2], 3], [[129, 1, 127, 1], 4], [[5, 13, 1, 65], 5]]) {
    const x = randomArray(shape.reduce((a, b) => a * b), seed, { scale: 2 });
    const e = refInstanceNorm(x, x, shape, "NCHW", { eps: 1e-5 });
    const meanOut = new Float32Array(shape[0] * shape[1]), invstdOut = new Float32Array(meanOut.length);
    const r = api.instanceNorm(x, { shape, layout: "NCHW", meanOut, invstdOut });
    assert.is(r.mean, meanOut); assert.is(r.invstd, invstdOut);
    close(r.y, e.y, 2e-4, 1e-4, "y", shape, "NCHW");
    close(r.mean, e.mean, 1e-5, 1e-6, "mean", shape, "NCHW");
    close(r.invstd, e.invstd, 2e-4, 1e-4, "invstd", shape, "NCHW");
  }
});

test.run();
