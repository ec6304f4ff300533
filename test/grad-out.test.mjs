// Gradient outputs of the row norms' backwards (dgammaOut, dbetaOut, dbiasOut) and of instance and
// group norm's (dgammaOut, dbetaOut): the caller's
// Float32Arrays receive exactly the values a call without them returns, in every layout (rows
// and channels-first), and are returned themselves; bad ones (wrong kind or length, a Proxy, a
// view of wasm memory, one array for two gradients, dbetaOut for RMS norm) are refused naming
// them, with nothing written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { throwsUntouched } from "./helpers.mjs";

await api.init();

/** [name, call(x, dy, opts) with the forward's statistics, the gradients it returns]. */
function ops(x, shape, layout, C) {
  const gamma = randomArray(C, 3, { offset: 1, scale: 0.3 }), beta = randomArray(C, 4), bias = randomArray(C, 5);
  const ln = api.layerNorm(x, { shape, layout, gamma, beta }), rms = api.rmsNorm(x, { shape, layout, gamma });
  const base = { shape, layout, gamma };
  return [
    ["layerNormBackward", (dy, o) => api.layerNormBackward(x, dy, { ...base, beta, mean: ln.mean, invstd: ln.invstd, activation: "gelu", ...o }), ["dgamma", "dbeta"]],
    ["rmsNormBackward", (dy, o) => api.rmsNormBackward(x, dy, { ...base, invRms: rms.invRms, ...o }), ["dgamma"]],
    ["skipLayerNormBackward", (dy, o) => api.skipLayerNormBackward(x, dy, { ...base, beta, bias, mean: ln.mean, invstd: ln.invstd, dsum: dy, ...o }), ["dgamma", "dbeta", "dbias"]],
    ["skipRmsNormBackward", (dy, o) => api.skipRmsNormBackward(x, dy, { ...base, bias: true, invRms: rms.invRms, ...o }), ["dgamma", "dbias"]],
  ];
}

test("instance and group norm backwards: given dgammaOut, dbetaOut receive the values a call without them returns", () => {
  for (const [layout, shape] of [["NCHW", [2, 6, 3, 3]], ["NHWC", [2, 3, 3, 6]], ["NCL", [1, 6, 200]], ["NCHW", [2, 6, 7, 7]]]) {
    const C = 6, n = shape.reduce((a, b) => a * b), x = randomArray(n, n), dy = randomArray(n, n + 1);
    const gamma = randomArray(C, 3, { offset: 1 }), beta = randomArray(C, 4), base = { shape, layout, gamma, beta };
    const inst = api.instanceNorm(x, base), grp = api.groupNorm(x, { ...base, groups: 3 });
    for (const [name, call] of [
      ["instanceNormBackward", (o) => api.instanceNormBackward(x, dy, { ...base, mean: inst.mean, invstd: inst.invstd, ...o })],
      ["groupNormBackward", (o) => api.groupNormBackward(x, dy, { ...base, groups: 3, mean: grp.mean, invstd: grp.invstd, ...o })],
      ["groupNormBackward silu", (o) => api.groupNormBackward(x, dy, { ...base, groups: 3, activation: "silu", mean: grp.mean, invstd: grp.invstd, ...o })],
    ]) {
      const fresh = call({}), given = { dgammaOut: new Float32Array(C).fill(NaN), dbetaOut: new Float32Array(C).fill(NaN) }, r = call(given);
      assert.ok(r.dgamma === given.dgammaOut && r.dbeta === given.dbetaOut, `${name} ${layout}: the given arrays returned`);
      for (const k of ["dgamma", "dbeta", "dx"]) assert.equal(Array.from(r[k]), Array.from(fresh[k]), `${name} ${layout}: ${k}`);
      throwsUntouched(() => ({ keep: new Float32Array(C).fill(9) }), (a) => call({ dgammaOut: a.keep, dbetaOut: a.keep }), "dbetaOut is the same array as another gradient output");
    }
  }
});

test("given gradient outputs receive the values a call without them returns, and are returned", () => {
  for (const C of [1, 7, 16, 17, 33]) {
    for (const [layout, shape] of [["NC", [3, C]], ["NLC", [2, 3, C]], ["NCL", [2, C, 5]]]) {
      const n = shape.reduce((a, b) => a * b, 1), x = randomArray(n, C), dy = randomArray(n, C + 1);
      for (const [name, call, grads] of ops(x, shape, layout, C)) {
        const fresh = call(dy, {});
        const given = Object.fromEntries(grads.map((k) => [`${k}Out`, new Float32Array(C).fill(NaN)]));
        const r = call(dy, given);
        for (const k of grads) {
          assert.ok(r[k] === given[`${k}Out`], `${name} ${layout} C=${C}: ${k} is not the given array`);
          assert.equal(Array.from(r[k]), Array.from(fresh[k]), `${name} ${layout} C=${C}: ${k}`);
        }
        assert.equal(Array.from(r.dx), Array.from(fresh.dx), `${name} ${layout} C=${C}: dx`);
        // One output given, the others made.
        const one = call(dy, { dgammaOut: new Float32Array(C) });
        for (const k of grads) assert.equal(Array.from(one[k]), Array.from(fresh[k]), `${name}: ${k} with dgammaOut only`);
      }
    }
  }
});

test("dbiasOut alone asks for dbias (as bias: true)", () => {
  const C = 9, shape = [4, C], x = randomArray(4 * C, 2), dy = randomArray(4 * C, 3), invRms = api.rmsNorm(x, { shape, layout: "NC" }).invRms;
  const dbiasOut = new Float32Array(C);
  const r = api.skipRmsNormBackward(x, dy, { shape, layout: "NC", invRms, dbiasOut });
  const e = api.skipRmsNormBackward(x, dy, { shape, layout: "NC", invRms, bias: true });
  assert.ok(r.dbias === dbiasOut);
  assert.equal(Array.from(r.dbias), Array.from(e.dbias));
});

test("bad gradient outputs are refused naming them, nothing written", () => {
  const C = 6, shape = [2, C], layout = "NC", x = randomArray(2 * C, 7), dy = randomArray(2 * C, 8);
  const { mean, invstd } = api.layerNorm(x, { shape, layout });
  const wasm = api.tensor([1, C], "NC");
  const cases = [
    [{ dgammaOut: new Float64Array(C) }, "dgammaOut must be a Float32Array of 6 values", "got a Float64Array of 6 values"],
    [{ dbetaOut: new Float32Array(C + 1) }, "dbetaOut has 7 values, the tensor has 6 channels"],
    [{ dgammaOut: new Proxy(new Float32Array(C), {}) }, "dgammaOut must be a Float32Array", "posing as a typed array"],
    [{ dgammaOut: [0, 0, 0, 0, 0, 0] }, "dgammaOut must be a Float32Array", "an Array of 6 values"],
    [{ dgammaOut: wasm.data }, "dgammaOut is a view of wasm memory"],
  ];
  for (const [o, ...msg] of cases) {
    throwsUntouched(() => ({ out: new Float32Array(2 * C).fill(3), keep: new Float32Array(C).fill(5) }),
      (a) => api.layerNormBackward(x, dy, { shape, layout, mean, invstd, out: a.out, dbetaOut: a.keep, ...o }), ...msg);
  }
  const same = new Float32Array(C).fill(2);
  throwsUntouched(() => ({ same }), (a) => api.layerNormBackward(x, dy, { shape, layout, mean, invstd, dgammaOut: a.same, dbetaOut: a.same }), "dbetaOut is the same array as another gradient output");
  throwsUntouched(() => ({ d: new Float32Array(C).fill(1) }), (a) => api.skipRmsNormBackward(x, dy, { shape, layout, invRms: invstd, dbetaOut: a.d }), "dbetaOut: RMS norm has no beta");
  // Arrays over one buffer: overlapping another gradient output, or out (dx, copied out after
  // the gradients: it overwrote them), is refused as the same array is; side by side is fine.
  const buf = new Float32Array(4 * C).fill(4), at = (i, n) => new Float32Array(buf.buffer, 4 * i, n);
  throwsUntouched(() => ({ buf }), () => api.layerNormBackward(x, dy, { shape, layout, mean, invstd, dgammaOut: at(0, C), dbetaOut: at(C - 1, C) }), "dbetaOut is the same array as another gradient output or overlaps it");
  throwsUntouched(() => ({ buf }), () => api.layerNormBackward(x, dy, { shape, layout, mean, invstd, out: at(0, 2 * C), dgammaOut: at(2 * C - 1, C) }), "dgammaOut is the same array as an input or out, or overlaps one");
  throwsUntouched(() => ({ buf }), () => api.skipRmsNormBackward(x, dy, { shape, layout, invRms: invstd, dsum: dy, out: at(C, 2 * C), dbiasOut: at(0, C + 1).subarray(1) }), "dbiasOut is the same array as an input or out, or overlaps one");
  const fresh = api.layerNormBackward(x, dy, { shape, layout, mean, invstd });
  const r = api.layerNormBackward(x, dy, { shape, layout, mean, invstd, out: at(2 * C, 2 * C), dgammaOut: at(0, C), dbetaOut: at(C, C) });
  assert.equal(Array.from(r.dgamma), Array.from(fresh.dgamma));
  assert.equal(Array.from(r.dbeta), Array.from(fresh.dbeta));
  assert.equal(Array.from(r.dx), Array.from(fresh.dx));
  wasm.free();
});

test.run();
