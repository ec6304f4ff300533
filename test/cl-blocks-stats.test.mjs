// Channels-last statistics over many blocks (bn_stats_f32_cl): each block is checked and its
// sums added to the pending ones in one pass (two pending buffers up to 1024 channels, checked
// then added in place above), a block that fails is redone after the pending sums are merged.
// Against float64: ordinary channels next to channels far from zero, channels whose values
// drift along the rows (later blocks fail after others are pending), constant and zero
// channels; C with repeats in the lane pattern (3, 16), C = L (64), odd and wide C (1025, 1536),
// and C = 3, 6, 12, 24 past 4 Mi values (super-rows in memory order, two at a time).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refStats } from "./reference.mjs";
import { clBlockRows as blockRows, clData as data } from "./stats-kernel.mjs";

await api.init();

test("channelStats NHWC over many blocks against float64: far, drifting, constant and zero channels", () => {
  // 345 blocks: past 4 Mi values, where C = 3, 6, 12, 24 are read in memory order (pairs_sq).
  for (const [C, blocks] of [[3, 9], [16, 9], [17, 9], [64, 10], [1025, 9], [1536, 9], [3, 345], [6, 345], [12, 345], [24, 345]]) {
    const R = blocks * blockRows(C) + 5;
    const shape = [1, 1, R, C], x = data(R, C, R + C);
    const e = refStats(x, shape, "NHWC"), r = api.channelStats(x, { shape, layout: "NHWC" });
    for (let c = 0; c < C; c++) {
      const at = `(${R}, ${C}) channel ${c}: mean ${r.mean[c]} vs ${e.mean[c]}, var ${r.var[c]} vs ${e.var[c]}`;
      const sd = Math.sqrt(e.var[c]);
      assert.ok(Math.abs(r.mean[c] - e.mean[c]) <= 1e-6 * sd + 1e-12 * Math.abs(e.mean[c]), at);
      assert.ok(Math.abs(r.var[c] - e.var[c]) <= 1e-5 * e.var[c], at);
    }
    assert.is(r.var[0], 0, `(${R}, ${C}): the constant channel`);
    assert.is(r.mean[C - 1], 0, `(${R}, ${C}): the zero channel`);
  }
});

test.run();
