// Channels-first statistics of long rows in memory order (N > 1 with rows of ≥ 1024 values, and
// rows longer than a block at N = 1): each block's sums are added to its channel's pending sums
// and merged once per channel (stats_cf_rows, assembly/cf_rows_stats.ts). Against float64: rows
// around the SIMD tails and the 4096-value block, channels far from zero (offsets 1e4 ± 1 and
// 1e6), channels whose rows drift so that a later row fails the check after others are pending,
// constant, all-zero, tiny, NaN, ±Inf and overflowing rows among ordinary ones, and merges into
// triples that hold data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refStats, randomArray, exactTriples } from "./reference.mjs";
import { close } from "./helpers.mjs";
import { cfStats, agreeTriples as agree, agreeFreshAndOnPrior } from "./stats-kernel.mjs";

await api.init();
/** The kernel on (N, C, S) x merged into `prior` (C triples), with its 24·C bytes of scratch. */
const kernel = (N, C, S, x, prior) => cfStats(N, C, S, x, prior, 24 * C);

/**
 * (N, C, S) data; channels in `far` moved by `offset`, channels in `drift` by offset + 40·n in
 * row n (every row fails the check around the last one's mean), channel 1 (when not listed) by
 * offset + 0.6·n (a row fails after others passed and are pending).
 */
function data(N, C, S, seed, { far = [], drift = [], offset = 1e4 } = {}) {
  const x = randomArray(N * C * S, seed, { scale: 1 + (seed % 3) }), slow = far.length && C > 2 && !far.includes(1) && !drift.includes(1);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const o = far.includes(c) ? offset : drift.includes(c) ? offset + 40 * n : slow && c === 1 ? offset + 0.6 * n : 0;
    if (o) for (let i = 0; i < S; i++) x[(n * C + c) * S + i] += o;
  }
  return x;
}

const SHAPES = [[2, 1, 1024], [3, 3, 1025], [2, 5, 1031], [8, 4, 3136], [2, 3, 4095], [3, 2, 4096], [2, 3, 4097], [2, 2, 8200], [1, 3, 4097], [1, 2, 12293]];

test("kernel: fresh triples and triples holding data, rows around the tails and the block", () => {
  for (const [N, C, S] of SHAPES) {
    agreeFreshAndOnPrior(kernel, N, C, S, data(N, C, S, N * 31 + C * 7 + S), data(2, C, S, S + 5), `(${N}, ${C}, ${S})`);
  }
});

test("kernel: channels far from zero (1e4 ± 1, 1e6, −3e5), drifting rows that fail after others are pending", () => {
  for (const [N, C, S] of SHAPES) {
    if (C < 2) continue;
    for (const offset of [1e4, 1e6, -3e5]) {
      const x = data(N, C, S, S + C, { far: [0], drift: [C - 1], offset });
      agree(kernel(N, C, S, x, new Float64Array(3 * C)), exactTriples([{ x, N }], C, S), `(${N}, ${C}, ${S}) at ${offset}`);
      const first = data(1, C, S, S + 9, { far: [0, C - 1], offset }), prior = exactTriples([{ x: first, N: 1 }], C, S);
      agree(kernel(N, C, S, x, prior), exactTriples([{ x: first, N: 1 }, { x, N }], C, S), `(${N}, ${C}, ${S}) at ${offset} onto a prior chunk`);
    }
  }
});

test("kernel: constant, zero, −0, tiny, NaN, Inf and overflowing rows among ordinary ones", () => {
  for (const [N, S] of [[3, 1024], [4, 1029], [2, 4097]]) {
    const C = 9, x = data(N, C, S, 41 + S), row = (n, c) => (n * C + c) * S;
    for (let n = 0; n < N; n++) {
      x.fill(5.25, row(n, 0), row(n, 0) + S);                          // channel 0: constant far from zero
      x.fill(n & 1 ? -0 : 0, row(n, 1), row(n, 1) + S);                // channel 1: zeros and −0 (a dead ReLU)
      for (let i = 0; i < S; i++) x[row(n, 2) + i] = 1e-30 * ((i + n) % 3); // channel 2: squares underflow f32
      for (let i = 0; i < S; i++) x[row(n, 3) + i] = (i % 2 ? 1 : -1) * 1e-30 * (1 + ((i >> 1) % 5)); // channel 3: sums cancel to 0
      for (let i = 0; i < S; i++) x[row(n, 6) + i] = 1e30 * (1 + i / S); // channel 6: squares overflow f32
    }
    x.fill(3, row(N - 1, 4), row(N - 1, 4) + S);                       // channel 4: a constant last row after ordinary ones
    x[row(N - 1, 5) + S - 1] = NaN;                                    // channel 5: NaN in the last row's last value
    x[row(0, 7) + 2] = Infinity;                                       // channel 7: +Inf in the first row
    const got = kernel(N, C, S, x, new Float64Array(3 * C)), want = exactTriples([{ x, N }], C, S);
    assert.equal([...got.subarray(0, 3)], [N * S, 5.25, 0], `(${N}, ${C}, ${S}): the constant channel`);
    assert.equal([...got.subarray(3, 6)], [N * S, 0, 0], `(${N}, ${C}, ${S}): the zero channel`);
    assert.ok(Number.isNaN(got[17]), `(${N}, ${C}, ${S}): the NaN channel stays NaN`);
    assert.ok(!Number.isFinite(got[22]) || Number.isNaN(got[23]), `(${N}, ${C}, ${S}): the Inf channel is not finite`);
    agree(got, want, `(${N}, ${C}, ${S})`, [5, 7]);
  }
});

test("channelStats on long rows, N > 1, against float64 (an offset of 1e4 ± 1 in some channels)", () => {
  for (const [N, C, S] of [[4, 6, 1024], [3, 5, 2049], [2, 3, 4100]]) {
    const shape = [N, C, 1, S], x = data(N, C, S, 3 * S + C, { far: [1, 4], drift: [2] });
    const e = refStats(x, shape, "NCHW"), r = api.channelStats(x, { shape, layout: "NCHW" });
    close(r.mean, e.mean, 1e-5, 1e-6, "channelStats mean", shape, "NCHW");
    close(r.var, e.var, 1e-5, 1e-5, "channelStats var", shape, "NCHW");
  }
});

test.run();
