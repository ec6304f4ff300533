// Bad input: clear messages naming argument, expected and actual value; nothing modified when
// an op throws; NaN confined to its channel (wasm aborts: abort.test.mjs).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { throwsWith, throwsUntouched } from "./helpers.mjs";

await api.init();
const shape = [2, 3, 4, 4], layout = "NCHW", C = 3;
const fresh = () => ({
  x: randomArray(96, 1), dy: randomArray(96, 2),
  gamma: Float32Array.of(1, 2, 3), beta: Float32Array.of(0, 1, 2),
  runningMean: Float32Array.of(0.1, 0.2, 0.3), runningVar: Float32Array.of(1, 2, 3),
});

const rejects = (fn, ...fragments) => throwsUntouched(fresh, fn, ...fragments);

test("wrong lengths name the argument, expected and actual", () => {
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, gamma: Float32Array.of(1, 2, 3, 4), beta: a.beta, runningMean: a.runningMean, runningVar: a.runningVar }), "gamma has 4 values, the tensor has 3 channels");
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, gamma: a.gamma, beta: [1, 2], runningMean: a.runningMean, runningVar: a.runningVar }), "beta has 2 values, the tensor has 3 channels");
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, runningMean: a.runningMean, runningVar: new Float32Array(5) }), "runningVar has 5 values, the tensor has 3 channels");
  rejects((a) => api.batchNormInfer(a.x, { shape, layout, runningMean: [0, 0], runningVar: a.runningVar }), "runningMean has 2 values, the tensor has 3 channels");
  rejects((a) => api.batchNormBackward(a.x, a.dy.subarray(1), { shape, layout, saveMean: a.runningMean, saveInvstd: a.runningVar }), "dy holds 95 values", "needs 96");
  rejects((a) => api.batchNormBackward(a.x, a.dy, { shape, layout, saveMean: a.runningMean, saveInvstd: [1] }), "saveInvstd has 1 values, the tensor has 3 channels");
  rejects((a) => api.batchNormInfer(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, out: new Float32Array(10) }), "out holds 10 values", "needs 96");
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, gamma: "abc" }), "gamma must be a Float32Array, Float64Array or number[] of 3 values, got the string \"abc\"");
});

test("data length that does not match the shape; bad shapes and layouts", () => {
  rejects((a) => api.batchNormInfer(a.x, { shape: [2, 3, 4, 5], layout, runningMean: a.runningMean, runningVar: a.runningVar }), "x holds 96 values, the shape [2,3,4,5] needs 120");
  rejects((a) => api.channelStats(a.x, { shape, layout: "NCWH" }), 'unknown layout "NCWH"', "NCHW");
  rejects((a) => api.channelStats(a.x, { shape: [96], layout: "NC" }), "layout NC needs a 2-D shape, got [96]");
  rejects((a) => api.channelStats(a.x, { shape: [2, 0, 48], layout: "NCL" }), "axis 1 must be a positive integer, got 0");
  rejects((a) => api.channelStats(a.x, { layout }), "x: a shape is required");
  rejects((a) => api.channelStats(Array.from(a.x), { shape, layout }), "x must be a Float32Array or a simdnorm Tensor, got an Array");
  rejects((a) => api.channelStats(Float64Array.from(a.x), { shape, layout }), "got a Float64Array of 96 values");
});

test("eps, momentum and convention", () => {
  for (const eps of [-1, NaN, Infinity, "1e-5"]) {
    rejects((a) => api.batchNormInfer(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, eps }), "eps must be a finite number ≥ 0, got");
    rejects((a) => api.batchNormTrain(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, eps }), "eps must be a finite number ≥ 0");
  }
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, momentum: 1.5 }), "momentum must be in [0, 1], got 1.5");
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, convention: "mxnet" }), 'unknown convention "mxnet"', "pytorch");
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, convention: "keras", momentum: null }), "momentum null (cumulative average) is a pytorch convention");
});

test("negative running variance", () => {
  rejects((a) => api.batchNormInfer(a.x, { shape, layout, runningMean: a.runningMean, runningVar: Float32Array.of(1, -0.5, 1) }), "running_var[1] is negative (-0.5)");
  rejects((a) => api.batchNormTrain(a.x, { shape, layout, runningMean: a.runningMean, runningVar: Float32Array.of(1, 1, -2) }), "running_var[2] is negative");
});

test("a training batch with one value per channel", () => {
  rejects((a) => api.batchNormTrain(a.x.subarray(0, 4), { shape: [1, 4], layout: "NC", runningMean: new Float32Array(4), runningVar: new Float32Array(4) }), "training batch norm needs more than one value per channel", "[1,4]");
  rejects((a) => api.batchNormTrain(a.x.subarray(0, 3), { shape: [1, 3, 1, 1], layout: "NCHW" }), "needs more than one value per channel");
});

test("a freed tensor", () => {
  const t = api.tensor(shape, layout, randomArray(96, 3));
  t.free();
  throwsWith(() => api.channelStats(t), "x is a freed tensor");
  throwsWith(() => t.data, "this tensor was freed");
  const a = fresh();
  const out = api.tensor(shape, layout); out.free();
  rejects(() => api.batchNormInfer(a.x, { shape, layout, runningMean: a.runningMean, runningVar: a.runningVar, out }), "out is a freed tensor");
  t.free(); // twice is a no-op
});

test("stale views of wasm memory are refused, not silently empty", () => {
  const t = api.tensor([2, 3], "NC", [1, 2, 3, 4, 5, 6]);
  const view = t.data;
  const big = api.tensor([1, 1 << 22], "NC"); // forces memory to grow
  if (view.length !== 0) { big.free(); t.free(); return; } // memory had room: nothing stale to test
  throwsWith(() => api.channelStats(view, { shape: [2, 3], layout: "NC" }), "view of wasm memory from before it grew");
  const st = api.channelStats(t);
  assert.ok(Math.abs(st.mean[0] - 2.5) <= 1e-12, `tensor.data after growth: mean ${st.mean[0]}`);
  big.free(); t.free();
});

test("when an op throws, running statistics and outputs are untouched", () => {
  const a = fresh();
  const rm = a.runningMean.slice(), rv = a.runningVar.slice(), out = new Float32Array(96).fill(7);
  throwsWith(() => api.batchNormTrain(a.x, { shape, layout, gamma: [1, 1], runningMean: rm, runningVar: rv, out }), "gamma has 2 values");
  assert.ok(rm.every((v, i) => v === a.runningMean[i]) && rv.every((v, i) => v === a.runningVar[i]), "running stats changed");
  assert.ok(out.every((v) => v === 7), "out changed");
});

test("NaN in one channel affects that channel's outputs only", () => {
  for (const lay of ["NCHW", "NHWC"]) {
    const a = fresh();
    const shp = lay === "NCHW" ? shape : [2, 4, 4, 3];
    const chOf = (i) => (lay === "NCHW" ? Math.floor(i / 16) % 3 : i % 3);
    const idx = lay === "NCHW" ? 16 + 5 : 3 * 5 + 1; // a value of channel 1
    a.x[idx] = NaN;
    const rm = a.runningMean.slice(), rv = a.runningVar.slice();
    const r = api.batchNormTrain(a.x, { shape: shp, layout: lay, gamma: a.gamma, beta: a.beta, runningMean: rm, runningVar: rv });
    for (let i = 0; i < 96; i++) assert.ok(Number.isNaN(r.y[i]) === (chOf(i) === 1), `${lay}: y[${i}] (channel ${chOf(i)}) = ${r.y[i]}`);
    assert.ok(Number.isNaN(rm[1]) && Number.isNaN(rv[1]) && !rm.some((v, c) => c !== 1 && Number.isNaN(v)) && !rv.some((v, c) => c !== 1 && Number.isNaN(v)), `${lay}: running stats ${rm} ${rv}`);
    const b = api.batchNormBackward(a.x, a.dy, { shape: shp, layout: lay, gamma: a.gamma, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
    for (let i = 0; i < 96; i++) assert.ok(Number.isNaN(b.dx[i]) === (chOf(i) === 1), `${lay}: dx[${i}] = ${b.dx[i]}`);
    assert.ok(Number.isNaN(b.dgamma[1]) && !Number.isNaN(b.dgamma[0]) && !Number.isNaN(b.dgamma[2]), `${lay}: dgamma ${b.dgamma}`);
  }
});

test("init is memoized, and tells what is missing", async () => {
  await api.init(); await api.init();
  assert.ok(api.isInitialized() && api.simdSupported(), "init state");
  assert.ok(/Node ≥ 16.4, Chrome 91, Firefox 89, Safari 16.4/.test(api.SIMD_REQUIREMENT), api.SIMD_REQUIREMENT);
});
test.run();
