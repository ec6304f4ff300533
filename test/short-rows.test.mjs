// Channels-first rows of 4 … 127 values (assembly/cf_short.ts: floor(S/4) vectors and an
// overlapping or masked last vector; instance norm's per-row parameters from a kernel) against the float64
// reference: every S around the vector tails, C·S large enough that short rows are not sent to
// the pseudo-channel path, in place, far from zero (rows redone around their means), N = 1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refBnTrain, refBnInfer, refBnBackwardEval, refInstanceNorm, refGroupNorm, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

/** Row lengths around every tail of the short-row loops (4-wide body, 2- and 4-vector unrolls). */
const SHORT_S = [4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 127, 128];
/** A channel count that keeps rows of S < 16 on the channels-first kernels (C·S > 1024). */
const wideC = (S) => Math.ceil(1100 / S) + (S % 3);

function data(N, C, S, seed, offset) {
  const x = randomArray(N * C * S, seed, { offset, scale: 1 + (seed % 3) });
  const dy = randomArray(x.length, seed + 7);
  const gamma = randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 2, { scale: 0.5 });
  return { x, dy, gamma, beta };
}

function checkBatchNorm(N, C, S, seed, offset = 0) {
  const shape = [N, C, S], layout = "NCL", eps = 1e-5, tol = offset ? 1e-3 : 2e-4;
  const { x, dy, gamma, beta } = data(N, C, S, seed, offset);
  const runningMean = new Float32Array(C).fill(offset), runningVar = new Float32Array(C).fill(1.3);
  const r = api.batchNormTrain(x, { shape, layout, gamma, beta, runningMean: runningMean.slice(), runningVar: runningVar.slice(), eps });
  const e = refBnTrain(x, shape, layout, { gamma, beta, runningMean, runningVar, eps, momentum: 0.1, dy });
  close(r.y, e.y, tol, 1e-4, "train y", shape, layout);
  close(r.saveInvstd, e.saveInvstd, tol, 1e-4, "saveInvstd", shape, layout);
  // In place on wasm memory (out = dy, a Tensor): the last vector of each row is read before
  // the row is written.
  const d = api.tensor(shape, layout, dy);
  const b = api.batchNormBackward(x, d, { shape, layout, gamma, saveMean: e.saveMean, saveInvstd: e.saveInvstd, out: d });
  close(d.toArray(), e.dx, tol * 2, 1e-4, "dx (in place)", shape, layout);
  d.free();
  close(b.dbeta, e.dbeta, 1e-4 * Math.sqrt(N * S), 1e-4, "dbeta", shape, layout);
  close(b.dgamma, e.dgamma, 1e-4 * Math.sqrt(N * S) + tol, 1e-4, "dgamma", shape, layout);
  const y = api.tensor(shape, layout, x);
  api.batchNormInfer(y, { gamma, beta, runningMean, runningVar, eps, out: y });
  close(y.toArray(), refBnInfer(x, shape, layout, { gamma, beta, runningMean, runningVar, eps }), tol, 1e-4, "infer y (in place)", shape, layout);
  y.free();
  const be = api.batchNormBackwardEval(x, dy, { shape, layout, gamma, runningMean, runningVar, eps });
  close(be.dx, refBnBackwardEval(x, dy, shape, layout, { gamma, runningMean, runningVar, eps }).dx, tol, 1e-4, "eval dx", shape, layout);
}

function checkGroups(N, C, S, groups, seed, offset = 0) {
  const shape = [N, C, 1, S], layout = "NCHW", eps = 1e-5, tol = offset ? 1e-3 : 2e-4;
  const { x, dy, gamma, beta } = data(N, C, S, seed, offset);
  const inst = groups === C;
  const e = (inst ? refInstanceNorm : refGroupNorm)(x, dy, shape, layout, { gamma, beta, eps, groups });
  const y = api.tensor(shape, layout, x); // in place on wasm memory
  const r = inst ? api.instanceNorm(y, { gamma, beta, eps, out: y }) : api.groupNorm(y, { gamma, beta, eps, groups, out: y });
  const what = inst ? "instance norm" : `group norm (groups ${groups})`;
  close(y.toArray(), e.y, tol, 1e-4, `${what} y (in place)`, shape, layout);
  y.free();
  close(r.mean, e.mean, 1e-5 * (1 + offset), 1e-6, `${what} mean`, shape, layout);
  close(r.invstd, e.invstd, tol, 1e-4, `${what} invstd`, shape, layout);
  const stats = { mean: e.mean, invstd: e.invstd };
  const b = inst ? api.instanceNormBackward(x, dy, { shape, layout, gamma, ...stats }) : api.groupNormBackward(x, dy, { shape, layout, gamma, groups, ...stats });
  const inv = Math.max(...e.invstd), m = Math.sqrt(x.length / C);
  close(b.dx, e.dx, 4 * tol * inv, 1e-3, `${what} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 1e-4 * m + tol, 1e-4, `${what} dgamma`, shape, layout);
  close(b.dbeta, e.dbeta, 1e-4 * m, 1e-4, `${what} dbeta`, shape, layout);
}

test("batch norm: channels-first rows of 4 … 128 values, N = 1 … 3, wide and narrow C", () => {
  for (const S of SHORT_S) {
    checkBatchNorm(1 + (S % 3), wideC(S), S, S);
    checkBatchNorm(2 + (S % 2), 3, S, 100 + S);
    checkBatchNorm(1, 2 + (S % 5), S, 200 + S);
  }
});

test("batch norm: short rows far from zero (m ≠ 0: the subtracting loops)", () => {
  for (const S of [5, 16, 49, 63]) checkBatchNorm(3, wideC(S), S, 300 + S, 1e4);
});

test("instance and group norm: channels-first rows of 4 … 128 values, in place", () => {
  for (const S of SHORT_S) {
    const C = wideC(S) & ~1;
    checkGroups(1 + (S % 2), C, S, C, 400 + S);     // instance norm: one statistic per row
    checkGroups(2, C, S, C / 2, 500 + S);          // two channels per group: the (1, N·G, 2S) view
    checkGroups(3, 1, S, 1, 600 + S);              // N = 3 rows of one channel
  }
});

test("instance norm: short rows far from zero are redone around their means", () => {
  for (const S of [4, 7, 49, 63]) checkGroups(2, 40, S, 40, 700 + S, 1e4);
  // Rows mixing both paths: every other channel far from zero.
  const N = 2, C = 30, S = 49, shape = [N, C, 7, 7], eps = 1e-5;
  const x = randomArray(N * C * S, 77);
  for (let r = 0; r < N * C; r += 2) for (let i = 0; i < S; i++) x[r * S + i] += 5e3;
  const e = refInstanceNorm(x, x, shape, "NCHW", { eps });
  const got = api.instanceNorm(x, { shape, layout: "NCHW", eps });
  close(got.y, e.y, 1e-3, 1e-4, "mixed rows y", shape, "NCHW");
  close(got.invstd, e.invstd, 1e-3, 1e-4, "mixed rows invstd", shape, "NCHW");
});

test("short rows keep NaN and a constant row's zero variance", () => {
  const N = 1, C = 24, S = 49, shape = [N, C, 7, 7];
  const x = randomArray(N * C * S, 5);
  x.fill(2.5, 3 * S, 4 * S); // row 3: constant
  x[5 * S + 48] = NaN;       // row 5: NaN in the last (overlapping) vector
  const r = api.instanceNorm(x, { shape, layout: "NCHW" });
  const y = r.y;
  for (let i = 3 * S; i < 4 * S; i++) assert.is(y[i], 0, `constant row normalizes to 0 at ${i}`);
  assert.ok(Math.abs(r.invstd[3] - 1 / Math.sqrt(1e-5)) < 1, `constant row invstd ${r.invstd[3]}`);
  for (let i = 5 * S; i < 6 * S; i++) assert.ok(Number.isNaN(y[i]), `NaN row stays NaN at ${i}`);
  for (let i = 6 * S; i < 7 * S; i++) assert.ok(Number.isFinite(y[i]), `the next row is finite at ${i}`);
});

test("backward sums: ±Inf in a lane of the overlapping last vector stays ±Inf (masked lanes add 0, not 0·Inf)", () => {
  const N = 2, C = 30, S = 49, shape = [N, C, 7, 7];
  const x = randomArray(N * C * S, 9), dy = Float32Array.from(randomArray(x.length, 10), (v) => 0.5 + Math.abs(v));
  x[4 * S + 46] = Infinity; // channel 4 of sample 0: value 46 is in the body and in the last vector
  const saveMean = new Float32Array(C), saveInvstd = new Float32Array(C).fill(1);
  const b = api.batchNormBackward(x, dy, { shape, layout: "NCHW", saveMean, saveInvstd });
  assert.is(b.dgamma[4], Infinity, `dgamma of the channel with +Inf: ${b.dgamma[4]}`);
  for (let c = 0; c < C; c++) if (c !== 4) assert.ok(Number.isFinite(b.dgamma[c]), `dgamma[${c}] finite`);
});

test.run();
