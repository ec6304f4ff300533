// Streaming standardization (fit over chunks in any layout, apply, JSON round trip) and precise
// batch-norm statistics (exact population statistics from a stream of batches).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray, refStats, refBnInfer, geometry } from "./reference.mjs";
import { LAYOUTS, shapeFor, close, throwsWith } from "./helpers.mjs";

await api.init();

/** x split along N into chunks of the given sizes: [{ x, shape }]. */
function chunks(x, shape, sizes) {
  const per = x.length / shape[0];
  let n0 = 0;
  return sizes.map((n) => { const part = x.slice(n0 * per, (n0 + n) * per); n0 += n; return { x: part, shape: [n, ...shape.slice(1)] }; });
}

test("fit over chunks equals statistics of the whole dataset, in every layout and at large offsets", () => {
  for (const layout of LAYOUTS) {
    for (const offset of [0, 1e4]) {
      const C = 5, shape = shapeFor(layout, 11, C, layout === "NC" ? 1 : 13);
      const g = geometry(shape, layout);
      const x = randomArray(g.N * g.C * g.S, 3, { offset, scale: 2 });
      const z = new api.Standardizer(C, { layout });
      for (const p of chunks(x, shape, [1, 4, 2, 4])) z.partialFit(p.x, { shape: p.shape });
      const r = refStats(x, shape, layout);
      assert.is(z.count, g.N * g.S);
      close(z.mean, r.mean, 1e-6, 1e-6, `mean ${layout} offset ${offset}`);
      close(z.variance, r.var, 1e-5, 1e-5, `var ${layout} offset ${offset}`);
      close(z.std, r.var.map(Math.sqrt), 1e-5, 1e-5, `std ${layout}`);
      // transform = (x − mean) / std, per channel
      const y = z.transform(x, { shape });
      close(y, refBnInfer(x, shape, layout, { runningMean: r.mean, runningVar: r.var, eps: 0 }), 1e-4, 1e-4, `transform ${layout} offset ${offset}`, shape, layout);
      const back = z.inverseTransform(y, { shape });
      close(back, x, 2e-5 * (1 + offset) + 1e-4, 1e-5, `inverseTransform ${layout} offset ${offset}`, shape, layout);
    }
  }
});

test("NC chunks need no shape; fit() resets; Tensors chunks; unbiased and eps options", () => {
  const C = 14, x = randomArray(C * 100, 8, { offset: 5, scale: 3 });
  const z = new api.Standardizer(C);
  z.partialFit(x.subarray(0, C * 37)).partialFit(x.subarray(C * 37));
  const r = refStats(x, [100, C], "NC");
  close(z.mean, r.mean, 1e-6, 1e-6, "NC mean");
  z.fit([x.subarray(0, C * 10), x.subarray(C * 10)]);
  assert.is(z.count, 100);
  z.fit(x.subarray(0, C * 10));
  assert.is(z.count, 10, "fit() forgets earlier data");
  const t = api.tensor([100, C], "NC", x);
  const zt = new api.Standardizer(C).partialFit(t);
  close(zt.mean, r.mean, 1e-6, 1e-6, "tensor mean");
  const yt = zt.transform(t);
  assert.ok(yt instanceof api.Tensor);
  yt.free(); t.free();
  const u = new api.Standardizer(C, { unbiased: true }).partialFit(x);
  close(u.variance, r.var.map((v) => v * 100 / 99), 1e-5, 1e-5, "unbiased variance");
  const e = new api.Standardizer(C, { eps: 0.5 }).partialFit(x);
  close(e.std, r.var.map((v) => Math.sqrt(v + 0.5)), 1e-5, 1e-5, "std with eps");
});

test("a constant channel gets std 1 (no division by zero)", () => {
  const x = new Float32Array(20);
  for (let i = 0; i < 10; i++) { x[2 * i] = 7; x[2 * i + 1] = i; }
  const z = new api.Standardizer(2).partialFit(x);
  assert.is(z.std[0], 1);
  const y = z.transform(x);
  assert.ok(y.every(Number.isFinite));
  for (let i = 0; i < 10; i++) assert.is(y[2 * i], 0);
});

test("state survives JSON exactly; fitting can continue after restore", () => {
  const C = 3, x = randomArray(C * 50, 4, { offset: 100, scale: 7 });
  const z = new api.Standardizer(C, { layout: "NC", eps: 1e-6, unbiased: true }).partialFit(x.subarray(0, C * 20));
  const text = JSON.stringify(z);
  const z2 = api.Standardizer.fromJSON(JSON.parse(text));
  const z3 = api.Standardizer.fromJSON(text);
  assert.equal(Array.from(z2.mean), Array.from(z.mean));
  assert.equal(Array.from(z3.std), Array.from(z.std));
  assert.is(z2.eps, 1e-6); assert.is(z2.unbiased, true); assert.is(z2.layout, "NC");
  assert.equal(Array.from(z2.transform(x)), Array.from(z.transform(x)), "same output");
  z.partialFit(x.subarray(C * 20)); z2.partialFit(x.subarray(C * 20));
  const all = new api.Standardizer(C, { eps: 1e-6, unbiased: true }).partialFit(x);
  close(z2.mean, all.mean, 1e-9, 1e-9, "restored + more = all at once");
  assert.equal(Array.from(z2.mean), Array.from(z.mean));
  const j = JSON.parse(text);
  assert.is(j.type, "simdnorm.Standardizer"); assert.is(j.partials.length, 9);
});

test("Standardizer errors", () => {
  const z = new api.Standardizer(3);
  throwsWith(() => z.transform(new Float32Array(6)), "has not seen any data", "partialFit");
  throwsWith(() => z.partialFit(new Float32Array(8)), "x holds 8 values, not a multiple of 3 channels");
  throwsWith(() => z.partialFit(new Float32Array(8), { shape: [2, 4], layout: "NC" }), "the chunk has 4 channels, the accumulator 3");
  assert.is(z.count, 0, "failed chunks add nothing");
  throwsWith(() => new api.Standardizer(0), "channels must be a positive integer");
  throwsWith(() => new api.Standardizer(3, { layout: "CHW" }), 'unknown layout "CHW"');
  throwsWith(() => new api.Standardizer(3, { eps: -1 }), "eps must be a finite number ≥ 0");
  throwsWith(() => new api.Standardizer(3, { unbiased: true }).partialFit(Float32Array.of(1, 2, 3)).std, "unbiased variance needs at least 2 values per channel");
  throwsWith(() => api.Standardizer.fromJSON({ type: "other" }), "not a simdnorm.Standardizer state");
  throwsWith(() => api.Standardizer.fromJSON({ type: "simdnorm.Standardizer", version: 2 }), "unsupported Standardizer state version 2");
  throwsWith(() => api.Standardizer.fromJSON({ type: "simdnorm.Standardizer", version: 1, channels: 2, partials: [1, 2] }), "partials must be 6 finite numbers");
});

test("precise BN statistics replace the moving averages with the statistics of the concatenated data", () => {
  const C = 4, shape = [12, C, 3, 5], layout = "NCHW";
  const x = randomArray(12 * C * 15, 21, { offset: 8, scale: 3 });
  const parts = chunks(x, shape, [3, 5, 4]);
  const r = refStats(x, shape, layout), m = 12 * 15;
  for (const conv of ["pytorch", "keras", "caffe"]) {
    const bn = new api.BatchNorm(C, { layout, convention: conv });
    for (const p of parts) bn.forward(p.x, { shape: p.shape }); // moving averages: far from exact
    const nbt = bn.numBatchesTracked;
    const acc = api.preciseBatchNormStats(bn, parts);
    assert.is(acc.count, m);
    const st = bn.stats();
    close(st.mean, r.mean, 1e-5, 1e-6, `${conv} precise mean`);
    // pytorch/caffe running var is unbiased; keras biased.
    close(st.var, conv === "keras" ? r.var : r.var.map((v) => v * m / (m - 1)), 1e-5, 1e-6, `${conv} precise var`);
    assert.is(bn.numBatchesTracked, nbt, "numBatchesTracked untouched");
    if (conv === "caffe") assert.is(bn.normalizer, 1);
    bn.eval();
    const y = bn.forward(x, { shape });
    close(y, refBnInfer(x, shape, layout, { gamma: bn.gamma, beta: bn.beta, runningMean: st.mean, runningVar: st.var, eps: bn.eps }), 1e-5, 1e-5, `${conv} eval with precise stats`, shape, layout);
  }
  // Tensors and plain NC arrays work as batches too.
  const bnNC = new api.BatchNorm(3);
  const xs = [randomArray(30, 1), randomArray(12, 2)];
  api.preciseBatchNormStats(bnNC, [xs[0], api.tensor([4, 3], "NC", xs[1])]);
  const all = new Float32Array(42); all.set(xs[0]); all.set(xs[1], 30);
  close(bnNC.runningMean, refStats(all, [14, 3], "NC").mean, 1e-6, 1e-6, "mixed batches");
});

test("precise BN statistics: a bad batch changes nothing", () => {
  const bn = new api.BatchNorm(3);
  bn.forward(randomArray(30, 1));
  const rm = bn.runningMean.slice(), rv = bn.runningVar.slice();
  throwsWith(() => api.preciseBatchNormStats(bn, [randomArray(30, 2), randomArray(8, 3)]), "x holds 8 values, not a multiple of 3 channels");
  throwsWith(() => api.preciseBatchNormStats(bn, [Float32Array.of(1, 2, 3)]), "population statistics need at least 2 values per channel, got 1");
  throwsWith(() => api.preciseBatchNormStats({}, []), "needs a simdnorm BatchNorm layer");
  throwsWith(() => api.applyStats(bn, new api.StatsAccumulator(4)), "the accumulator has 4 channels, the layer 3");
  assert.equal(bn.runningMean, rm); assert.equal(bn.runningVar, rv);
});

test.run();
