// Channels-last statistics past 4 Mi values with 48–80-value lane patterns (bn_stats_f32_cl: C =
// 3, 6, 12, 24, 48 → L = 48; C = 64; C = 5, 10, 20, 40, 80 → L = 80), whose blocks are read in memory order two super-rows
// at a time (pairs_sq) with an odd last super-row summed alone, and the neighbours that keep the
// column sweeps (C = 47, 49, 63, 65). On the raw kernel, fresh and merged onto prior triples,
// against float64, with a canary after the table's scratch: ordinary channels next to channels
// far from zero, drifting ones (blocks that fail the check and are redone), a constant and a zero
// channel; R chosen so the last block holds an odd number of super-rows, plus rows left over
// past the last super-row where L > C.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { clStats, agreeFreshAndOnPrior, wasm, clData, clBlockRows } from "./stats-kernel.mjs";
import { KERNEL_TABLE } from "../build/kernel-table.mjs";

const FAR = 4 * 1024 * 1024; // the path runs past this many values

/** The fewest rows past FAR values whose super-rows end in a last block of an odd count, plus `extra` rows (< L / C) after them. */
function rowsFor(C, extra) {
  const per = wasm.pattern_len(C) / C, bs = clBlockRows(C) / per;
  let supers = Math.floor(FAR / (per * C)) + 1;
  while ((supers % bs) % 2 === 0) supers++;
  return supers * per + extra;
}

test("bn_stats_f32_cl past 4 Mi values, 48–80-value patterns and their neighbours, against float64", () => {
  const scratchOf = KERNEL_TABLE.bn_stats_f32_cl.scratch;
  for (const [C, extra] of [[48, 0], [64, 0], [80, 0], [3, 5], [24, 1], [5, 7], [10, 3], [40, 1], [47, 0], [49, 0], [63, 0], [65, 0]]) {
    const R = rowsFor(C, extra), x = clData(R, C, R + C, 0.5);
    assert.ok(R * C > FAR, `(${R}, ${C}) is past ${FAR} values`);
    const scratch = scratchOf({ R, C }, (c) => wasm.pattern_len(c));
    const kernel = (N, C2, S, v, prior) => clStats(N, C2, v, prior, scratch);
    agreeFreshAndOnPrior(kernel, R, C, 1, x, clData(2, C, C, 0.5), `(${R}, ${C})`);
  }
});

test.run();
