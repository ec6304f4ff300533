// What the per-call work restructured must keep: batch norm's per-channel vectors in fixed slots
// of one block (any of gamma / beta absent, a gap between checked vectors zeroed before the one
// wasm check; every element of every vector checked by bn_params_check_f64, whose two loops end
// at different places), pooled scopes (a call reuses the binding records of the one before: a
// call that threw, other ops in between or a made tensor must leave nothing behind for the next
// one), and the tensors isTensor remembers (a Proxy of one, or a freed one, is still refused).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import * as api from "../dist/index.js";
import { randomArray, refBnInfer, refBnTrain, refBnBackward } from "./reference.mjs";
import { close, throwsWith, throwsUntouched } from "./helpers.mjs";

await api.init();

const ATOL = 2e-5, RTOL = 2e-5;
test("(first in this process) a wide channels-last call after a narrow one reserves the wide call's scratch", () => {
  // The scratch size a call reserves is remembered per C (js/ops/dispatch.ts clScratchBytes).
  // The stage grows to 1.25 × what a call reserves: for training at C = 4096 the lane-pattern
  // scratch (≥ 28 bytes a column for the statistics kernel), 36 bytes a channel of the dispatch
  // and 104 of its own; with C = 3's scratch instead it would stay near 1.25 × 140 · C.
  const narrow = randomArray(8 * 3, 1), wide = randomArray(2 * 4096, 2, { offset: 0.1 });
  api.batchNormTrain(narrow, { shape: [8, 3], layout: "NC" });
  api.batchNormTrain(wide, { shape: [2, 4096], layout: "NC" });
  assert.ok(api.memoryStats().scratchBytes >= 1.25 * (28 + 36 + 104) * 4096, `scratch ${api.memoryStats().scratchBytes} bytes`);
});

/** gamma / beta present or absent, every combination. */
const AFFINE = [[true, true], [true, false], [false, true], [false, false]];

for (const [C, S] of [[1, 5], [3, 17], [16, 128], [17, 2], [40, 9], [65, 1]]) {
  const shape = [2, C, S], layout = "NCL", n = 2 * C * S;
  const x = randomArray(n, C + S, { offset: 0.3 }), dy = randomArray(n, C * S + 1);
  const g = randomArray(C, 2, { offset: 1, scale: 0.3 }), b = randomArray(C, 3), m = randomArray(C, 4, { scale: 0.2 }), v = randomArray(C, 5, { offset: 1.5, scale: 0.4 });

  test(`batch norm (${C}, ${S}): gamma and beta each present or absent, after a call that left non-finite values in the vector block`, () => {
    for (const [hasG, hasB] of AFFINE) {
      const gamma = hasG ? g : undefined, beta = hasB ? b : undefined;
      // A refused call copies its vectors into the block before the check: its NaN beta stays in
      // beta's slot, where the next call without beta must not read it.
      const nanBeta = new Float32Array(C).fill(NaN);
      throwsWith(() => api.batchNormInfer(x, { shape, layout, gamma: g, beta: nanBeta, runningMean: m, runningVar: v }), "beta[0] is NaN");
      const y = api.batchNormInfer(x, { shape, layout, gamma, beta, runningMean: m, runningVar: v, eps: 1e-5 });
      close(y, refBnInfer(x, shape, layout, { gamma, beta, runningMean: m, runningVar: v, eps: 1e-5 }), ATOL, RTOL, `infer gamma ${hasG} beta ${hasB}`, shape, layout);

      throwsWith(() => api.batchNormTrain(x, { shape, layout, gamma: g, beta: nanBeta }), "beta[0] is NaN");
      const rm = Float32Array.from(m), rv = Float32Array.from(v);
      const r = api.batchNormTrain(x, { shape, layout, gamma, beta, runningMean: rm, runningVar: rv, momentum: 0.1 });
      const e = refBnTrain(x, shape, layout, { gamma, beta, runningMean: m, runningVar: v, momentum: 0.1, eps: 1e-5 });
      close(r.y, e.y, ATOL, RTOL, `train y gamma ${hasG} beta ${hasB}`, shape, layout);
      close(rm, e.runningMean, ATOL, RTOL, "runningMean");
      close(rv, e.runningVar, ATOL, RTOL, "runningVar");

      throwsWith(() => api.batchNormBackward(x, dy, { shape, layout, gamma: g, beta: nanBeta, saveMean: e.saveMean, saveInvstd: e.saveInvstd }), "beta[0] is NaN");
      const d = api.batchNormBackward(x, dy, { shape, layout, gamma, beta, saveMean: e.saveMean, saveInvstd: e.saveInvstd });
      const de = refBnBackward(x, dy, shape, layout, { gamma, saveMean: e.saveMean, saveInvstd: e.saveInvstd });
      close(d.dx, de.dx, 1e-4, 1e-4, `backward dx gamma ${hasG} beta ${hasB}`, shape, layout);
      close(d.dgamma, de.dgamma, 1e-4, 1e-4, "dgamma");
      close(d.dbeta, de.dbeta, 1e-4, 1e-4, "dbeta");
    }
  });

  test(`batch norm (${C}, ${S}): a bad element of any checked vector, with the others absent, named; nothing written`, () => {
    const at = C - 1;
    const cases = [
      ["gamma", "gamma", (o) => api.batchNormInfer(x, { shape, layout, ...o, runningMean: m, runningVar: v, out: o.out }), "gamma must hold finite values"],
      ["beta", "beta", (o) => api.batchNormInfer(x, { shape, layout, ...o, runningMean: m, runningVar: v, out: o.out }), "beta must hold finite values"],
      ["runningMean", "runningMean", (o) => api.batchNormInfer(x, { shape, layout, runningMean: o.runningMean, runningVar: v, out: o.out }), "runningMean must hold finite values"],
      ["runningVar", "running_var", (o) => api.batchNormInfer(x, { shape, layout, runningMean: m, runningVar: o.runningVar, out: o.out }), "runningVar must hold finite variances"],
      ["beta", "beta", (o) => api.batchNormBackward(x, dy, { shape, layout, beta: o.beta, saveMean: m, saveInvstd: v, out: o.out }), "beta must hold finite values"],
    ];
    for (const [name, label, call, rule] of cases) {
      const make = () => { const bad = randomArray(C, 9, { offset: 2 }); bad[at] = Infinity; return { [name]: bad, out: new Float32Array(n).fill(7) }; };
      throwsUntouched(make, call, `${label}[${at}] is Infinity`, rule);
    }
    const negVar = Float32Array.from(v); negVar[at] = -1;
    throwsWith(() => api.batchNormInfer(x, { shape, layout, runningMean: m, runningVar: negVar }), `running_var[${at}] is negative`);
  });
}

test("channels-last scratch sized for each call's own C when calls alternate between C values (the remembered size is per C)", () => {
  // NC and short channels-first rows run the channels-last kernels, whose scratch grows with C
  // (lane patterns); a size remembered from the call before must never serve another C.
  const shapes = [[[64, 3], "NC"], [[4, 1000], "NC"], [[3, 7, 5], "NCL"], [[2, 96, 3], "NCL"], [[8, 3], "NC"]];
  for (let round = 0; round < 3; round++) {
    for (const [shape, layout] of shapes) {
      const C = shape[1], n = shape.reduce((a, b) => a * b, 1), x = randomArray(n, C + round, { offset: 0.2 });
      const p = { runningMean: randomArray(C, 1, { scale: 0.1 }), runningVar: randomArray(C, 2, { offset: 1.2, scale: 0.3 }), gamma: randomArray(C, 3, { offset: 1 }), beta: randomArray(C, 4) };
      const y = api.batchNormInfer(x, { shape, layout, ...p });
      close(y, refBnInfer(x, shape, layout, { ...p, eps: 1e-5 }), ATOL, RTOL, `infer ${layout} ${shape}`, shape, layout);
      const r = api.batchNormTrain(x, { shape, layout, gamma: p.gamma, beta: p.beta });
      close(r.y, refBnTrain(x, shape, layout, { gamma: p.gamma, beta: p.beta, runningMean: new Float64Array(C), runningVar: new Float64Array(C), eps: 1e-5 }).y, 1e-4, 1e-4, `train ${layout} ${shape}`, shape, layout);
    }
  }
});

test("pooled scopes: a refused output, other ops in between and a made tensor leave nothing for the next call", () => {
  const C = 8, S = 32, shape = [1, C, S], layout = "NCL", n = C * S, before = api.memoryStats().allocatedBytes;
  const x = api.tensor(shape, layout, randomArray(n, 1)), y = api.tensor(shape, layout), other = api.tensor([1, C, S + 1], layout);
  const p = { runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) };
  const expect = refBnInfer(x.toArray(), shape, layout, { ...p, eps: 1e-5 });
  for (let round = 0; round < 3; round++) {
    // out of another shape: refused after x was bound (the scope's records hold x, then are reused).
    throwsWith(() => api.batchNormInfer(x, { ...p, out: other }), "out holds");
    // out overlapping x in part (two views inside one tensor): refused by the overlap check
    // against the input bound before it.
    const big = api.tensor([1, C, 2 * S], layout), buf = api.wasmMemory().buffer;
    const xv = new Float32Array(buf, big.ptr, n), part = new Float32Array(buf, big.ptr + 4, n);
    throwsWith(() => api.batchNormInfer(xv, { shape, layout, ...p, out: part }), "out overlaps x in part");
    big.free();
    // The next call binds fresh: y gets the result, x is unchanged.
    const r = api.batchNormInfer(x, { ...p, out: y });
    assert.ok(r === y);
    close(y, expect, ATOL, RTOL, "y after refused calls", shape, layout);
    // A call whose result tensor is made, then the call refused later (a bad element): the tensor is freed.
    const bad = new Float32Array(C).fill(1); bad[3] = NaN;
    throwsWith(() => api.batchNormInfer(x, { runningMean: p.runningMean, runningVar: bad }), "running_var[3] is NaN");
    // Other ops in between (a layer's call, statistics, a made result tensor), then the same call again.
    const layer = new api.BatchNorm(C, { layout });
    const made = layer.forward(x);
    assert.equal(api.channelStats(x).mean.length, C);
    made.free();
    assert.ok(api.batchNormInfer(x, { ...p, out: y }) === y);
    // Two outputs of one call must not share memory (checked against the scope's earlier output).
    const sk = api.tensor(shape, layout, randomArray(n, 2));
    throwsWith(() => api.skipLayerNorm(x, sk, { out: y, sumOut: y }), "must be different arrays");
    sk.free();
  }
  [x, y, other].forEach((t) => t.free());
  assert.is(api.memoryStats().allocatedBytes, before);
});

test("bn_params_check_f64: the first non-finite value, or negative from `from` on, at every n, from and position (two loops, their tails)", () => {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))), { env: { abort() { throw new Error("abort"); } } }).exports;
  raw.memory.grow(1);
  const P = 1024, F = new Float64Array(raw.memory.buffer, P, 80);
  const first = (n, from) => { for (let i = 0; i < n; i++) if (!Number.isFinite(F[i]) || (i >= from && F[i] < 0)) return i; return -1; };
  for (let n = 0; n <= 19; n++) {
    for (let from = 0; from <= n; from++) {
      for (let at = -1; at < n; at++) {
        for (const bad of [NaN, Infinity, -Infinity, -0.5, -0]) {
          for (let i = 0; i < n; i++) F[i] = i < from ? ((i * 7) % 5) - 2 : 1 + i; // negatives before from are allowed
          if (at >= 0) F[at] = bad;
          assert.is(raw.bn_params_check_f64(n, P, from), first(n, from), `n ${n} from ${from} at ${at}: ${bad}`);
        }
      }
    }
  }
  // Finite values whose sum overflows: none reported.
  for (let i = 0; i < 16; i++) F[i] = i % 2 ? 1e308 : 1.5e308;
  assert.is(raw.bn_params_check_f64(16, P, 8), -1);
});

test("bn_params_repeat_f32: each of C values written rep times in order, nothing past C·rep (the one repetition of pseudo-channel parameters)", () => {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))), { env: { abort() { throw new Error("abort"); } } }).exports;
  raw.memory.grow(1);
  const P = 1024, Q = 4096, F = new Float32Array(raw.memory.buffer);
  for (const C of [1, 2, 3, 7, 16, 33]) {
    for (let rep = 1; rep <= 15; rep++) {
      for (let c = 0; c < C; c++) F[(P >>> 2) + c] = c * 1.5 - 7;
      F.fill(-99, Q >>> 2, (Q >>> 2) + C * rep + 8);
      raw.bn_params_repeat_f32(C, rep, P, Q);
      for (let j = 0; j < C * rep; j++) assert.is(F[(Q >>> 2) + j], Math.floor(j / rep) * 1.5 - 7, `C ${C} rep ${rep} at ${j}`);
      assert.is(F[(Q >>> 2) + C * rep], -99, `C ${C} rep ${rep}: written past the end`);
    }
  }
});

for (const C of [1, 2, 3, 5, 8]) {
  test(`batch norm at C = ${C}: a bad element at any position of any vector is named; nothing written`, () => {
    const shape = [4, C, 3], layout = "NCL", n = 12 * C, x = randomArray(n, C), dy = randomArray(n, C + 1);
    const vecs = () => ({ gamma: randomArray(C, 2, { offset: 1 }), beta: randomArray(C, 3), runningMean: randomArray(C, 4), runningVar: randomArray(C, 5, { offset: 2, scale: 0.5 }) });
    for (let at = 0; at < C; at++) {
      for (const [name, bad, msg] of [["gamma", NaN, "gamma[#] is NaN"], ["beta", -Infinity, "beta[#] is -Infinity"], ["runningMean", Infinity, "runningMean[#] is Infinity"], ["runningVar", -2, "running_var[#] is negative (-2)"]]) {
        const make = () => { const v = vecs(); v[name][at] = bad; return { ...v, out: new Float32Array(n).fill(3) }; };
        throwsUntouched(make, (a) => api.batchNormTrain(x, { shape, layout, ...a }), msg.replace("#", at));
        throwsUntouched(make, (a) => api.batchNormInfer(x, { shape, layout, ...a }), msg.replace("#", at));
      }
      const make = () => ({ gamma: Object.assign(randomArray(C, 6), { [at]: NaN }), saveMean: randomArray(C, 7), saveInvstd: randomArray(C, 8, { offset: 2, scale: 0.1 }), out: new Float32Array(n) });
      throwsUntouched(make, (a) => api.batchNormBackward(x, dy, { shape, layout, ...a }), `gamma[${at}] is NaN`);
    }
  });
}

test("isTensor remembers tensors it found: a Proxy of one, an object posing as one and a freed one are still refused", () => {
  const shape = [1, 4, 8], layout = "NCL", t = api.tensor(shape, layout, randomArray(32, 1)), y = api.tensor(shape, layout);
  const p = { runningMean: new Float32Array(4), runningVar: new Float32Array(4).fill(1) };
  for (let i = 0; i < 3; i++) assert.ok(api.batchNormInfer(t, { ...p, out: y }) === y); // t and y remembered
  throwsWith(() => api.batchNormInfer(new Proxy(t, {}), { ...p, out: y }), "x must be a Float32Array or a simdnorm Tensor");
  throwsWith(() => api.batchNormInfer(t, { ...p, out: new Proxy(y, {}) }), "out must be a Float32Array or a simdnorm Tensor");
  throwsWith(() => api.batchNormInfer(Object.create(Object.getPrototypeOf(t)), { shape, layout, ...p }), "x must be a Float32Array or a simdnorm Tensor");
  y.free();
  throwsWith(() => api.batchNormInfer(t, { ...p, out: y }), "out is a freed tensor");
  t.free();
  throwsWith(() => api.batchNormInfer(t, p), "x is a freed tensor");
});

test("per-channel arrays remembered as plain (js/core/typed.ts plainKind): a detached one, an output reused as an operand, a wasm view, null", () => {
  const shape = [2, 4, 8], layout = "NCL", x = randomArray(64, 11);
  const gamma = randomArray(4, 12, { offset: 1 }), runningMean = new Float32Array(4), runningVar = new Float32Array(4).fill(1);
  for (let i = 0; i < 3; i++) api.batchNormInfer(x, { shape, layout, gamma, runningMean, runningVar }); // all three remembered
  // Transferred away, a remembered array reads 0 values: refused by its length as before.
  structuredClone(gamma.buffer, { transfer: [gamma.buffer] });
  throwsWith(() => api.batchNormInfer(x, { shape, layout, gamma, runningMean, runningVar }), "gamma has 0 values, the tensor has 4 channels");
  structuredClone(runningVar.buffer, { transfer: [runningVar.buffer] });
  throwsWith(() => api.batchNormTrain(x, { shape, layout, runningMean, runningVar }), "runningVar has 0 values");
  // null is never a remembered array (the ring's empty places hold no null).
  throwsWith(() => api.batchNormTrain(x, { shape, layout, runningMean: null, runningVar: new Float32Array(4) }), "runningMean must be a Float32Array or Float64Array");
  // A view of wasm memory is never remembered: refused every time.
  const t = api.tensor([1, 4], "NC", new Float32Array(4));
  for (let i = 0; i < 2; i++) throwsWith(() => api.batchNormTrain(x, { shape, layout, runningMean: t.data, runningVar: new Float32Array(4).fill(1) }), "runningMean is a view of wasm memory");
  t.free();
  // Arrays remembered by one call (an operand, an output), then sharing bytes with an output of the next: refused, nothing written.
  const C = 16, rx = randomArray(2 * C, 13), rdy = randomArray(2 * C, 14), b = randomArray(C, 16), o = { shape: [2, C], layout: "NC" };
  const f = api.layerNorm(rx, { ...o, gamma: randomArray(C, 15, { offset: 1 }), beta: b });
  const big = new Float32Array(2 * C).fill(1), gview = big.subarray(0, C), D = new Float32Array(2 * C), dgammaOut = D.subarray(0, C);
  const back = (a) => api.layerNormBackward(rx, rdy, { ...o, mean: f.mean, invstd: f.invstd, beta: b, ...a });
  for (let i = 0; i < 2; i++) back({ gamma: gview, dgammaOut, dbetaOut: big.subarray(C) }); // gview, dgammaOut remembered
  throwsUntouched(() => ({ big }), (a) => back({ gamma: gview, dgammaOut: a.big.subarray(C / 2, C / 2 + C) }), "dgammaOut is the same array as an input or out, or overlaps one");
  throwsUntouched(() => ({ D }), (a) => back({ gamma: gview, dgammaOut, dbetaOut: a.D.subarray(C - 1, 2 * C - 1) }), "dbetaOut is the same array as another gradient output or overlaps it");
  throwsUntouched(() => ({ D }), () => back({ gamma: dgammaOut, dgammaOut }), "dgammaOut is the same array as an input or out");
});

test.run();
