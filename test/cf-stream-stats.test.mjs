// Channels-first statistics of short rows past the caches (N > 1, 4 ≤ S < 1024, more than 1 Mi
// values; rows of 48–127 values of up to 128 channels more than 256 Ki): rows summed in memory order into per-channel f32x4 lanes, folded and merged per block
// of ≤ 4096/S samples (stats_cf_stream, assembly/cf_stream_stats.ts). Against float64: rows
// around the SIMD tails (S = 4 … 1023), partial last blocks, C = 1 … 1259, channels far from zero
// (shifted after the first block), drifting channels (blocks fail the check and go row by row),
// constant, zero, tiny, NaN and overflowing channels, merges into triples that hold data, and the
// 36·C bytes of scratch.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refStats, randomArray, exactTriples } from "./reference.mjs";
import { close } from "./helpers.mjs";
import { cfStats, agreeTriples as agree, agreeFreshAndOnPrior } from "./stats-kernel.mjs";

await api.init();
/** The kernel on (N, C, S) x merged into `prior` (C triples), with its 36·C bytes of scratch. */
const kernel = (N, C, S, x, prior) => cfStats(N, C, S, x, prior, 36 * C);

/**
 * Each shape just past 1 Mi values (2²⁰), or rows of 48–127 values of ≤ 128 channels past 256 Ki
 * (2¹⁸), N not a multiple of the 4096/S-sample block.
 */
const SHAPES = [[21400, 1, 49], [7134, 3, 49], [87382, 3, 4], [29128, 4, 9], [20561, 3, 17], [5462, 3, 64], [2731, 6, 65], [1026, 1, 1023], [3, 512, 683], [17, 1259, 49],
  [1338, 4, 49], [101, 128, 49], [41, 64, 127], [1366, 4, 48]];

/** (N, C, S) values; channel c moved by offsets[c] (a number, or a function of the sample n). */
function data(N, C, S, seed, offsets = {}) {
  const x = randomArray(N * C * S, seed, { scale: 1 + (seed % 3) });
  for (const [c, o] of Object.entries(offsets)) {
    if (+c >= C) continue;
    for (let n = 0; n < N; n++) {
      const v = typeof o === "function" ? o(n) : o, at = (n * C + +c) * S;
      for (let i = 0; i < S; i++) x[at + i] += v;
    }
  }
  return x;
}

test("kernel past the caches: fresh triples and triples holding data, rows around the tails", () => {
  for (const [N, C, S] of SHAPES) {
    agreeFreshAndOnPrior(kernel, N, C, S, data(N, C, S, N + 7 * C + S), data(2, C, S, S + 3), `(${N}, ${C}, ${S})`);
  }
});

test("kernel past the caches: channels far from zero (1e4, 1e6, −3e5) and drifting ones", () => {
  for (const [N, C, S] of SHAPES) {
    if (C < 2) continue;
    for (const offset of [1e4, 1e6, -3e5]) {
      // Channel 0 far (shifted after its first block), the last channel drifting by 40 a sample
      // (every block fails the check), channel 1 by 0.002 a sample (a late block fails).
      const offsets = { 0: offset, [C - 1]: (n) => offset + 40 * n, 1: (n) => (C > 2 ? offset + 0.002 * n : offset) };
      const x = data(N, C, S, S + C, offsets);
      agree(kernel(N, C, S, x, new Float64Array(3 * C)), exactTriples([{ x, N }], C, S), `(${N}, ${C}, ${S}) at ${offset}`);
      const first = data(1, C, S, S + 9, { 0: offset }), prior = exactTriples([{ x: first, N: 1 }], C, S);
      agree(kernel(N, C, S, x, prior), exactTriples([{ x: first, N: 1 }, { x, N }], C, S), `(${N}, ${C}, ${S}) at ${offset} onto a prior chunk`);
    }
  }
});

test("kernel past the caches: constant, zero, −0, tiny, NaN and overflowing channels among ordinary ones", () => {
  for (const [N, S] of [[11651, 10], [2380, 49], [1033, 113], [1025, 113]]) {
    const C = 9, x = data(N, C, S, 17 + S), row = (n, c) => (n * C + c) * S;
    for (let n = 0; n < N; n++) {
      x.fill(5.25, row(n, 0), row(n, 0) + S);                                   // constant far from zero
      x.fill(n & 1 ? -0 : 0, row(n, 1), row(n, 1) + S);                         // zeros and −0
      for (let i = 0; i < S; i++) x[row(n, 2) + i] = 1e-30 * ((i + n) % 3);     // squares underflow f32
      for (let i = 0; i < S; i++) x[row(n, 3) + i] = (i % 2 ? 1 : -1) * 1e-30 * (1 + ((i >> 1) % 5)); // sums cancel
      for (let i = 0; i < S; i++) x[row(n, 6) + i] = 1e30 * (1 + i / S);        // squares overflow f32
    }
    x.fill(3, row(N - 1, 4), row(N - 1, 4) + S);                                // a constant last row
    x[row(N >> 1, 5) + S - 1] = NaN;                                            // NaN in a row's last value (the tail vector)
    const got = kernel(N, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N }], C, S);
    assert.equal([...got.subarray(0, 3)], [N * S, 5.25, 0], `(${N}, ${C}, ${S}): the constant channel`);
    assert.equal([...got.subarray(3, 6)], [N * S, 0, 0], `(${N}, ${C}, ${S}): the zero channel`);
    assert.ok(Number.isNaN(got[17]), `(${N}, ${C}, ${S}): the NaN channel stays NaN`);
    agree(got, want, `(${N}, ${C}, ${S})`, [5]);
  }
});

test("channelStats on (N, C, 7, 7) and (N, 2100, 1, 5) past the caches against float64", () => {
  // (100, 2100, 1, 5): wider than 2048 channels, where 36·C bytes exceed the channels-last kernels' scratch.
  // (200, 64, 7, 7), (1338, 4, 7, 7): streamed between 256 Ki and 1 Mi values (`streamed`).
  for (const [N, C, H, W] of [[7134, 3, 7, 7], [335, 64, 7, 7], [100, 2100, 1, 5], [200, 64, 7, 7], [1338, 4, 7, 7]]) {
    const shape = [N, C, H, W], x = data(N, C, H * W, C, { 1: 1e4 });
    const e = refStats(x, shape, "NCHW"), r = api.channelStats(x, { shape, layout: "NCHW" });
    close(r.mean, e.mean, 1e-5, 1e-6, "channelStats mean", shape, "NCHW");
    close(r.var, e.var, 1e-5, 1e-5, "channelStats var", shape, "NCHW");
  }
});

test.run();
