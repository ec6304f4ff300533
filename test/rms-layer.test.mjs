// The RMSNorm layer, `activation` on the layer objects, and RMSNorm weights in and out.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refRmsNorm, refWithAct, refGroupNorm, refBnTrain, refBnBackward, act, dact, randomArray } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

await api.init();

test("RMSNorm layer: forward/backward against the reference, unitOffset (Gemma), activation, accumulate", () => {
  const C = 20, x = randomArray(3 * C, 1), dy = randomArray(3 * C, 2);
  for (const unitOffset of [false, true]) {
    const l = new api.RMSNorm(C, { unitOffset, activation: "silu", eps: 1e-5 });
    assert.is(l.gamma[0], unitOffset ? 0 : 1);
    assert.is(l.beta, null);
    l.gamma.set(randomArray(C, 3, { scale: 0.2, offset: unitOffset ? 0 : 1 }));
    const e = refRmsNorm(x, dy, [3, C], "NC", { gamma: l.gamma, unitOffset, eps: 1e-5, activation: "silu" });
    close(l.forward(x), e.y, 2e-5, 1e-4, "RMSNorm y");
    close(l.backward(dy), e.dx, 1e-4, 1e-3, "RMSNorm dx");
    close(l.dgamma, e.dgamma, 1e-4, 1e-4, "RMSNorm dgamma");
    l.forward(x); l.backward(dy, { accumulate: true });
    close(l.dgamma, e.dgamma.map((v) => 2 * v), 2e-4, 1e-4, "RMSNorm dgamma accumulated");
    throwsWith(() => l.backward(dy), "RMSNorm.backward: no forward to differentiate");
  }
  const seq = new api.RMSNorm(8, { layout: "NLC" });
  const h = randomArray(2 * 5 * 8, 4);
  close(seq.forward(h, { shape: [2, 5, 8] }), refRmsNorm(h, null, [2, 5, 8], "NLC", { eps: 1e-6 }).y, 2e-5, 1e-4, "NLC y");
  throwsWith(() => new api.RMSNorm(8, { activation: "tanh" }), "activation must be one of relu, relu6, silu, gelu, gelu_tanh");
  throwsWith(() => new api.RMSNorm(8, { unitOffset: 1 }), "unitOffset must be true or false");
});

test("activation on GroupNorm and BatchNorm layers: forward applies it, backward goes through it", () => {
  const shape = [2, 8, 3, 3], x = randomArray(144, 5), dy = randomArray(144, 6);
  const gn = new api.GroupNorm(8, { groups: 4, layout: "NCHW", activation: "silu" });
  gn.gamma.set(randomArray(8, 7, { offset: 1 })); gn.beta.set(randomArray(8, 8));
  const e = refWithAct(refGroupNorm, x, dy, shape, "NCHW", { gamma: gn.gamma, beta: gn.beta, eps: 1e-5, groups: 4, activation: "silu" });
  close(gn.forward(x, { shape }), e.y, 2e-4, 1e-4, "GroupNorm silu y");
  close(gn.backward(dy), e.dx, 1e-3, 1e-3, "GroupNorm silu dx");
  close(gn.dbeta, e.dbeta, 1e-3, 1e-4, "GroupNorm silu dbeta");
  const bn = new api.BatchNorm(8, { layout: "NCHW", activation: "relu" });
  bn.beta.set(randomArray(8, 9));
  const eb = refBnTrain(x, shape, "NCHW", { gamma: bn.gamma, beta: bn.beta, eps: 1e-5, momentum: 0.1, runningMean: new Float32Array(8), runningVar: new Float32Array(8).fill(1) });
  close(bn.forward(x, { shape }), eb.y.map((v) => act("relu", v)), 2e-4, 1e-4, "BatchNorm relu y");
  const gy = Float64Array.from(dy, (d, i) => d * dact("relu", eb.y[i]));
  close(bn.backward(dy), refBnBackward(x, gy, shape, "NCHW", { gamma: bn.gamma, saveMean: eb.saveMean, saveInvstd: eb.saveInvstd }).dx, 1e-3, 1e-3, "BatchNorm relu dx");
  assert.is(bn.activation, "relu");
  assert.is(new api.LayerNorm(4).activation, undefined);
});

test("RMSNorm weights: pytorch weight (stored), onnx/keras scale (the multiplier), prefix, counts, errors change nothing", () => {
  const l = new api.RMSNorm(4, { unitOffset: true });
  l.gamma.set([0.5, -0.25, 0, 1]);
  assert.equal(Array.from(api.exportWeights(l, "pytorch").weight), [0.5, -0.25, 0, 1]);
  const onnx = api.exportWeights(l, "onnx");
  assert.equal(Array.from(onnx.scale), [1.5, 0.75, 1, 2]);
  assert.is(onnx.attributes.epsilon, 1e-6);
  assert.equal(Array.from(api.exportWeights(l, "keras")[0]), [1.5, 0.75, 1, 2]);
  const m = new api.RMSNorm(4, { unitOffset: true });
  api.importWeights(m, "onnx", { scale: [2, 2, 2, 2] });
  assert.equal(Array.from(m.gamma), [1, 1, 1, 1]);
  api.importWeights(m, "pytorch", { "model.norm.weight": [0.1, 0.2, 0.3, 0.4], "model.embed.weight": [1] }, { prefix: "model.norm." });
  assert.equal(Array.from(m.gamma), Array.from(Float32Array.of(0.1, 0.2, 0.3, 0.4)));
  const before = Array.from(m.gamma);
  throwsWith(() => api.importWeights(m, "pytorch", { weight: [1, 2, 3] }), "weight has 3 values, the layer has 4 channels");
  throwsWith(() => api.importWeights(m, "pytorch", { weight: [1, 2, 3, 4], bias: [0, 0, 0, 0] }), "unexpected key(s) in state_dict: bias");
  throwsWith(() => api.importWeights(m, "keras", [[1, 2, 3, NaN]]), "scale[3] is NaN");
  throwsWith(() => api.importWeights(m, "caffe", {}), 'unknown weight format "caffe" for RMSNorm');
  assert.equal(Array.from(m.gamma), before);
  const c = api.parameterCounts(new api.RMSNorm(2048));
  assert.equal(c, { keras: { total: 2048, trainable: 2048, nonTrainable: 0 }, pytorch: { parameters: 2048, buffers: 0 }, caffe: { batchNorm: 0, scale: 2048 }, onnx: { initializers: 2048 } });
  assert.is(api.parameterCounts(new api.RMSNorm(8, { affine: false })).pytorch.parameters, 0);
});

test.run();
