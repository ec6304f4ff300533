// Channels-last statistics past 4 Mi values with 48–80-value lane patterns (bn_stats_f32_cl: C =
// 5, 10, 20, 40, 80 → L = 80; C = 48; C = 64), whose blocks are read in memory order two super-rows
// at a time (pairs_sq) with an odd last super-row summed alone, and the neighbours that keep the
// column sweeps (C = 47, 49, 63, 65). On the raw kernel, fresh and merged onto prior triples,
// against float64, with a canary after the table's scratch: ordinary channels next to channels
// far from zero, drifting ones (blocks that fail the check and are redone), a constant and a zero
// channel; R chosen so the last block holds an odd number of super-rows, plus rows left over
// past the last super-row where L > C.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { clStats, agreeFreshAndOnPrior, wasm } from "./stats-kernel.mjs";
import { randomArray } from "./reference.mjs";
import { KERNEL_TABLE } from "../build/kernel-table.mjs";

const FAR = 4 * 1024 * 1024; // the path runs past this many values

/** Rows of C in one block (max(4096 / L, 256) super-rows of L / C rows) and in one super-row. */
const geometry = (C) => { const L = wasm.pattern_len(C); return { per: L / C, block: Math.max(Math.floor(4096 / L), 256) * (L / C) }; };

/**
 * R rows of C around 0.5: channel c mod 4 = 1 at 1e4 + 0.5, c mod 4 = 2 at 1e4 drifting by half
 * a standard deviation a block, channel 0 constant 3, the last channel 0.
 */
function data(R, C, seed) {
  const v = 0.5 / geometry(C).block;
  const x = randomArray(R * C, seed, { offset: 0.5 });
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
    const i = r * C + c;
    if (c === 0) x[i] = 3;
    else if (c === C - 1) x[i] = 0;
    else if (c % 4 === 1) x[i] += 1e4;
    else if (c % 4 === 2) x[i] += 1e4 + v * r;
  }
  return x;
}

/** The fewest rows past FAR values whose super-rows end in a last block of an odd count, plus `extra` rows (< L / C) after them. */
function rowsFor(C, extra) {
  const { per, block } = geometry(C), bs = block / per;
  let supers = Math.floor(FAR / (per * C)) + 1;
  while ((supers % bs) % 2 === 0) supers++;
  return supers * per + extra;
}

test("bn_stats_f32_cl past 4 Mi values, 48–80-value patterns and their neighbours, against float64", () => {
  const scratchOf = KERNEL_TABLE.bn_stats_f32_cl.scratch;
  for (const [C, extra] of [[48, 0], [64, 0], [80, 0], [5, 7], [10, 3], [40, 1], [47, 0], [49, 0], [63, 0], [65, 0]]) {
    const R = rowsFor(C, extra), x = data(R, C, R + C);
    assert.ok(R * C > FAR, `(${R}, ${C}) is past ${FAR} values`);
    const scratch = scratchOf({ R, C }, (c) => wasm.pattern_len(c));
    const kernel = (N, C2, S, v, prior) => clStats(N, C2, v, prior, scratch);
    agreeFreshAndOnPrior(kernel, R, C, 1, x, data(2, C, C), `(${R}, ${C})`);
  }
});

test.run();
