// BatchNorm layer: forward/backward against the float64 reference in every layout, training
// updates the running statistics in the same call and eval uses them, each convention's running
// update against a hand computation over 3 steps (caffe's normalizer included), misuse errors
// that change nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refBnTrain, refBnInfer, refBnBackwardEval, refInstanceNorm, refGroupNorm, refLayerNorm, randomArray, geometry } from "./reference.mjs";
import { shapeFor, close, throwsWith } from "./helpers.mjs";

await api.init();

/** Per-channel batch mean, biased and unbiased variance in f64 (NC layout), by hand. */
function moments(x, C) {
  const N = x.length / C, mean = new Float64Array(C), v = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / N;
  for (let i = 0; i < x.length; i++) v[i % C] += (x[i] - mean[i % C]) ** 2;
  return { mean, biased: v.map((s) => s / N), unbiased: v.map((s) => s / (N - 1)) };
}

const snapshot = (bn) => ({
  rm: bn.runningMean.slice(), rv: bn.runningVar.slice(), nbt: bn.numBatchesTracked, s: bn.normalizer,
  g: bn.gamma?.slice(), b: bn.beta?.slice(), dg: bn.dgamma?.slice(), db: bn.dbeta?.slice(),
});
function unchanged(bn, before, what) {
  const now = snapshot(bn);
  for (const k of Object.keys(before)) {
    const a = before[k], b = now[k];
    const same = a === b || (a && b && a.length === b.length && a.every((v, i) => Object.is(v, b[i])));
    assert.ok(same, `${what}: ${k} changed although the call threw`);
  }
}

test("training forward/backward equal the reference in every layout; running stats updated by the same call", () => {
  const cases = [["NC", 16, 5, 1], ["NCL", 3, 6, 7], ["NCHW", 2, 3, 9], ["NCDHW", 2, 4, 6], ["NLC", 3, 5, 7], ["NHWC", 2, 3, 10], ["NDHWC", 2, 7, 4]];
  for (const [layout, N, C, S] of cases) {
    const shape = shapeFor(layout, N, C, S), g = geometry(shape, layout);
    const bn = new api.BatchNorm(C, { layout });
    bn.gamma.set(randomArray(C, 3, { offset: 1, scale: 0.3 }));
    bn.beta.set(randomArray(C, 4, { scale: 0.5 }));
    const rm = bn.runningMean.slice(), rv = bn.runningVar.slice();
    const x = randomArray(g.N * g.C * g.S, C + S, { offset: 2, scale: 3 }), dy = randomArray(x.length, 99);
    const y = bn.forward(x, { shape });
    const e = refBnTrain(x, shape, layout, { gamma: bn.gamma, beta: bn.beta, runningMean: rm, runningVar: rv, eps: 1e-5, momentum: 0.1, dy });
    close(y, e.y, 2e-5, 1e-4, "y", shape, layout);
    close(bn.runningMean, e.runningMean, 1e-6, 1e-5, "runningMean", shape, layout);
    close(bn.runningVar, e.runningVar, 1e-6, 1e-5, "runningVar", shape, layout);
    assert.is(bn.numBatchesTracked, 1);
    const dx = bn.backward(dy);
    close(dx, e.dx, 2e-5, 1e-4, "dx", shape, layout);
    close(bn.dgamma, e.dgamma, 1e-4, 1e-4, "dgamma", shape, layout);
    close(bn.dbeta, e.dbeta, 1e-4, 1e-4, "dbeta", shape, layout);
  }
});

test("eval forward uses the running statistics; eval backward treats them as constants", () => {
  const C = 4, shape = [3, C, 5], layout = "NCL";
  const bn = new api.BatchNorm(C, { layout });
  bn.gamma.set([0.5, 1, 1.5, 2]); bn.beta.set([0, 1, -1, 0.25]);
  for (let i = 0; i < 5; i++) bn.forward(randomArray(60, 10 + i, { offset: 3, scale: 2 }), { shape });
  assert.is(bn.numBatchesTracked, 5);
  assert.ok(bn.runningMean.every((m) => m > 1), "running means moved towards 3");
  const x = randomArray(60, 77, { offset: 3, scale: 2 }), dy = randomArray(60, 78);
  const before = snapshot(bn);
  bn.eval();
  assert.is(bn.training, false);
  const y = bn.forward(x, { shape });
  const p = { gamma: bn.gamma, beta: bn.beta, runningMean: bn.runningMean, runningVar: bn.runningVar, eps: 1e-5 };
  close(y, refBnInfer(x, shape, layout, p), 1e-5, 1e-5, "eval y", shape, layout);
  assert.equal(bn.runningMean, before.rm, "eval does not update running mean");
  assert.equal(bn.runningVar, before.rv);
  assert.is(bn.numBatchesTracked, 5);
  const dx = bn.backward(dy);
  const e = refBnBackwardEval(x, dy, shape, layout, p);
  close(dx, e.dx, 1e-5, 1e-5, "eval dx", shape, layout);
  close(bn.dgamma, e.dgamma, 1e-4, 1e-4, "eval dgamma", shape, layout);
  close(bn.dbeta, e.dbeta, 1e-4, 1e-4, "eval dbeta", shape, layout);
  // Back to training: batch statistics again, and running stats move.
  bn.train();
  const yt = bn.forward(x, { shape });
  close(yt, refBnTrain(x, shape, layout, { ...p, runningMean: before.rm, runningVar: before.rv, momentum: 0.1 }).y, 2e-5, 1e-4, "train y", shape, layout);
  assert.is(bn.numBatchesTracked, 6);
});

test("defaults: training mode, pytorch convention, NC shapes inferred, Tensors in and out", () => {
  const bn = new api.BatchNorm(3);
  assert.is(bn.training, true);
  assert.is(bn.convention, "pytorch"); assert.is(bn.momentum, 0.1); assert.is(bn.eps, 1e-5);
  assert.equal(Array.from(bn.runningMean), [0, 0, 0]); assert.equal(Array.from(bn.runningVar), [1, 1, 1]);
  assert.is(bn.eval(), bn); assert.is(bn.train(), bn);
  const t = api.tensor([4, 3, 2, 2], "NCHW", randomArray(48, 5));
  const bn2 = new api.BatchNorm(3);
  const y = bn2.forward(t);
  assert.ok(y instanceof api.Tensor, "a Tensor in gives a Tensor out");
  assert.equal(y.shape, [4, 3, 2, 2]);
  const dy = api.tensor([4, 3, 2, 2], "NCHW", randomArray(48, 6));
  const dx = bn2.backward(dy);
  assert.ok(dx instanceof api.Tensor);
  const e = refBnTrain(t.toArray(), [4, 3, 2, 2], "NCHW", { runningMean: [0, 0, 0], runningVar: [1, 1, 1], eps: 1e-5, momentum: 0.1, gamma: [1, 1, 1], beta: [0, 0, 0], dy: dy.toArray() });
  close(y, e.y, 2e-5, 1e-4, "tensor y"); close(dx, e.dx, 2e-5, 1e-4, "tensor dx");
  [t, y, dy, dx].forEach((v) => v.free());
});

test("gradients: overwritten by default, summed with accumulate, zeroGrad; affine false has none", () => {
  const bn = new api.BatchNorm(2);
  const x = randomArray(20, 1), dy = randomArray(20, 2);
  bn.forward(x); bn.backward(dy);
  const g1 = bn.dgamma.slice(), b1 = bn.dbeta.slice();
  bn.forward(x); bn.backward(dy);
  close(bn.dgamma, g1, 0, 0, "overwrite");
  bn.forward(x); bn.backward(dy, { accumulate: true });
  close(bn.dgamma, g1.map((v) => 2 * v), 1e-6, 1e-6, "accumulated dgamma");
  close(bn.dbeta, b1.map((v) => 2 * v), 1e-6, 1e-6, "accumulated dbeta");
  bn.zeroGrad();
  assert.equal(Array.from(bn.dgamma), [0, 0]);
  const plain = new api.BatchNorm(2, { affine: false });
  assert.is(plain.gamma, null); assert.is(plain.dgamma, null);
  const y = plain.forward(x);
  close(y, refBnTrain(x, [10, 2], "NC", { runningMean: [0, 0], runningVar: [1, 1], eps: 1e-5, momentum: 0.1 }).y, 2e-5, 1e-4, "affine false y");
  plain.backward(dy);
});

test("misuse throws clear errors and changes nothing", () => {
  const bn = new api.BatchNorm(3);
  const x = randomArray(12, 1), dy = randomArray(12, 2);
  let before = snapshot(bn);
  throwsWith(() => bn.backward(dy), "BatchNorm.backward: no forward to differentiate", "call forward(x) first");
  unchanged(bn, before, "backward before forward");

  // A batch of one value per channel in training (PyTorch: "Expected more than 1 value per channel").
  throwsWith(() => bn.forward(Float32Array.of(1, 2, 3)), "training batch norm needs more than one value per channel", "[1,3]");
  throwsWith(() => bn.forward(randomArray(3 * 1 * 1, 3), { shape: [1, 3, 1, 1], layout: "NCHW" }), "more than one value per channel");
  unchanged(bn, before, "batch of one");
  // …which is fine in eval mode.
  bn.eval(); bn.forward(Float32Array.of(1, 2, 3)); bn.train();

  bn.forward(x);
  before = snapshot(bn);
  bn.eval();
  throwsWith(() => bn.backward(dy), "BatchNorm.backward in eval mode after a forward in training mode");
  unchanged(bn, before, "backward in the wrong mode");
  bn.train();
  throwsWith(() => bn.backward(dy.subarray(1)), "dy holds 11 values");
  unchanged(bn, before, "bad dy");
  bn.backward(dy); // the saved forward survived the failed attempts
  before = snapshot(bn);
  throwsWith(() => bn.backward(dy), "no forward to differentiate", "each forward allows one backward");
  unchanged(bn, before, "second backward");

  bn.eval(); bn.forward(x); bn.train();
  throwsWith(() => bn.backward(dy), "in training mode after a forward in eval mode");

  throwsWith(() => bn.forward(randomArray(12, 3), { shape: [3, 4], layout: "NC" }), "x has 4 channels", "the layer has 3");
  throwsWith(() => bn.forward(randomArray(10, 3)), "x holds 10 values, not a multiple of 3 channels");
  throwsWith(() => bn.forward(randomArray(24, 3), { layout: "NCHW" }), "a shape is required for layout NCHW");
  throwsWith(() => bn.forward(x, { out: x }), "out must not be x");
  throwsWith(() => bn.forward([1, 2, 3, 4, 5, 6]), "x must be a Float32Array or a simdnorm Tensor");
  unchanged(bn, before, "bad forwards");
  assert.equal(Array.from(x), Array.from(randomArray(12, 1)), "x untouched");

  throwsWith(() => new api.BatchNorm(0), "channels must be a positive integer, got 0");
  throwsWith(() => new api.BatchNorm(3, { layout: "NCWH" }), 'unknown layout "NCWH"');
  throwsWith(() => new api.BatchNorm(3, { convention: "mxnet" }), 'unknown convention "mxnet"', "caffe");
  throwsWith(() => new api.BatchNorm(3, { momentum: 1.5 }), "momentum must be in [0, 1], got 1.5");
  throwsWith(() => new api.BatchNorm(3, { eps: -1 }), "eps must be a finite number ≥ 0, got -1");
  throwsWith(() => new api.BatchNorm(3, { convention: "keras", momentum: null }), "momentum null (cumulative average) is a pytorch convention, not keras");
  throwsWith(() => bn.setStats([0, 0, 0], [1, -1, 1]), "var[1] is -1");
  throwsWith(() => bn.setStats([0, 0], [1, 1, 1]), "mean has 2 values, the layer has 3 channels");
  throwsWith(() => bn.setStats([0, 0, 0], [1, 1, 1], 2), "a normalizer is a caffe state");
  unchanged(bn, before, "bad setStats");
});

test("the classic bug cannot happen: every training forward moves the running statistics", () => {
  // Data far from the initial (0, 1): a model whose running stats never moved would normalize
  // test data with mean 0 / var 1 and be off by ~the offset.
  const C = 2, bn = new api.BatchNorm(C, { momentum: 0.5 });
  for (let i = 0; i < 12; i++) bn.forward(randomArray(64, i, { offset: 50, scale: 4 }));
  const s = moments(randomArray(64 * 12, 0, { offset: 50, scale: 4 }), C);
  for (let c = 0; c < C; c++) {
    assert.ok(Math.abs(bn.runningMean[c] - 50) < 1.5, `running mean ${bn.runningMean[c]} near 50`);
    assert.ok(Math.abs(bn.runningVar[c] - 16) < 6, `running var ${bn.runningVar[c]} near 16 (${s.unbiased[c]})`);
  }
  bn.eval();
  const y = bn.forward(randomArray(2000, 123, { offset: 50, scale: 4 }));
  const m = moments(y, C);
  for (let c = 0; c < C; c++) {
    assert.ok(Math.abs(m.mean[c]) < 0.5, `eval output mean ${m.mean[c]} ≈ 0`);
    assert.ok(Math.abs(m.biased[c] - 1) < 0.5, `eval output var ${m.biased[c]} ≈ 1`);
  }
});

/** Three training steps with different batches; returns the layer and the batch moments. */
function threeSteps(C, opts) {
  const bn = new api.BatchNorm(C, opts);
  const start = [randomArray(C, 40, { scale: 0.5 }), Float32Array.from(randomArray(C, 41), (v) => 0.5 + Math.abs(v))];
  if (opts.convention !== "caffe") bn.setStats(start[0], start[1]);
  const mom = [];
  for (let k = 0; k < 3; k++) {
    const x = randomArray(C * (5 + 3 * k), 50 + k, { offset: k - 1, scale: 1 + k });
    mom.push(moments(x, C));
    bn.forward(x);
  }
  return { bn, mom, start };
}

function expectRunning(bn, mean, v, what) {
  close(bn.runningMean, mean, 1e-6, 2e-6, `${what} running mean`);
  close(bn.runningVar, v, 1e-6, 2e-6, `${what} running var`);
}

test("conventions: each running update over 3 steps equals a hand computation", () => {
  const C = 5;
  const run = (opts, step) => {
    const { bn, mom, start } = threeSteps(C, opts);
    const m = Float64Array.from(start[0]), v = Float64Array.from(start[1]);
    mom.forEach((b, k) => step(m, v, b, k));
    expectRunning(bn, m, v, opts.convention + " " + opts.momentum);
    assert.is(bn.numBatchesTracked, 3);
    return bn;
  };
  // PyTorch: momentum = weight of the new batch, unbiased variance.
  let bn = run({ convention: "pytorch" }, (m, v, b) => { for (let c = 0; c < C; c++) { m[c] = 0.9 * m[c] + 0.1 * b.mean[c]; v[c] = 0.9 * v[c] + 0.1 * b.unbiased[c]; } });
  assert.is(bn.eps, 1e-5);
  // PyTorch momentum None: cumulative average, weight 1/(numBatchesTracked + 1).
  run({ convention: "pytorch", momentum: null }, (m, v, b, k) => { const w = 1 / (k + 1); for (let c = 0; c < C; c++) { m[c] = (1 - w) * m[c] + w * b.mean[c]; v[c] = (1 - w) * v[c] + w * b.unbiased[c]; } });
  // Keras: momentum = weight the old value keeps (0.99), biased variance, eps 1e-3.
  bn = run({ convention: "keras" }, (m, v, b) => { for (let c = 0; c < C; c++) { m[c] = 0.99 * m[c] + 0.01 * b.mean[c]; v[c] = 0.99 * v[c] + 0.01 * b.biased[c]; } });
  assert.is(bn.eps, 1e-3); assert.is(bn.momentum, 0.99);
  run({ convention: "keras", momentum: 0.6 }, (m, v, b) => { for (let c = 0; c < C; c++) { m[c] = 0.6 * m[c] + 0.4 * b.mean[c]; v[c] = 0.6 * v[c] + 0.4 * b.biased[c]; } });
  // ONNX: 0.9 kept, biased, eps 1e-5.
  bn = run({ convention: "onnx" }, (m, v, b) => { for (let c = 0; c < C; c++) { m[c] = 0.9 * m[c] + 0.1 * b.mean[c]; v[c] = 0.9 * v[c] + 0.1 * b.biased[c]; } });
  assert.is(bn.eps, 1e-5);
  // TF fused: exponential_avg_factor = weight of the new batch (default 1: replace), unbiased, eps 1e-3.
  bn = run({ convention: "tf-fused" }, (m, v, b) => { for (let c = 0; c < C; c++) { m[c] = b.mean[c]; v[c] = b.unbiased[c]; } });
  assert.is(bn.eps, 1e-3);
  run({ convention: "tf-fused", momentum: 0.3 }, (m, v, b) => { for (let c = 0; c < C; c++) { m[c] = 0.7 * m[c] + 0.3 * b.mean[c]; v[c] = 0.7 * v[c] + 0.3 * b.unbiased[c]; } });
});

test("caffe: blobs hold λ-weighted sums, normalizer s ← λs + 1, statistics = blob / s, eval uses them", () => {
  const C = 4, lam = 0.999;
  const bn = new api.BatchNorm(C, { convention: "caffe" });
  assert.is(bn.momentum, 0.999); assert.is(bn.eps, 1e-5);
  // Caffe starts every blob at 0; before any update the statistics are 0 (scale factor 0).
  assert.is(bn.normalizer, 0);
  assert.equal(Array.from(bn.stats().var), [0, 0, 0, 0]);
  const { mom } = threeSteps(C, { convention: "caffe" });
  const again = threeSteps(C, { convention: "caffe" }).bn; // deterministic
  const sm = new Float64Array(C), sv = new Float64Array(C);
  let s = 0;
  for (const b of mom) { for (let c = 0; c < C; c++) { sm[c] = lam * sm[c] + b.mean[c]; sv[c] = lam * sv[c] + b.unbiased[c]; } s = lam * s + 1; }
  expectRunning(again, sm, sv, "caffe blobs");
  assert.ok(Math.abs(again.normalizer - s) < 1e-6, `normalizer ${again.normalizer} vs ${s}`);
  assert.ok(Math.abs(s - (1 + lam + lam * lam)) < 1e-12);
  const st = again.stats();
  close(st.mean, sm.map((v) => v / s), 1e-6, 2e-6, "caffe mean = blob/s");
  close(st.var, sv.map((v) => v / s), 1e-6, 2e-6, "caffe var = blob/s");
  // Eval normalizes with blob / s.
  again.eval();
  const x = randomArray(8 * C, 9);
  close(again.forward(x), refBnInfer(x, [8, C], "NC", { gamma: again.gamma, beta: again.beta, runningMean: st.mean, runningVar: st.var, eps: 1e-5 }), 1e-5, 1e-5, "caffe eval y");
  // The functional API with convention caffe updates sums the same way.
  const rm = new Float32Array(C), rv = new Float32Array(C), xb = randomArray(6 * C, 50);
  api.batchNormTrain(xb, { shape: [6, C], layout: "NC", runningMean: rm, runningVar: rv, convention: "caffe" });
  const b0 = moments(xb, C);
  close(rm, b0.mean, 1e-6, 2e-6, "functional caffe mean blob"); close(rv, b0.unbiased, 1e-6, 2e-6, "functional caffe var blob");
});

test("eval with running statistics that were never updated", () => {
  const x = randomArray(40, 3, { offset: 20, scale: 5 });
  const fresh = new api.BatchNorm(4).eval();
  // mean 0, var 1: the output is the input (÷ sqrt(1 + eps)), nowhere near normalized.
  close(fresh.forward(x), Float64Array.from(x, (v) => v / Math.sqrt(1 + 1e-5)), 1e-4, 1e-5, "pytorch fresh eval");
  const caffe = new api.BatchNorm(4, { convention: "caffe" }).eval();
  // Caffe's zero blobs: mean 0, var 0 → x / sqrt(eps), ~316× the input.
  close(caffe.forward(x), Float64Array.from(x, (v) => v / Math.sqrt(1e-5)), 1e-2, 1e-5, "caffe fresh eval");
});

test("InstanceNorm, GroupNorm, LayerNorm layers equal the reference forward and backward; same mode rules", () => {
  const kinds = [
    ["InstanceNorm", (C, layout) => new api.InstanceNorm(C, { layout, affine: true }), refInstanceNorm, {}],
    ["GroupNorm", (C, layout) => new api.GroupNorm(C, { layout, groups: 2 }), refGroupNorm, { groups: 2 }],
    ["LayerNorm", (C, layout) => new api.LayerNorm(C, { layout }), refLayerNorm, {}],
  ];
  for (const [name, make, ref, extra] of kinds) {
    for (const [layout, N, C, S] of [["NCHW", 2, 4, 9], ["NLC", 3, 6, 5], ["NCDHW", 2, 6, 8]]) {
      const shape = shapeFor(layout, N, C, S), layer = make(C, layout);
      layer.gamma.set(randomArray(C, 1, { offset: 1, scale: 0.3 })); layer.beta.set(randomArray(C, 2));
      const x = randomArray(N * C * S, 3, { offset: 4, scale: 2 }), dy = randomArray(x.length, 4);
      const e = ref(x, dy, shape, layout, { gamma: layer.gamma, beta: layer.beta, eps: 1e-5, ...extra });
      close(layer.forward(x, { shape }), e.y, 2e-5, 1e-4, `${name} y`, shape, layout);
      close(layer.backward(dy), e.dx, 5e-5, 1e-4, `${name} dx`, shape, layout);
      close(layer.dgamma, e.dgamma, 1e-4, 1e-4, `${name} dgamma`);
      close(layer.dbeta, e.dbeta, 1e-4, 1e-4, `${name} dbeta`);
      // eval: same statistics (per sample), no running state
      layer.eval();
      close(layer.forward(x, { shape }), e.y, 2e-5, 1e-4, `${name} eval y`, shape, layout);
      layer.train();
      throwsWith(() => layer.backward(dy), `${name}.backward in training mode after a forward in eval mode`);
      throwsWith(() => layer.backward(dy), `${name}.backward in training mode`);
      layer.forward(x, { shape }); layer.backward(dy);
      throwsWith(() => layer.backward(dy), `${name}.backward: no forward to differentiate`);
    }
  }
  assert.is(new api.InstanceNorm(3).affine, false, "InstanceNorm: affine false by default (PyTorch)");
  assert.is(new api.GroupNorm(4, { groups: 2 }).affine, true);
  throwsWith(() => new api.GroupNorm(6, { groups: 4 }), "6 channels cannot be split into 4 groups");
  throwsWith(() => new api.GroupNorm(6), "groups must be a positive integer, got undefined");
  throwsWith(() => new api.InstanceNorm(3).forward(randomArray(12, 1)), "instance norm needs more than one spatial position");
  const ln = new api.LayerNorm(8);
  assert.equal(api.parameterCounts(ln).pytorch, { parameters: 16, buffers: 0 });
  assert.equal(api.parameterCounts(ln).keras, { total: 16, trainable: 16, nonTrainable: 0 });
  assert.equal(api.parameterCounts(new api.InstanceNorm(8)).pytorch, { parameters: 0, buffers: 0 });
  // LayerNorm on (N, C) features: each row normalized over its C values.
  const y = ln.forward(randomArray(24, 9, { offset: 3 }));
  for (let n = 0; n < 3; n++) {
    const row = y.subarray(8 * n, 8 * n + 8), m = row.reduce((a, b) => a + b) / 8;
    assert.ok(Math.abs(m) < 1e-5, `row ${n} mean ${m}`);
  }
});


test("layers read the caller's shape array once: changing it between forward and backward changes nothing", () => {
  const x = randomArray(120, 31, { offset: 1, scale: 1.5 }), dy = randomArray(120, 32);
  const make = {
    BatchNorm: () => new api.BatchNorm(3, { layout: "NCHW" }),
    InstanceNorm: () => new api.InstanceNorm(3, { layout: "NCHW", affine: true }),
    GroupNorm: () => new api.GroupNorm(3, { layout: "NCHW", groups: 3 }),
    LayerNorm: () => new api.LayerNorm(3, { layout: "NCHW" }),
    RMSNorm: () => new api.RMSNorm(3, { layout: "NCHW" }),
  };
  for (const [name, mk] of Object.entries(make)) {
    const ref = mk(), L = mk(), shape = [2, 3, 4, 5];
    ref.forward(x, { shape: [2, 3, 4, 5] });
    const want = ref.backward(dy);
    L.forward(x, { shape });
    shape[0] = 4; shape[2] = 2; // the caller reuses its array: same size, same C
    const got = L.backward(dy);
    for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]), `${name} dx[${i}]: ${got[i]} vs ${want[i]}`);
  }
});

test("layers: the shape array's values are read once, in forward, never again in backward", () => {
  for (const Layer of ["BatchNorm", "LayerNorm", "GroupNorm"]) {
    let reads = 0;
    const shape = new Proxy([2, 3, 4, 5], { get(t, k, r) { if (k === "0") reads++; return Reflect.get(t, k, r); } });
    const L = new api[Layer](3, { layout: "NCHW", ...(Layer === "GroupNorm" ? { groups: 3 } : {}) });
    L.forward(randomArray(120, 33), { shape });
    const forward = reads;
    L.backward(randomArray(120, 34));
    assert.is(forward, 1, `${Layer}: shape[0] reads in forward`);
    assert.is(reads - forward, 0, `${Layer}: shape[0] reads in backward`);
  }
});

test.run();
