// The row norms (layer, RMS and skip norms, forward and backward) check gamma, beta and bias for
// finiteness in wasm memory, after copying them there (vec_finite_f32, 16 values an iteration).
// Same contract as the JS check it replaced: a NaN or ±Infinity anywhere (every position around
// the 16-value blocks, every accepted array type, tensors and plain arrays, both layouts) is an
// error naming the argument and the FIRST bad index, and nothing the caller gave is written
// (out, sumOut, the residual stream, the input tensors).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { throwsWith } from "./helpers.mjs";

await api.init();

/** Every call that takes per-channel vectors checked in wasm memory: [name, call(x, other, opts)] with the vector names it checks. */
const CALLS = [
  ["layerNorm", ["gamma", "beta"], (x, _, o) => api.layerNorm(x, o)],
  ["layerNormBackward", ["gamma", "beta"], (x, d, o) => api.layerNormBackward(x, d, o)],
  ["rmsNorm", ["gamma"], (x, _, o) => api.rmsNorm(x, o)],
  ["rmsNorm unitOffset", ["gamma"], (x, _, o) => api.rmsNorm(x, { ...o, unitOffset: true })],
  ["rmsNormBackward", ["gamma"], (x, d, o) => api.rmsNormBackward(x, d, o)],
  ["skipLayerNorm", ["gamma", "beta", "bias"], (x, d, o) => api.skipLayerNorm(x, d, o)],
  ["skipRmsNorm", ["gamma", "bias"], (x, d, o) => api.skipRmsNorm(x, d, o)],
  ["skipLayerNormBackward", ["gamma", "beta", "bias"], (x, d, o) => api.skipLayerNormBackward(x, d, o)],
  ["skipRmsNormBackward", ["gamma", "bias"], (x, d, o) => api.skipRmsNormBackward(x, d, o)],
];

/** Valid options for an op over rows of C (N rows): statistics for the backwards, out (and sumOut) given. */
function options(name, shape, layout, C, K, out, sumOut) {
  const o = { shape, layout, gamma: new Float32Array(C).fill(1.5), beta: new Float32Array(C).fill(0.1), bias: new Float32Array(C).fill(0.2), out };
  if (name.startsWith("rms") || name.startsWith("skipRms")) delete o.beta;
  if (name.startsWith("skip") && !name.endsWith("Backward")) { o.sumOut = sumOut; }
  if (name.endsWith("Backward")) {
    if (name.includes("ms")) o.invRms = new Float32Array(K).fill(1);
    else { o.mean = new Float32Array(K); o.invstd = new Float32Array(K).fill(1); }
    if (!name.startsWith("skip")) delete o.bias;
  } else if (!name.startsWith("skip")) delete o.bias;
  return o;
}

const BAD = [NaN, Infinity, -Infinity];
const KINDS = [(a) => a, (a) => Float64Array.from(a), (a) => Array.from(a)];

test("a non-finite gamma/beta/bias at any position is refused naming it, nothing written (Float32Array inputs)", () => {
  for (const C of [1, 5, 15, 16, 17, 33, 64, 100]) {
    for (const [layout, shape] of [["NC", [3, C]], ["NCL", [2, C, 3]]]) {
      const n = shape.reduce((a, b) => a * b, 1), K = layout === "NC" ? 3 : 6;
      for (const [name, vecs, call] of CALLS) {
        for (const v of vecs) {
          for (const at of new Set([0, C - 1, Math.min(15, C - 1), Math.min(16, C - 1), C >> 1])) {
            const bad = BAD[(C + at) % 3], kind = KINDS[(C + at + v.length) % 3];
            const x = randomArray(n, C + at), other = randomArray(n, at + 1), out = new Float32Array(n).fill(7), sumOut = new Float32Array(n).fill(9);
            const o = options(name, shape, layout, C, K, out, sumOut);
            const vec = o[v].slice();
            vec[at] = bad;
            if (at + 1 < C) vec[C - 1] = BAD[(at + 1) % 3]; // a later bad value: the first one is named
            o[v] = kind(vec);
            const x0 = x.slice(), other0 = other.slice();
            throwsWith(() => call(x, other, o), `${v}[${at}] is ${bad}`, `${v} must hold finite values`);
            assert.ok(out.every((y) => y === 7), `${name} C=${C} ${layout}: out written by a call that threw`);
            assert.ok(sumOut.every((y) => y === 9), `${name}: sumOut written by a call that threw`);
            assert.equal(x, x0, `${name}: x modified`);
            assert.equal(other, other0, `${name}: its second input modified`);
          }
        }
      }
    }
  }
});

test("tensors: out and the residual stream untouched, no tensor leaked, the same tensors usable after", () => {
  const C = 2048, n = 2 * C, before = api.memoryStats().allocatedBytes;
  const x = api.tensor([2, C], "NC", randomArray(n, 1)), skip = api.tensor([2, C], "NC", randomArray(n, 2)), out = api.tensor([2, C], "NC");
  const gamma = new Float32Array(C).fill(1), beta = new Float32Array(C);
  gamma[2000] = NaN;
  const skip0 = skip.toArray();
  throwsWith(() => api.skipLayerNorm(x, skip, { gamma, beta, sumOut: skip, out }), "gamma[2000] is NaN");
  throwsWith(() => api.layerNorm(x, { gamma, beta }), "gamma[2000] is NaN"); // a result tensor is made, then freed
  assert.equal(skip.toArray(), skip0);
  assert.ok(out.toArray().every((v) => v === 0));
  gamma[2000] = 1;
  const r = api.skipLayerNorm(x, skip, { gamma, beta, sumOut: skip, out });
  assert.ok(r.y === out && r.sum === skip && Number.isFinite(r.mean[1]));
  [x, skip, out].forEach((t) => t.free());
  assert.is(api.memoryStats().allocatedBytes, before);
});

test("finite values of every accepted type pass unchanged (the check reads the copy the kernel uses)", () => {
  const C = 37, x = randomArray(2 * C, 4);
  const g32 = randomArray(C, 5, { offset: 1 }), b32 = randomArray(C, 6);
  const ref = api.layerNorm(x, { shape: [2, C], layout: "NC", gamma: g32, beta: b32 }).y;
  for (const kind of KINDS) {
    const y = api.layerNorm(x, { shape: [2, C], layout: "NC", gamma: kind(g32), beta: kind(b32) }).y;
    assert.equal(Array.from(y), Array.from(ref));
  }
});


test("large finite parameters whose sum overflows float32 are accepted (the vector check only sums)", () => {
  for (const C of [16, 33, 64]) {
    const x = randomArray(2 * C, C), gamma = new Float32Array(C).fill(3e38), beta = new Float32Array(C).fill(-3e38), bias = new Float32Array(C).fill(3e38);
    const r = api.layerNorm(x, { shape: [2, C], layout: "NC", gamma, beta });
    assert.equal(r.y.length, 2 * C);
    api.skipLayerNorm(x, randomArray(2 * C, 1), { shape: [2, C], layout: "NC", gamma, beta, bias });
    api.rmsNorm(x, { shape: [2, C], layout: "NC", gamma });
    const bad = gamma.slice(); bad[C - 1] = Infinity;
    throwsWith(() => api.layerNorm(x, { shape: [2, C], layout: "NC", gamma: bad, beta }), `gamma[${C - 1}] is Infinity`, "gamma must hold finite values");
  }
});

test("a Float64Array or array value beyond float32 (1e39: finite, but ±∞ in the kernels) is refused naming it, nothing written", () => {
  const C = 20;
  for (const [name, shape, layout, call] of [
    ["layerNorm", [2, C, 3], "NCL", (x, o) => api.layerNorm(x, o)],
    ["groupNorm", [2, C, 3], "NCL", (x, o) => api.groupNorm(x, { ...o, groups: 4 })],
    ["instanceNorm NLC", [2, 3, C], "NLC", (x, o) => api.instanceNorm(x, o)],
    ["instanceNorm short rows", [2, C, 5], "NCL", (x, o) => api.instanceNorm(x, o)],
    ["rmsNorm", [2, C, 3], "NCL", (x, o) => api.rmsNorm(x, { ...o, beta: undefined })],
  ]) {
    const n = shape.reduce((p, q) => p * q, 1), x = randomArray(n, 3);
    for (const v of name === "rmsNorm" ? ["gamma"] : ["gamma", "beta"]) {
      for (const make of [(a) => Float64Array.from(a), (a) => Array.from(a)]) {
        const o = { shape, layout, gamma: new Array(C).fill(1.5), beta: new Array(C).fill(0.1), out: new Float32Array(n).fill(7) };
        const vec = o[v].slice();
        vec[7] = v === "gamma" ? 1e39 : -1e39;
        o[v] = make(vec);
        throwsWith(() => call(x, o), `${v}[7] is ${vec[7]}`, "finite float32 values");
        assert.ok(o.out.every((y) => y === 7), `${name}: out written by a call that threw`);
      }
    }
  }
});

test.run();
