// Folding an inference batch norm into the preceding conv/dense layer: against the float64
// reference, O-first vs O-last layouts, the folded layer computes what layer + BN computed,
// validation that names the problem and changes nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray, refFoldBn } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

await api.init();

function bnParams(O, seed) {
  return {
    gamma: randomArray(O, seed, { offset: 1, scale: 0.3 }), beta: randomArray(O, seed + 1),
    runningMean: randomArray(O, seed + 2, { scale: 2 }), runningVar: Float32Array.from(randomArray(O, seed + 3), (v) => 0.1 + v * v),
  };
}

/** Move axis 0 (O) of a row-major array of shape [O, ...rest] to the end. */
function oLast(w, O) {
  const per = w.length / O, out = new Float32Array(w.length);
  for (let o = 0; o < O; o++) for (let j = 0; j < per; j++) out[j * O + o] = w[o * per + j];
  return out;
}

test("OIHW and OI against the reference, with and without bias", () => {
  for (const [layout, shape] of [["OIHW", [8, 5, 3, 3]], ["OI", [12, 7]], ["OIL", [4, 3, 5]], ["OIDHW", [3, 2, 2, 2, 2]]]) {
    const O = shape[0], w = randomArray(shape.reduce((a, b) => a * b), 5), bias = randomArray(O, 6);
    const p = bnParams(O, 7);
    for (const b of [bias, undefined, null]) {
      const r = api.foldBatchNorm(w, { weightLayout: layout, shape, bias: b, ...p, eps: 1e-3 });
      const e = refFoldBn(w, shape, { ...p, bias: b ?? undefined, eps: 1e-3 });
      close(r.weight, e.weight, 1e-6, 1e-6, `${layout} weight`);
      close(r.bias, e.bias, 1e-6, 1e-6, `${layout} bias`);
      assert.ok(r.weight instanceof Float32Array && r.bias instanceof Float32Array);
    }
  }
});

test("HWIO and IO (O last) give the O-first result transposed; a depthwise (H, W, C, M) kernel too", () => {
  const shape = [6, 4, 3, 3], O = 6, w = randomArray(6 * 4 * 9, 11), bias = randomArray(O, 12), p = bnParams(O, 13);
  const first = api.foldBatchNorm(w, { weightLayout: "OIHW", shape, bias, ...p });
  const last = api.foldBatchNorm(oLast(w, O), { weightLayout: "HWIO", shape: [3, 3, 4, 6], bias, ...p });
  close(last.weight, oLast(first.weight, O), 0, 0, "HWIO weight");
  close(last.bias, first.bias, 0, 0, "HWIO bias");
  const wd = randomArray(7 * 5, 14), pd = bnParams(5, 15);
  const io = api.foldBatchNorm(oLast(wd, 5), { weightLayout: "IO", ...pd });
  close(io.weight, oLast(api.foldBatchNorm(wd, { weightLayout: "OI", ...pd }).weight, 5), 0, 0, "IO weight");
  // Keras DepthwiseConv2D kernel (3, 3, C=2, M=3): output channel c·M + m is the flat index mod 6.
  const dw = randomArray(3 * 3 * 2 * 3, 16), p6 = bnParams(6, 17);
  const r = api.foldBatchNorm(dw, { weightLayout: "HWIO", shape: [3, 3, 2, 3].slice(0, 2).concat([1, 6]), ...p6 });
  for (let i = 0; i < dw.length; i++) {
    const o = i % 6, s = p6.gamma[o] / Math.sqrt(p6.runningVar[o] + 1e-5);
    assert.ok(Math.abs(r.weight[i] - dw[i] * s) <= 1e-6 * (1 + Math.abs(dw[i] * s)), `depthwise ${i}`);
  }
});

test("dense + BN (eval) equals the folded dense layer; a BatchNorm layer can be passed directly", () => {
  const I = 7, O = 5, N = 9;
  const W = randomArray(O * I, 21), b = randomArray(O, 22), x = randomArray(N * I, 23, { scale: 2 });
  const dense = (W, b) => { const y = new Float32Array(N * O); for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) { let s = b[o]; for (let i = 0; i < I; i++) s += W[o * I + i] * x[n * I + i]; y[n * O + o] = s; } return y; };
  const bn = new api.BatchNorm(O);
  bn.gamma.set(randomArray(O, 24, { offset: 1 })); bn.beta.set(randomArray(O, 25));
  for (let k = 0; k < 4; k++) bn.forward(randomArray(N * O, 30 + k, { offset: 1, scale: 3 }));
  bn.eval();
  const want = bn.forward(dense(W, b));
  const f = api.foldBatchNorm(W, { weightLayout: "OI", bias: b, bn });
  close(dense(f.weight, f.bias), want, 1e-4, 1e-4, "folded dense output");
  // caffe layer: its statistics are blob / s.
  const caffe = new api.BatchNorm(O, { convention: "caffe" });
  for (let k = 0; k < 3; k++) caffe.forward(randomArray(N * O, 40 + k, { offset: 2 }));
  caffe.eval();
  const fc = api.foldBatchNorm(W, { weightLayout: "OI", bias: b, bn: caffe });
  close(dense(fc.weight, fc.bias), caffe.forward(dense(W, b)), 1e-4, 1e-4, "folded with a caffe layer");
});

test("validation names the problem and modifies nothing", () => {
  const w = randomArray(8 * 5 * 9, 1), bias = randomArray(8, 2), p = bnParams(8, 3);
  const all = [w, bias, p.gamma, p.beta, p.runningMean, p.runningVar];
  const before = all.map((a) => a.slice());
  const o = { weightLayout: "OIHW", shape: [8, 5, 3, 3], bias, ...p };
  throwsWith(() => api.foldBatchNorm(w, { ...o, weightLayout: "OHWI" }), 'unknown weightLayout "OHWI"', "HWIO");
  throwsWith(() => api.foldBatchNorm(w.subarray(1), { ...o, shape: undefined }), "weight holds 359 values: not a positive multiple of 8 output channels");
  throwsWith(() => api.foldBatchNorm(w, { ...o, shape: [8, 5, 9] }), "weightLayout OIHW needs a 4-D shape, got [8,5,9]");
  throwsWith(() => api.foldBatchNorm(w, { ...o, shape: [8, 5, 3, 4] }), "weight holds 360 values, the shape [8,5,3,4] needs 480");
  throwsWith(() => api.foldBatchNorm(w, { ...o, shape: [3, 3, 5, 8] }), "O axis (axis 0 of [3,3,5,8] in OIHW) has 3 channels, runningMean has 8");
  throwsWith(() => api.foldBatchNorm(w, { ...o, gamma: p.gamma.subarray(1) }), "gamma has 7 values", "8 output channels");
  throwsWith(() => api.foldBatchNorm(w, { ...o, bias: [1, 2] }), "bias has 2 values");
  throwsWith(() => api.foldBatchNorm(w, { ...o, runningVar: undefined }), "runningVar must be a Float32Array");
  throwsWith(() => api.foldBatchNorm(w, { ...o, runningMean: undefined }), "runningMean is required");
  throwsWith(() => api.foldBatchNorm(w, { ...o, eps: -1e-5 }), "eps must be a finite number ≥ 0, got -0.00001");
  const negVar = p.runningVar.slice(); negVar[3] = -0.5;
  throwsWith(() => api.foldBatchNorm(w, { ...o, runningVar: negVar }), "running_var[3] is negative (-0.5)");
  throwsWith(() => api.foldBatchNorm(w, { ...o, runningVar: new Float32Array(8), eps: 0 }), "running_var[0] + eps is 0");
  throwsWith(() => api.foldBatchNorm("w", o), "weight must be a Float32Array");
  throwsWith(() => api.foldBatchNorm(w), "foldBatchNorm needs options");
  throwsWith(() => api.foldBatchNorm(w, { ...o, bn: new api.BatchNorm(8) }), "give either bn or gamma/beta/runningMean/runningVar, not both");
  throwsWith(() => api.foldBatchNorm(w, { weightLayout: "OIHW", bn: {} }), "bn must be a simdnorm BatchNorm layer");
  all.forEach((a, i) => assert.equal(Array.from(a), Array.from(before[i]), "inputs unchanged"));
});

test.run();
