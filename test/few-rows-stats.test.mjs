// Channels-last statistics of few rows (bn_stats_f32_cl): up to 8 rows go by few_rows (f64 sums
// around each channel's first value, two channels to an f64x2, an odd last channel alone); from 9
// rows the f32 lanes, whose check fails often on so few values a channel, so that the block is
// redone around its means (redo_block: new shifts, the check and the merge in f64x2 channel pairs
// while every pair's sums are sound, else channel by channel). On the raw kernel, fresh and merged
// onto prior triples, against float64, with a scratch canary.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { clStats, agreeFreshAndOnPrior, agreeTriples, wasm, clData } from "./stats-kernel.mjs";
import { exactTriples, randomArray } from "./reference.mjs";
import { KERNEL_TABLE } from "../build/kernel-table.mjs";

/** f32(1e-20) two ulps down and up: their mean is f32(1e-20) exactly, their differences' squares underflow f32. */
const CLOSE = (() => { const b = new Int32Array(new Float32Array([1e-20]).buffer)[0]; return new Float32Array(new Int32Array([b - 2, b + 2]).buffer); })();
const scratchOf = (R, C) => KERNEL_TABLE.bn_stats_f32_cl.scratch({ R, C }, (c) => wasm.pattern_len(c));
const kernel = (N, C, S, v, prior) => clStats(N, C, v, prior, scratchOf(N, C));

/**
 * clData with more kinds of channel (where they fit in C): ±3e38, 1e-30 scale, −0 and 0, 1e6 ± 1,
 * and with `nan` a NaN in one row (its pair's sums are then unsound: every channel of a redone
 * block goes by the scalar loop, so the channel pairs are tested without it too).
 */
function fewData(R, C, seed, nan) {
  const x = clData(R, C, seed, 0.3);
  const set = (c, f) => { if (c > 0 && c < C - 1) for (let r = 0; r < R; r++) x[r * C + c] = f(r); };
  set(3, (r) => (r % 2 ? 3e38 : -3e38));
  set(4, (r) => 1e-30 * (1 + ((r * 7) % 5)));
  set(5, (r) => (r % 2 ? -0 : 0));
  set(6, (r) => 1e6 + (r % 3) - 1);
  set(7, (r) => (nan && r === R - 1 ? NaN : r));
  return x;
}

test("bn_stats_f32_cl on 1–8 rows (few_rows) and 9–16 rows, any C, against float64", () => {
  for (const C of [1, 2, 3, 5, 8, 9, 64, 1001, 4096]) {
    for (const R of [1, 2, 3, 4, 5, 7, 8, 9, 12, 16]) {
      for (const nan of [false, true]) agreeFreshAndOnPrior(kernel, R, C, 1, fewData(R, C, 31 * R + C, nan), fewData(2, C, 5 + C, nan), `(${R}, ${C})${nan ? " with a NaN" : ""}`);
    }
  }
});

test("few_rows: 1e7 + 0, 1, 2 (exact in f32, their squares not) give M2 = 2 exactly", () => {
  for (const C of [2, 3, 4096]) {
    const R = 3, x = new Float32Array(R * C);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) x[r * C + c] = 1e7 + r + (c % 5);
    const got = kernel(R, C, 1, x, new Float64Array(3 * C)), want = exactTriples([{ x, N: R }], C, 1);
    for (let c = 0; c < C; c++) {
      assert.is(got[3 * c + 2], 2, `(3, ${C}), channel ${c}: M2 ${got[3 * c + 2]}`);
      assert.is(got[3 * c + 1], want[3 * c + 1], `(3, ${C}), channel ${c}: mean`);
    }
  }
});

test("redo_block's channel pairs: zero-mean channels that fail the check at 9–16 rows, and one unsound channel among them", () => {
  for (const C of [1000, 1001, 4096]) {
    for (const R of [9, 14, 16, 20]) {
      const x = randomArray(R * C, 7 * R + C);
      agreeFreshAndOnPrior(kernel, R, C, 1, x, randomArray(2 * C, 3), `(${R}, ${C}) zero-mean`);
      // A NaN makes its pair's sums unsound: every channel then goes by the scalar loop.
      const xn = x.slice(); xn[5 * C + 10] = NaN;
      agreeTriples(kernel(R, C, 1, xn, new Float64Array(3 * C)), exactTriples([{ x: xn, N: R }], C, 1), `(${R}, ${C}) with a NaN`);
      // Each alone makes its pair's redone sums unsound (the pairs' check must see it): ±3e38,
      // whose squares overflow f32; a constant 1e-20; 1e-20 ± 1e-26, whose redone sums are both 0
      // (the squares underflow, the differences cancel) around a mean below SHIFT_FLOOR (R even).
      const kinds = { huge: (r) => (r % 2 ? 3e38 : -3e38), tiny: () => 1e-20, close: (r) => CLOSE[r % 2] };
      for (const [kind, f] of Object.entries(kinds)) {
        const xk = x.slice(); for (let r = 0; r < R; r++) xk[r * C + 20] = f(r);
        agreeTriples(kernel(R, C, 1, xk, new Float64Array(3 * C)), exactTriples([{ x: xk, N: R }], C, 1), `(${R}, ${C}) with a ${kind} channel`);
      }
    }
  }
});

test.run();
