// Weights interop: Keras get_weights() order, PyTorch state_dict, Caffe BatchNorm + Scale blobs,
// ONNX BatchNormalization inputs. Lossless round trips, conversions between conventions,
// parameter counts as each framework reports them, and imports that fail change nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray, refBnInfer } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

await api.init();
const C = 6;

/** A layer with a non-trivial state: a few training steps, random gamma/beta. */
function trained(opts = {}, seed = 1) {
  const bn = new api.BatchNorm(C, opts);
  if (bn.affine) { bn.gamma.set(randomArray(C, seed, { offset: 1, scale: 0.4 })); bn.beta.set(randomArray(C, seed + 1)); }
  for (let k = 0; k < 3; k++) bn.forward(randomArray(C * 8, seed + 10 + k, { offset: 3, scale: 2 }));
  return bn;
}

const bits = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
function sameBits(a, b, what) {
  const x = bits(a), y = bits(b);
  assert.ok(!(x.length !== y.length || x.some((v, i) => v !== y[i])), `${what}: not bit-identical (${Array.from(a).slice(0, 3)}… vs ${Array.from(b).slice(0, 3)}…)`);
}
function sameState(a, b, what) {
  sameBits(a.runningMean, b.runningMean, `${what} runningMean`);
  sameBits(a.runningVar, b.runningVar, `${what} runningVar`);
  if (a.affine) { sameBits(a.gamma, b.gamma, `${what} gamma`); sameBits(a.beta, b.beta, `${what} beta`); }
  assert.is(b.normalizer, a.normalizer, `${what} normalizer`);
}
function sameTree(a, b, what) {
  if (ArrayBuffer.isView(a) || Array.isArray(a)) {
    if (a.length && typeof a[0] === "object") return a.forEach((v, i) => sameTree(v, b[i], `${what}[${i}]`));
    return sameBits(a, b, what);
  }
  if (a && typeof a === "object") {
    assert.equal(Object.keys(b).sort(), Object.keys(a).sort(), `${what} keys`);
    for (const k of Object.keys(a)) sameTree(a[k], b[k], `${what}.${k}`);
    return;
  }
  assert.is(b, a, what);
}

for (const format of ["keras", "pytorch", "caffe", "onnx"]) {
  test(`${format}: export → import → export is lossless (same layer state, same bits)`, () => {
    for (const conv of ["pytorch", "keras", "onnx", "tf-fused", "caffe"]) {
      for (const affine of [true, false]) {
        const a = trained({ convention: conv, affine });
        const w = api.exportWeights(a, format);
        const b = api.importWeights(new api.BatchNorm(C, { convention: conv, affine }), format, w);
        sameTree(w, api.exportWeights(b, format), `${format}/${conv}/affine ${affine}`);
        // Statistics-holding formats are lossless for every convention but caffe (which keeps sums);
        // the caffe format is lossless for the caffe convention (blobs + normalizer).
        if (format === "caffe" || conv !== "caffe") sameState(a, b, `${format}/${conv}`);
        if (format === "pytorch") assert.is(b.numBatchesTracked, 3);
        // Eval outputs agree.
        a.eval(); b.eval();
        const x = randomArray(4 * C, 5, { offset: 3 });
        close(b.forward(x), a.forward(x).slice(), 1e-5, 1e-5, `${format}/${conv} eval y`);
      }
    }
  });
}

test("import → export returns the given float32 values exactly", () => {
  const [g, b, m] = [1, 2, 3].map((s) => randomArray(C, s));
  const v = Float32Array.from(randomArray(C, 4), (x) => Math.abs(x) + 0.1);
  const bn = new api.BatchNorm(C);
  sameTree([g, b, m, v], api.exportWeights(api.importWeights(bn, "keras", [g, b, m, v]), "keras"), "keras");
  const sd = { weight: g, bias: b, running_mean: m, running_var: v, num_batches_tracked: 1234 };
  sameTree(sd, api.exportWeights(api.importWeights(bn, "pytorch", sd), "pytorch"), "pytorch");
  const cw = { batchNorm: [m, v, Float32Array.of(17.5)], scale: [g, b] };
  sameTree(cw, api.exportWeights(api.importWeights(new api.BatchNorm(C, { convention: "caffe" }), "caffe", cw), "caffe"), "caffe");
  const ow = { scale: g, B: b, input_mean: m, input_var: v };
  const back = api.exportWeights(api.importWeights(new api.BatchNorm(C, { convention: "onnx" }), "onnx", ow), "onnx");
  assert.equal(back.attributes, { epsilon: 1e-5, momentum: 0.9 });
  delete back.attributes;
  sameTree(ow, back, "onnx");
  // number[] (JSON) in, exact float32 out
  const bn2 = api.importWeights(new api.BatchNorm(C), "keras", [g, b, m, v].map((a) => Array.from(a)));
  sameTree([g, b, m, v], api.exportWeights(bn2, "keras"), "keras from number[]");
});

test("keras order is [gamma, beta, moving_mean, moving_variance]; pytorch keys; caffe blobs; onnx inputs", () => {
  const bn = trained({ convention: "keras" });
  const w = api.exportWeights(bn, "keras");
  assert.is(w.length, 4);
  sameBits(w[0], bn.gamma, "gamma"); sameBits(w[1], bn.beta, "beta"); sameBits(w[2], bn.runningMean, "moving_mean"); sameBits(w[3], bn.runningVar, "moving_variance");
  assert.is(api.exportWeights(new api.BatchNorm(C, { affine: false }), "keras").length, 2);
  const sd = api.exportWeights(trained(), "pytorch");
  assert.equal(Object.keys(sd), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
  assert.is(sd.num_batches_tracked, 3);
  assert.equal(Object.keys(api.exportWeights(new api.BatchNorm(C, { affine: false }), "pytorch")), ["running_mean", "running_var", "num_batches_tracked"]);
  const cf = api.exportWeights(trained(), "caffe");
  assert.is(cf.batchNorm.length, 3); assert.is(cf.batchNorm[2].length, 1); assert.is(cf.batchNorm[2][0], 1, "statistics conventions export s = 1");
  assert.is(cf.scale.length, 2);
  assert.is(api.exportWeights(new api.BatchNorm(C, { affine: false }), "caffe").scale, null);
  const on = api.exportWeights(trained(), "onnx");
  assert.equal(Object.keys(on), ["scale", "B", "input_mean", "input_var", "attributes"]);
  assert.equal(on.attributes, { epsilon: 1e-5, momentum: 0.9 }, "pytorch momentum 0.1 → onnx 0.9");
  const noAffine = api.exportWeights(new api.BatchNorm(C, { affine: false }), "onnx");
  assert.equal(Array.from(noAffine.scale), new Array(C).fill(1)); assert.equal(Array.from(noAffine.B), new Array(C).fill(0));
  assert.equal(api.exportWeights(new api.BatchNorm(C, { momentum: null }), "onnx").attributes, { epsilon: 1e-5 });
});

test("caffe blobs into a statistics layer are divided by s; statistics into a caffe layer get s = 1", () => {
  const caffe = trained({ convention: "caffe" });
  const s = caffe.normalizer;
  assert.ok(Math.abs(s - (1 + 0.999 + 0.999 ** 2)) < 1e-6);
  const blobs = api.exportWeights(caffe, "caffe");
  const torch = api.importWeights(new api.BatchNorm(C), "caffe", blobs);
  close(torch.runningMean, Float64Array.from(blobs.batchNorm[0], (v) => v / s), 1e-7, 1e-6, "mean = blob0 / s");
  close(torch.runningVar, Float64Array.from(blobs.batchNorm[1], (v) => v / s), 1e-7, 1e-6, "var = blob1 / s");
  sameBits(torch.gamma, caffe.gamma, "gamma from Scale");
  // The pytorch export of a caffe layer holds its statistics (blob / s).
  const sd = api.exportWeights(caffe, "pytorch");
  close(sd.running_mean, torch.runningMean, 0, 0, "caffe layer → pytorch running_mean");
  // s = 0 (never trained): Caffe's scale factor is 0, statistics 0.
  const zero = api.importWeights(new api.BatchNorm(C), "caffe", { batchNorm: [new Float32Array(C), new Float32Array(C), 0], scale: [new Float32Array(C).fill(1), new Float32Array(C)] });
  assert.equal(Array.from(zero.runningVar), new Array(C).fill(0));
  // Statistics into a caffe layer.
  const src = trained();
  const c2 = api.importWeights(new api.BatchNorm(C, { convention: "caffe" }), "pytorch", api.exportWeights(src, "pytorch"));
  assert.is(c2.normalizer, 1);
  sameBits(c2.stats().mean, src.runningMean, "caffe layer stats");
});

test("pytorch: whole-model state_dict with a prefix; num_batches_tracked as number, bigint, [n], BigInt64Array or absent", () => {
  const src = api.exportWeights(trained(), "pytorch");
  const model = { "conv.weight": new Float32Array(9) };
  for (const [k, v] of Object.entries(src)) model["features.1." + k] = v;
  model["features.1.num_batches_tracked"] = 42n;
  const bn = api.importWeights(new api.BatchNorm(C), "pytorch", model, { prefix: "features.1." });
  assert.is(bn.numBatchesTracked, 42);
  sameBits(bn.runningVar, src.running_var, "prefixed running_var");
  for (const nbt of [7, 7n, [7], BigInt64Array.of(7n)]) assert.is(api.importWeights(new api.BatchNorm(C), "pytorch", { ...src, num_batches_tracked: nbt }).numBatchesTracked, 7);
  const { num_batches_tracked, ...old } = src;
  assert.is(api.importWeights(new api.BatchNorm(C), "pytorch", old).numBatchesTracked, 0);
});

test("bad imports name the problem and change nothing", () => {
  const bn = trained();
  const snap = () => [bn.gamma, bn.beta, bn.runningMean, bn.runningVar].map((a) => Array.from(a)).concat([bn.numBatchesTracked, bn.normalizer]);
  const before = snap();
  const good = api.exportWeights(bn, "pytorch");
  const rej = (fn, ...frags) => { throwsWith(fn, ...frags); assert.equal(snap(), before, "state unchanged"); };
  const z = new Float32Array(C), one = new Float32Array(C).fill(1);
  rej(() => api.importWeights(bn, "keras", [one, z, z]), "keras weights must be a list of 4 arrays [gamma, beta, moving_mean, moving_variance], got 3 arrays");
  rej(() => api.importWeights(bn, "keras", [one, z, z, new Float32Array(C + 1)]), "moving_variance has 7 values, the layer has 6 channels");
  rej(() => api.importWeights(bn, "keras", [one, z, z, Float32Array.of(1, 1, -2, 1, 1, 1)]), "var[2] is -2");
  rej(() => api.importWeights(bn, "keras", [one, z, [0, 0, NaN, 0, 0, 0], one]), "moving_mean[2] is NaN: expected a finite number");
  rej(() => api.importWeights(bn, "keras", [one, [0, Infinity, 0, 0, 0, 0], z, one]), "beta[1] is Infinity");
  rej(() => api.importWeights(bn, "pytorch", { ...good, running_var: undefined }), "missing key(s) in state_dict: running_var");
  rej(() => api.importWeights(bn, "pytorch", { ...good, weight: undefined }), "missing key(s) in state_dict: weight");
  rej(() => api.importWeights(bn, "pytorch", { ...good, running_std: z }), "unexpected key(s) in state_dict: running_std");
  rej(() => api.importWeights(bn, "pytorch", { ...good, num_batches_tracked: 1.5 }), "num_batches_tracked must be an integer, got 1.5");
  rej(() => api.importWeights(bn, "pytorch", { ...good, num_batches_tracked: -1 }), "num_batches_tracked must be a finite number ≥ 0, got -1");
  rej(() => api.importWeights(bn, "caffe", { batchNorm: [z, one] }), "the BatchNorm layer's 3 blobs");
  rej(() => api.importWeights(bn, "caffe", { batchNorm: [z, one, [1, 2]] }), "normalizer s) must hold one value, got 2");
  rej(() => api.importWeights(bn, "caffe", { batchNorm: [z, one, 1] }), "the weights hold no gamma/beta but the layer has affine: true");
  rej(() => api.importWeights(bn, "caffe", { batchNorm: [z, one, 1], scale: [one] }), "Scale layer's 2 blobs [gamma, beta]");
  rej(() => api.importWeights(bn, "onnx", { scale: one, B: z, input_mean: z }), "input_var must be an array of 6 numbers, got undefined");
  rej(() => api.importWeights(new api.BatchNorm(C, { affine: false }), "onnx", { scale: Float32Array.of(2, 1, 1, 1, 1, 1), B: z, input_mean: z, input_var: one }), "scale/B are not 1/0 but the layer has affine: false");
  rej(() => api.importWeights(new api.BatchNorm(C, { affine: false }), "pytorch", good), "the weights hold gamma/beta but the layer has affine: false");
  rej(() => api.importWeights(bn, "tflite", []), 'unknown weight format "tflite"');
  rej(() => api.importWeights({}, "keras", []), "expected a simdnorm BatchNorm layer");
  rej(() => api.importWeights(bn, "keras", null), "keras weights must be an object or array, got null");
  throwsWith(() => api.exportWeights(bn, "tflite"), 'unknown weight format "tflite"');
});

test("parameter counts as each framework reports them", () => {
  const bn = new api.BatchNorm(64);
  assert.equal(api.parameterCounts(bn), {
    keras: { total: 256, trainable: 128, nonTrainable: 128 },  // 4·C, 2·C, 2·C
    pytorch: { parameters: 128, buffers: 129 },                // weight+bias; running_mean+running_var+num_batches_tracked
    caffe: { batchNorm: 129, scale: 128 },                      // 2·C+1 blob values; Scale 2·C
    onnx: { initializers: 256 },
  });
  // The counts agree with the exported weights.
  const k = api.exportWeights(bn, "keras"), sd = api.exportWeights(bn, "pytorch"), cf = api.exportWeights(bn, "caffe");
  assert.is(k.reduce((a, w) => a + w.length, 0), 256);
  assert.is(sd.weight.length + sd.bias.length, 128);
  assert.is(sd.running_mean.length + sd.running_var.length + 1, 129);
  assert.is(cf.batchNorm.reduce((a, w) => a + w.length, 0), 129);
  assert.equal(api.parameterCounts(new api.BatchNorm(10, { affine: false })), {
    keras: { total: 20, trainable: 0, nonTrainable: 20 }, pytorch: { parameters: 0, buffers: 21 }, caffe: { batchNorm: 21, scale: 0 }, onnx: { initializers: 40 },
  });
  throwsWith(() => api.parameterCounts({}), "expected a simdnorm normalization layer");
});

test("imported statistics are what eval normalizes with", () => {
  const m = randomArray(C, 7, { offset: 2 }), v = Float32Array.from(randomArray(C, 8), (x) => 0.2 + x * x);
  const g = randomArray(C, 9, { offset: 1 }), b = randomArray(C, 10);
  const bn = api.importWeights(new api.BatchNorm(C, { convention: "keras" }), "keras", [g, b, m, v]).eval();
  const x = randomArray(5 * C, 11, { offset: 2 });
  close(bn.forward(x), refBnInfer(x, [5, C], "NC", { gamma: g, beta: b, runningMean: m, runningVar: v, eps: 1e-3 }), 1e-5, 1e-5, "keras eval y");
});

test.run();
