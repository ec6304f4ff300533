// Channels-last normalize and dx against the float64 reference on the paths of
// assembly/bn_normalize.ts and assembly/bn_backward.ts: parameters interleaved per 4-lane group,
// 16-lane sweeps of blocks of rows and four- and two-super-row sweeps with their leftover rows
// and row tails (cache-resident), and
// super-rows in memory order past the caches (> 1.5 Mi values, dx > 1.125 Mi; > 4 Mi for the
// four-row sweeps; the backward sums of 48–80-value patterns > 2 Mi), with the last R mod (L/C)
// rows as a partial super-row.
import { test } from "uvu";
import * as api from "../dist/index.js";
import { refBnTrain, refBnInfer, refBnBackwardEval, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

/** Inference, the training forward's y, and both backwards' dx of an (N, R, C) NLC tensor. */
function check(N, R, C, seed, { offset = 0 } = {}) {
  const shape = [N, R, C], layout = "NLC", eps = 1e-5;
  const x = randomArray(N * R * C, seed, { offset, scale: 1 + (seed % 3) }), dy = randomArray(x.length, seed + 7);
  const gamma = randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 2, { scale: 0.5 });
  // Running means at the data's offset: normalize then subtracts m ≠ 0 (the (x − m) path).
  const runningMean = randomArray(C, seed + 3, { offset, scale: 0.2 }), runningVar = Float32Array.from(randomArray(C, seed + 4), (v) => 0.5 + Math.abs(v));
  const p = { gamma, beta, runningMean, runningVar, eps };
  const tol = offset ? 1e-3 : 2e-4;
  close(api.batchNormInfer(x, { shape, layout, ...p }), refBnInfer(x, shape, layout, p), tol, 1e-4, "infer y", shape, layout);
  const be = api.batchNormBackwardEval(x, dy, { shape, layout, ...p });
  close(be.dx, refBnBackwardEval(x, dy, shape, layout, p).dx, tol, 1e-4, "eval dx", shape, layout);
  if (N * R < 2) return; // training needs two values per channel
  const e = refBnTrain(x, shape, layout, { ...p, momentum: 0.1, dy });
  const r = api.batchNormTrain(x, { shape, layout, gamma, beta, runningMean: runningMean.slice(), runningVar: runningVar.slice(), eps });
  close(r.y, e.y, tol, 1e-4, "train y", shape, layout);
  const b = api.batchNormBackward(x, dy, { shape, layout, gamma, saveMean: e.saveMean, saveInvstd: e.saveInvstd });
  close(b.dx, e.dx, 2 * tol, 1e-4, "dx", shape, layout);
}

test("cache-resident: four-row sweeps with 1–3 leftover super-rows, two-row sweeps with odd rows and row tails", () => {
  check(1, 15, 24, 1);    // L = 48 (2 rows), 7 super-rows: one quad + 3 in order, one tail row
  check(1, 7, 64, 2);     // L = 64: 1 quad + 3 (dx: four-row sweeps up to 64 values)
  check(2, 93, 5, 3);     // L = 80 (16 rows): 5 super-rows + 13 tail rows per … (N·R = 186 rows)
  check(1, 9, 96, 4, { offset: 1e4 }); // L = 96: normalize in quads, dx in pairs (odd last row)
  check(1, 17, 65, 5);    // L = C = 65: pairs, 8-lane body + a 1-value tail (span), odd last row
  check(1, 5, 99, 6);     // tail of 3 values: scalars only
  check(1, 3, 1023, 7, { offset: 1e4 }); // tail of 7: one 4-wide step + 3 scalars
  check(2, 1, 1030, 8);   // two rows of one sample each
  check(1, 1, 7, 9);      // L = 112 (16 rows) with R = 1: only the tail span
  check(1, 63, 9, 10);    // L = 144 (16 rows): 3 super-rows + 15 tail rows
  check(1, 7282, 144, 11, { offset: 1e4 }); // just over 1 Mi values: two-row loops and sweeps still
  for (const C of [1, 2, 3, 4, 6, 8, 12, 16]) check(1, 17, C, 20 + C); // parameters in registers (L = 16, the 12-value period)
  // L = 16 backward sums with m = 0 (data near zero): lanes in registers, in memory order; block
  // boundaries (256 super-rows) and leftover rows.
  for (const [R, C] of [[1, 16], [9, 8], [63, 4], [65, 16], [1031, 4], [4097, 16], [2, 1], [15, 2]]) check(1, R, C, 50 + R);
});

test("16-lane column sweeps (≤ 128 Ki values; L = 16 at every size): blocks of ~16 KiB of rows, a partial last block; dx with m = 0", () => {
  check(1, 300, 64, 60);                     // L = 64: blocks of 64 super-rows, 4 + 44; dx sweeps (m = 0), sums in 16-KiB sweeps
  check(1, 201, 48, 61, { offset: 1e4 });    // L = 48 (2 rows): 100 super-rows + a tail row; dx four-row sweeps (m ≠ 0)
  check(1, 130, 144, 62);                    // L = 144: blocks of 28 super-rows; dx sweeps (L ≤ 512)
  check(2, 41, 512, 63);                     // L = 512: blocks of 8; dx sweeps at its widest
  check(1, 50, 1024, 64, { offset: 1e4 });   // L = 1024: blocks of 4; dx two-row loops (L > 512)
  check(1, 4097, 32, 65);                    // L = 32, exactly 128 Ki values + 32: the four-row sweeps (L ≤ 96) past the switch
  check(1, 2730, 48, 66);                    // L = 48 just under 128 Ki values, 0 tail rows
  // L = 16 with m = 0 takes dx_sweeps0 (memory order, k, c1, c0 in registers) at every size.
  check(1, 40001, 4, 67);                    // L = 16 (4 rows) past 128 Ki values, 1 tail row
  check(1, 150001, 8, 68);                   // L = 16 (2 rows) past 1.125 Mi values, 1 tail row
  // Two-row normalize past 128 Ki values; the training forward's m = 0 (data near zero) skips m.
  check(1, 1101, 128, 69);                   // L = 128: an odd last super-row
  check(1, 1400, 99, 70);                    // L = C = 99: 8-lane body and a 3-value row tail
});

test("past the caches: super-rows in memory order, the last rows as a partial super-row", () => {
  check(1, 16001, 99, 31);                  // L = C = 99, > 1.5 Mi values (dx: > 1.125 Mi)
  check(1, 10923, 144, 32, { offset: 1e4 }); // L = C = 144
  check(1, 1537, 1025, 33);                 // L = C = 1025: a 1-value row tail
  check(1, 224709, 7, 34);                  // L = 112 (16 rows), 5 tail rows
  check(1, 174763, 24, 35, { offset: 1e4 }); // L = 48 past 4 Mi values (four-row sweeps below), 1 tail row
  check(1, 838861, 5, 36);                  // L = 80 past 4 Mi values, 13 tail rows
  check(1, 65537, 64, 37, { offset: 1e4 }); // L = 64 past 4 Mi values: statistics in touched 16-KiB sub-blocks
  // One normalize / dx span over all super-rows (the parameters wrap), backward sums in memory
  // order with the lane sums in L1 (reduce_flat), each with a partial last super-row or row tail.
  check(1, 524289, 8, 38, { offset: 1e4 });  // L = 16 past 4 Mi values (dx wraps every step), 1 tail row
  check(1, 131073, 32, 39);                 // L = 32 past 4 Mi values
  check(1, 1600, 1032, 40, { offset: 1e4 }); // L = C = 1032: sums in memory order (a multiple of 8), dx row by row (not of 16)
  check(1, 1601, 1000, 41);                 // L = C = 1000 (a multiple of 8, not 16): 4 leftover values a row
  check(1, 92549, 17, 42);                  // L = 544 (32 rows): sums in memory order, one span, 5 tail rows
  check(1, 24198, 65, 43, { offset: 1e4 });  // L = C = 65 past 1.5 Mi values: touched sweeps with a 1-column tail, dx row by row
  // 48–80-value patterns take the sums in memory order from 2 Mi values (32-value ones from 4 Mi),
  // 48- and 64-value ones also dx (dx_span instead of the four-row sweeps).
  check(1, 100001, 24, 44);                 // L = 48 (2 rows), 2.4 Mi values, 1 tail row
  check(1, 40001, 64, 45, { offset: 1e4 });  // L = 64, 2.4 Mi values
  check(1, 500003, 5, 46);                  // L = 80 (16 rows), 2.4 Mi values, 3 tail rows
});

test.run();
