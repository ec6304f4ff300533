// Option names: a name a call does not read is refused with its value given (Keras' `epsilon`
// would otherwise leave eps at its default), with the name meant when there is one; undefined
// values are absent; a backward takes its forward's options unread; nothing is written first.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { throwsWith } from "./helpers.mjs";

await api.init();
const N = 2, C = 4, S = 6, shape = [N, C, S], layout = "NCL", K = N * S;
const x = randomArray(N * C * S, 1), dy = randomArray(N * C * S, 2);
const gamma = Float32Array.of(1, 2, 3, 4), beta = Float32Array.of(0, 1, 0, 1);
const stats = () => ({ runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
const f32 = (n, v = 1) => new Float32Array(n).fill(v);

/** Every op that takes an options object, with options it accepts. */
const OPS = [
  ["channelStats", (o) => api.channelStats(x, { shape, layout, ...o })],
  ["partialStats", (o) => api.partialStats(x, { shape, layout, ...o })],
  ["StatsAccumulator.update", (o) => new api.StatsAccumulator(C).update(x, { shape, layout, ...o })],
  ["batchNormTrain", (o) => api.batchNormTrain(x, { shape, layout, gamma, beta, ...stats(), ...o })],
  ["batchNormInfer", (o) => api.batchNormInfer(x, { shape, layout, gamma, beta, ...stats(), ...o })],
  ["batchNormBackward", (o) => api.batchNormBackward(x, dy, { shape, layout, gamma, saveMean: f32(C, 0), saveInvstd: f32(C), ...o })],
  ["batchNormBackwardEval", (o) => api.batchNormBackwardEval(x, dy, { shape, layout, gamma, ...stats(), ...o })],
  ["backwardPartials", (o) => api.backwardPartials(x, dy, { shape, layout, saveMean: f32(C, 0), ...o })],
  ["instanceNorm", (o) => api.instanceNorm(x, { shape, layout, gamma, beta, ...o })],
  ["instanceNormBackward", (o) => api.instanceNormBackward(x, dy, { shape, layout, gamma, mean: f32(N * C, 0), invstd: f32(N * C), ...o })],
  ["groupNorm", (o) => api.groupNorm(x, { shape, layout, groups: 2, gamma, beta, ...o })],
  ["groupNormBackward", (o) => api.groupNormBackward(x, dy, { shape, layout, groups: 2, gamma, mean: f32(N * 2, 0), invstd: f32(N * 2), ...o })],
  ["layerNorm", (o) => api.layerNorm(x, { shape, layout, gamma, beta, ...o })],
  ["layerNormBackward", (o) => api.layerNormBackward(x, dy, { shape, layout, gamma, mean: f32(K, 0), invstd: f32(K), ...o })],
  ["rmsNorm", (o) => api.rmsNorm(x, { shape, layout, gamma, ...o })],
  ["rmsNormBackward", (o) => api.rmsNormBackward(x, dy, { shape, layout, gamma, invRms: f32(K), ...o })],
  ["skipLayerNorm", (o) => api.skipLayerNorm(x, dy, { shape, layout, gamma, beta, ...o })],
  ["skipLayerNormBackward", (o) => api.skipLayerNormBackward(x, dy, { shape, layout, gamma, mean: f32(K, 0), invstd: f32(K), ...o })],
  ["skipRmsNorm", (o) => api.skipRmsNorm(x, dy, { shape, layout, gamma, ...o })],
  ["skipRmsNormBackward", (o) => api.skipRmsNormBackward(x, dy, { shape, layout, gamma, invRms: f32(K), ...o })],
  ["BatchNorm", (o) => new api.BatchNorm(C, { layout, ...o })],
  ["InstanceNorm", (o) => new api.InstanceNorm(C, { layout, ...o })],
  ["GroupNorm", (o) => new api.GroupNorm(C, { layout, groups: 2, ...o })],
  ["LayerNorm", (o) => new api.LayerNorm(C, { layout, ...o })],
  ["RMSNorm", (o) => new api.RMSNorm(C, { layout, ...o })],
  ["layer.forward", (o) => new api.LayerNorm(C, { layout }).forward(x, { shape, ...o })],
  ["layer.backward", (o) => { const l = new api.LayerNorm(C, { layout }); l.forward(x, { shape }); return l.backward(dy, o); }],
  ["Standardizer", (o) => new api.Standardizer(C, { layout, ...o })],
  ["Standardizer.partialFit", (o) => new api.Standardizer(C, { layout }).partialFit(x, { shape, ...o })],
  ["Standardizer.transform", (o) => new api.Standardizer(C, { layout }).fit(x, { shape }).transform(x, { shape, ...o })],
  ["preciseBatchNormStats", (o) => api.preciseBatchNormStats(new api.BatchNorm(C, { layout }), [{ x, shape, ...o }])],
  ["fromPixels", (o) => api.fromPixels(new Uint8Array(2 * 3 * 4), { width: 2, height: 3, preset: "imagenet", ...o })],
  ["pixelPartials", (o) => api.pixelPartials(new Uint8Array(2 * 3 * 4), { width: 2, height: 3, ...o })],
  ["foldBatchNorm", (o) => api.foldBatchNorm(f32(8), { weightLayout: "OI", ...stats(), ...o })],
  ["importWeights", (o) => api.importWeights(new api.BatchNorm(C), "pytorch", { weight: gamma, bias: beta, running_mean: f32(C, 0), running_var: f32(C) }, o)],
];

const free = (r) => {
  for (const v of r && typeof r === "object" ? Object.values(r) : []) if (v && typeof v.free === "function") v.free();
};

test("every op runs with its own options, and refuses a name it does not read, naming it", () => {
  for (const [name, call] of OPS) {
    free(call({}));
    throwsWith(() => call({ bogusOption: 1 }), 'unknown option "bogusOption"', "read here are");
  }
});

test("a name whose value is undefined is absent (`{ ...o, groups: undefined }` passes)", () => {
  for (const [, call] of OPS) free(call({ bogusOption: undefined }));
});

test("the name meant: another framework's, another case or spelling", () => {
  const cases = [
    ["batchNormTrain", { epsilon: 1e-3 }, "epsilon", "eps"],
    ["batchNormTrain", { running_mean: f32(C) }, "running_mean", "runningMean"],
    ["batchNormTrain", { moving_variance: f32(C) }, "moving_variance", "runningVar"],
    ["batchNormInfer", { mean: f32(C) }, "mean", "runningMean"],
    ["layerNorm", { weight: gamma }, "weight", "gamma"],
    ["layerNorm", { bias: beta }, "bias", "beta"],
    ["layerNorm", { data_format: "NLC" }, "data_format", "layout"],
    ["layerNorm", { gama: gamma }, "gama", "gamma"],
    ["groupNorm", { num_groups: 2 }, "num_groups", "groups"],
    ["rmsNorm", { variance_epsilon: 1e-6 }, "variance_epsilon", "eps"],
    ["BatchNorm", { epsilon: 1e-3 }, "epsilon", "eps"],
    ["fromPixels", { Layout: "NHWC" }, "Layout", "layout"],
  ];
  for (const [name, o, k, meant] of cases) {
    const call = OPS.find(([n]) => n === name)[1];
    throwsWith(() => call(o), `unknown option "${k}" (did you mean "${meant}"?)`);
  }
  // No near name: no guess.
  const e = throwsWith(() => api.layerNorm(x, { shape, layout, momentum: 0.1 }), 'unknown option "momentum"');
  assert.not.ok(e.message.includes("did you mean"), e.message);
});

test("an op refuses its relatives' options: groups outside group norm, the other norm's statistics, gradients at inference", () => {
  const cases = [
    [() => api.instanceNorm(x, { shape, layout, groups: 2 }), "groups"],
    [() => api.layerNorm(x, { shape, layout, groups: 2 }), "groups"],
    [() => api.instanceNormBackward(x, dy, { shape, layout, mean: f32(N * C, 0), invstd: f32(N * C), groups: 2 }), "groups"],
    [() => api.batchNormInfer(x, { shape, layout, ...stats(), dgammaOut: f32(C) }), "dgammaOut"],
    [() => api.skipLayerNorm(x, dy, { shape, layout, unitOffset: true }), "unitOffset"],
    [() => api.skipRmsNorm(x, dy, { shape, layout, meanOut: f32(K) }), "meanOut"],
    [() => api.skipRmsNormBackward(x, dy, { shape, layout, invRms: f32(K), mean: f32(K) }), "mean"],
  ];
  for (const [call, k] of cases) throwsWith(call, `unknown option "${k}"`);
  throwsWith(() => api.skipRmsNormBackward(x, dy, { shape, layout, invRms: f32(K), beta }), "beta is not a parameter of RMS norm");
});

test("a backward takes its forward's options unread, and still refuses other names", () => {
  const fwd = { shape, layout, gamma, beta, eps: 1e-3, activation: "relu" };
  const f = api.layerNorm(x, fwd);
  const a = api.layerNormBackward(x, dy, { ...fwd, mean: f.mean, invstd: f.invstd });
  const b = api.layerNormBackward(x, dy, { shape, layout, gamma, beta, activation: "relu", mean: f.mean, invstd: f.invstd });
  assert.equal(Array.from(a.dx), Array.from(b.dx));
  const train = { shape, layout, gamma, beta, ...stats(), momentum: 0.2, eps: 1e-3 };
  const t = api.batchNormTrain(x, train);
  api.batchNormBackward(x, dy, { ...train, saveMean: t.saveMean, saveInvstd: t.saveInvstd });
  api.backwardPartials(x, dy, { ...train, saveMean: t.saveMean, saveInvstd: t.saveInvstd });
  const e = throwsWith(() => api.layerNormBackward(x, dy, { ...fwd, mean: f.mean, invstd: f.invstd, epsilon: 1 }), 'unknown option "epsilon" (did you mean "eps"?)');
  assert.ok(e.message.includes("the forward's"), e.message);
  // The forward takes no backward's names.
  throwsWith(() => api.layerNorm(x, { ...fwd, mean: f.mean }), 'unknown option "mean"');
});

test("inherited names count (a read sees them); symbols and non-enumerable names do not", () => {
  throwsWith(() => api.layerNorm(x, Object.assign(Object.create({ epsilon: 1 }), { shape, layout })), 'unknown option "epsilon"');
  const o = { shape, layout, [Symbol("tag")]: 1 };
  Object.defineProperty(o, "hidden", { value: 1, enumerable: false });
  api.layerNorm(x, o);
});

test("nothing is written when a name is refused", () => {
  const s = stats(), y = new Float32Array(x.length).fill(5), mean0 = s.runningMean.slice();
  throwsWith(() => api.batchNormTrain(x, { shape, layout, ...s, out: y, epsilon: 1e-3 }), 'unknown option "epsilon"');
  assert.equal(Array.from(s.runningMean), Array.from(mean0));
  assert.ok(y.every((v) => v === 5));
  const m = f32(K, 9);
  throwsWith(() => api.layerNorm(x, { shape, layout, out: y, meanOut: m, weight: gamma }), 'unknown option "weight"');
  assert.ok(y.every((v) => v === 5) && m.every((v) => v === 9));
});

test("init and createPool reject a name they do not read (init already done: still checked)", async () => {
  await throwsWith(() => api.init({ warmUp: true }), 'unknown option "warmUp" (did you mean "warmup"?)', "init options");
  await throwsWith(() => api.init("fast"), "init options must be an object");
  await api.init({ warmup: undefined });
  await throwsWith(() => api.createPool({ worker: 2 }), 'unknown option "worker" (did you mean "workers"?)', "createPool options");
});

test("the pool: shape and out belong to each shard; whole-tensor options are read like the op's", async () => {
  const pool = await api.createPool({ workers: 1 });
  try {
    const shards = [{ x: x.slice(), shape }];
    await throwsWith(() => pool.syncBatchNormTrain(shards, { layout, shape }), "shape is not an option of syncBatchNormTrain");
    await throwsWith(() => pool.syncBatchNormTrain(shards, { layout, epsilon: 1e-3 }), 'unknown option "epsilon"');
    await throwsWith(() => pool.partialStats(x, { shape, layout, epsilon: 1 }), 'unknown option "epsilon"');
    await throwsWith(() => pool.syncPartialStats(shards, { layout, shape }), 'unknown option "shape"');
    const r = await pool.syncBatchNormTrain(shards, { layout, gamma, beta });
    assert.is(r.ys.length, 1);
  } finally {
    await pool.close();
  }
});

test.run();
