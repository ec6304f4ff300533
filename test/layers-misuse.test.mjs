// Layer objects, interop, standardization and folding given what they must refuse: an `out`
// sharing memory with x, a Standardizer fit that fails half-way, malformed partials, non-finite
// or non-number fold inputs, weights beyond float32's range, a layer used twice per step,
// mutations of CONVENTIONS, options of the wrong type, num_batches_tracked past 2^53 − 1.
// Every refusal is a plain Error naming the argument and changes nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

await api.init();

const C = 3, N = 4;
const x0 = Float32Array.from({ length: N * C }, (_, i) => Math.sin(i * 1.7) * 3 + 2);
const dy = Float32Array.from({ length: N * C }, (_, i) => Math.cos(i * 0.9));
const same = (a, b) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
const layers = () => [
  new api.BatchNorm(C), new api.InstanceNorm(C, { affine: true }), new api.GroupNorm(C, { groups: 1 }), new api.LayerNorm(C), new api.RMSNorm(C),
];
/** A layer's forward options and the shape it needs (instance/group norm need a spatial axis). */
const geo = (l) => (l instanceof api.InstanceNorm || l instanceof api.GroupNorm ? { shape: [2, C, 2], layout: "NCL" } : {});

test("forward refuses an out that shares memory with x (every layer); x, the statistics and the pending backward unchanged", () => {
  for (const l of layers()) {
    const name = l.constructor.name, o = geo(l);
    const ref = layers().find((r) => r.constructor === l.constructor);
    ref.forward(x0.slice(), o);
    const dxRef = ref.backward(dy);
    // A pending forward whose backward must still be right after the refused calls.
    const x = x0.slice();
    l.forward(x, o);
    const rm = l.runningMean?.slice(), nbt = l.numBatchesTracked;
    const buf = new Float32Array(2 * N * C); buf.set(x0);
    const xs = buf.subarray(0, N * C);
    const cases = [
      ["another view of x's buffer", x, new Float32Array(x.buffer)],
      ["a view over part of x", x, new Float32Array(x.buffer, 8, N * C - 2)],
      ["a view overlapping x in part", xs, buf.subarray(3, 3 + N * C)],
      ["a view ending inside x", buf.subarray(5, 5 + N * C), buf.subarray(0, N * C)],
    ];
    for (const [what, xx, out] of cases) {
      const before = xx.slice();
      throwsWith(() => l.forward(xx, { ...o, out }), "out must not share memory with x", "backward needs the input");
      assert.ok(same(xx, before), `${name}, ${what}: x was written`);
    }
    throwsWith(() => l.forward(x, { ...o, out: x }), "out must not be x");
    if (rm) { assert.ok(same(l.runningMean, rm), `${name}: running mean changed`); assert.is(l.numBatchesTracked, nbt); }
    close(l.backward(dy), dxRef, 1e-6, 1e-6, `${name}: dx of the forward before the refused calls`);
    // Disjoint views of one buffer are fine.
    const y = l.forward(xs, { ...o, out: buf.subarray(N * C) });
    assert.is(y.length, N * C, `${name}: disjoint out`);
  }
});

test("Tensor x: out = x.data or a view into x's memory is refused; another Tensor or array is fine", () => {
  for (const l of layers()) {
    const o = geo(l), shape = o.shape ?? [N, C], layout = o.layout ?? "NC";
    const x = api.tensor(shape, layout, x0), other = api.tensor(shape, layout);
    throwsWith(() => l.forward(x, { out: x.data }), "out must not share memory with x (out is x's own data)");
    throwsWith(() => l.forward(x, { out: x.data.subarray(1) }), "out must not share memory with x");
    throwsWith(() => l.forward(x, { out: x }), "out must not be x");
    assert.ok(same(x.data, x0), "x unchanged");
    assert.is(l.forward(x, { out: other }), other);
    assert.is(l.forward(x, { out: new Float32Array(N * C) }).length, N * C);
    // x a view of wasm memory (a Tensor's data), out the Tensor itself: the same bytes.
    throwsWith(() => l.forward(x.data, { ...o, out: x }), "out must not share memory with x");
    x.free(); other.free();
  }
});

test("Standardizer.fit that throws (a bad chunk, an iterator that throws, one bad array) keeps the fitted statistics", () => {
  const z = new api.Standardizer(C).fit([Float32Array.of(10, 20, 30, 12, 22, 32), Float32Array.of(11, 21, 31, 13, 23, 33)]);
  const keep = () => ({ count: z.count, mean: Array.from(z.mean), variance: Array.from(z.variance) });
  const before = keep();
  assert.equal(before.count, 4); assert.equal(before.mean, [11.5, 21.5, 31.5]);
  throwsWith(() => z.fit([Float32Array.of(-50, -50, -50, -52, -52, -52), new Float32Array(4)]), "x holds 4 values, not a multiple of 3 channels");
  assert.equal(keep(), before);
  function* chunks() { yield Float32Array.of(1, 2, 3); throw new Error("source failed"); }
  throwsWith(() => z.fit(chunks()), "source failed");
  assert.equal(keep(), before);
  throwsWith(() => z.fit(new Float32Array(5)), "x holds 5 values");
  assert.equal(keep(), before);
  // A fit that succeeds replaces the statistics; partialFit adds to them.
  z.fit([Float32Array.of(1, 2, 3, 3, 4, 5)]);
  assert.is(z.count, 2); assert.equal(Array.from(z.mean), [2, 3, 4]);
  z.partialFit(Float32Array.of(2, 3, 4));
  assert.is(z.count, 3);
});

test("partials: counts whole and ≥ 0, M2 ≥ 0 and finite, means finite, empty triples (0, 0, 0); NaN (from NaN data) and unequal counts accepted", () => {
  const a = () => Float64Array.of(4, 1, 2, 2, 0, 1);
  const bad = [
    [[1.5, 0, 0], "count of channel 0 is 1.5: counts must be whole numbers ≥ 0"],
    [[-1, 0, 0], "count of channel 0 is -1"],
    [[Infinity, 0, 0], "count of channel 0 is Infinity"],
    [[NaN, 0, 0], "count of channel 0 is NaN"],
    [[1, 0, -50], "M2 of channel 0 is -50: M2 (the sum of squared deviations) must be finite and ≥ 0"],
    [[2, 0, Infinity], "M2 of channel 0 is Infinity"],
    [[2, 0, -Infinity], "M2 of channel 0 is -Infinity"],
    [[1, Infinity, 0], "mean of channel 0 is Infinity with M2 0: means must be finite"],
    [[1, -Infinity, 0], "mean of channel 0 is -Infinity"],
    [[0, 0, 5], "channel 0 has count 0 with mean 0 and M2 5: an empty triple must be (0, 0, 0)"],
    [[0, 3, 0], "channel 0 has count 0 with mean 3 and M2 0"],
    [[0, NaN, 0], "channel 0 has count 0 with mean NaN"],
  ];
  for (const [t, msg] of bad) {
    const b = Float64Array.of(1, 0, 0, ...t), target = a(), copy = target.slice();
    throwsWith(() => api.mergePartials(target, b), `b ${msg.replace("channel 0", "channel 1")}`);
    assert.ok(same(target, copy), "a unchanged");
    throwsWith(() => api.mergePartials(Float64Array.of(1, 0, 0, ...t), a()), `a ${msg.replace("channel 0", "channel 1")}`);
    const acc = new api.StatsAccumulator(2).merge(a()), p = acc.partials.slice();
    throwsWith(() => acc.merge(Float64Array.of(1, 0, 0, ...t)), `other ${msg.replace("channel 0", "channel 1")}`);
    assert.ok(same(acc.partials, p), "accumulator unchanged");
    throwsWith(() => api.StatsAccumulator.fromPartials(Float64Array.of(...t)), `partials ${msg}`);
  }
  // NaN means/M2 (what NaN data gives), ±Infinity means with M2 NaN (what ±Infinity data gives),
  // and a count of 0 (nothing seen) pass; counts may differ between channels.
  assert.ok(Number.isNaN(api.mergePartials(a(), Float64Array.of(1, NaN, 0, 1, 0, NaN))[1]));
  assert.ok(Number.isNaN(api.StatsAccumulator.fromPartials(Float64Array.of(1, NaN, 0)).result().mean[0]));
  const fromData = api.partialStats(Float32Array.of(1, 2, 3, -Infinity), { shape: [4, 1], layout: "NC" });
  assert.is(api.mergePartials(Float64Array.of(2, 0, 1), fromData)[1], -Infinity);
  const acc = new api.StatsAccumulator(1);
  acc.update(Float32Array.of(1, 2, 3, -Infinity), { shape: [4, 1], layout: "NC" });
  assert.is(acc.result().mean[0], -Infinity, "update() with ±Infinity data gives what channelStats gives");
  assert.equal(Array.from(api.mergePartials(Float64Array.of(0, 0, 0, 3, 1, 2), Float64Array.of(2, 5, 0, 0, 0, 0))), [2, 5, 0, 3, 1, 2]);
});

test("Standardizer: fromJSON refuses malformed partials, a non-boolean unbiased and text that is not JSON", () => {
  const base = { type: "simdnorm.Standardizer", version: 1, layout: "NC", eps: 0, unbiased: false };
  throwsWith(() => api.Standardizer.fromJSON({ ...base, channels: 1, partials: [2, 0, -5] }), "partials M2 of channel 0 is -5");
  throwsWith(() => api.Standardizer.fromJSON({ ...base, channels: 1, partials: [2.5, 0, 1] }), "partials count of channel 0 is 2.5");
  throwsWith(() => api.Standardizer.fromJSON({ ...base, channels: 1, partials: [-2, 0, 1] }), "partials count of channel 0 is -2");
  throwsWith(() => api.Standardizer.fromJSON({ ...base, channels: "1", partials: [2, 0, 1] }), 'channels must be a positive integer, got the string "1"');
  throwsWith(() => api.Standardizer.fromJSON({ ...base, channels: 1, unbiased: "false", partials: [3, 5, 2] }), 'unbiased must be true or false, got the string "false"');
  throwsWith(() => api.Standardizer.fromJSON({ ...base, type: "other" }), 'not a simdnorm.Standardizer state (type the string "other")');
  throwsWith(() => api.Standardizer.fromJSON(null), "not a simdnorm.Standardizer state (type null)");
  const e = throwsWith(() => api.Standardizer.fromJSON("{oops"), "Standardizer.fromJSON: the string is not valid JSON (");
  assert.is(e.constructor, Error);
  throwsWith(() => new api.Standardizer(1, { unbiased: "no" }), 'unbiased must be true or false, got the string "no"');
  throwsWith(() => new api.Standardizer(1, { unbiased: 1 }), "unbiased must be true or false, got 1");
  throwsWith(() => new api.Standardizer(1, "NC"), 'options must be an object, got the string "NC"');
  // Unequal counts per channel: accepted (each triple stands alone); count is channel 0's.
  const z = api.Standardizer.fromJSON({ ...base, channels: 2, partials: [2, 0, 2, 500, 1, 1000] });
  assert.is(z.count, 2); assert.equal(Array.from(z.variance), [1, 2]);
  assert.is(new api.Standardizer(1, null).unbiased, false);
  // A round trip still works.
  const fitted = new api.Standardizer(2, { unbiased: true }).fit(Float32Array.of(1, 2, 3, 5, 6, 9));
  assert.equal(api.Standardizer.fromJSON(JSON.stringify(fitted)).toJSON(), fitted.toJSON());
});

test("foldBatchNorm refuses non-finite and non-number entries by argument and index, and a folded value beyond float32", () => {
  const w = Float32Array.from({ length: 12 }, (_, i) => i / 10);
  const base = { weightLayout: "OI", gamma: [1, 1, 1], beta: [0, 0, 0], runningMean: [0, 0, 0], runningVar: [1, 1, 1] };
  const cases = [
    [{ runningMean: [NaN, 0, 0] }, "runningMean[0] is NaN: runningMean must hold finite values"],
    [{ runningMean: Float32Array.of(0, 0, Infinity) }, "runningMean[2] is Infinity"],
    [{ gamma: [1, NaN, 1] }, "gamma[1] is NaN: gamma must hold finite values"],
    [{ beta: [0, -Infinity, 0] }, "beta[1] is -Infinity"],
    [{ bias: [Infinity, 0, 0] }, "bias[0] is Infinity: bias must hold finite values"],
    [{ runningVar: [NaN, 1, 1] }, "running_var[0] is NaN: runningVar must hold finite variances ≥ 0"],
    [{ runningVar: [1, Infinity, 1] }, "running_var[1] is Infinity"],
    [{ runningVar: [1, 1, -2] }, "running_var[2] is negative (-2)"],
    [{ gamma: [1, "1", 1] }, 'gamma[1] must be a number, got the string "1"'],
    [{ runningMean: ["0", 0, 0] }, 'runningMean[0] must be a number, got the string "0"'],
    [{ bias: [0, 0, null] }, "bias[2] must be a number, got null"],
    [{ shape: [3, "4"] }, 'shape axis 1 must be a positive integer, got the string "4"'],
    [{ shape: [3, 4.5] }, "shape axis 1 must be a positive integer, got 4.5"],
    [{ shape: "3,4" }, 'shape must be an array of positive integers, got the string "3,4"'],
    [{ weightLayout: "toString" }, 'unknown weightLayout "toString"'],
    [{ weightLayout: 5 }, "unknown weightLayout 5"],
    [{ gamma: [1e30, 1, 1], runningVar: [1e-30, 1, 1], eps: 0 }, "the folded weight[1] = weight[1]·scale = 0.10000000149011612·1e+45 is beyond float32's range"],
    [{ runningMean: [-3e38, 0, 0], bias: [3e38, 0, 0], runningVar: [1e-4, 1, 1], eps: 0 }, "output channel 0: the folded bias (b − mean)·scale + beta"],
  ];
  for (const [o, msg] of cases) {
    const args = { ...base, ...o };
    const copies = Object.fromEntries(Object.entries(args).filter(([, v]) => Array.isArray(v) || ArrayBuffer.isView(v)).map(([k, v]) => [k, Array.from(v)]));
    throwsWith(() => api.foldBatchNorm(w, args), msg);
    for (const [k, v] of Object.entries(copies)) assert.equal(Array.from(args[k]), v, `${k} unchanged`);
  }
  throwsWith(() => api.foldBatchNorm(Float32Array.of(1, NaN, 3), base), "weight[1] is NaN: weight must hold finite values");
  throwsWith(() => api.foldBatchNorm(["1", "2", "3"], base), 'weight[0] must be a number, got the string "1"');
  throwsWith(() => api.foldBatchNorm("w", base), 'weight must be a Float32Array, Float64Array or number[], got the string "w"');
  // A BatchNorm layer whose gamma was edited to NaN is refused the same way.
  const bn = new api.BatchNorm(3); bn.gamma[2] = NaN;
  throwsWith(() => api.foldBatchNorm(w, { weightLayout: "OI", bn }), "gamma[2] is NaN");
  // Valid inputs (number[] and typed arrays) still fold.
  const f = api.foldBatchNorm([1, 2, 3], { ...base, shape: [3, 1], runningVar: [4, 4, 4], eps: 0 });
  assert.equal(Array.from(f.weight), [0.5, 1, 1.5]);
});

test("importWeights / setStats refuse values beyond float32 and normalizers float32 cannot hold; nothing changes", () => {
  const snap = (bn) => [bn.gamma, bn.beta, bn.runningMean, bn.runningVar].map((a) => Array.from(a ?? [])).concat([bn.numBatchesTracked, bn.normalizer]);
  const k = new api.BatchNorm(3, { convention: "keras" }), kb = snap(k);
  throwsWith(() => api.importWeights(k, "keras", [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1e39, 1, 1]]), "moving_variance[0] is 1e+39: beyond float32's range");
  throwsWith(() => api.importWeights(k, "keras", [[1, -1e39, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]]), "gamma[1] is -1e+39: beyond float32's range");
  throwsWith(() => api.importWeights(k, "onnx", { scale: [1, 1, 1], B: [0, 0, 0], input_mean: [0, 4e38, 0], input_var: [1, 1, 1] }), "input_mean[1] is 4e+38");
  throwsWith(() => api.importWeights(k, "keras", [[1, 1, 1], [0, "0", 0], [0, 0, 0], [1, 1, 1]]), 'beta[1] is the string "0": expected a finite number');
  assert.equal(snap(k), kb);
  // float32's largest value itself is accepted.
  api.importWeights(k, "keras", [[1, 1, 1], [0, 0, 0], [3.4028234663852886e38, 0, 0], [1, 1, 1]]);
  assert.is(k.runningMean[0], 3.4028234663852886e38);

  const p = new api.BatchNorm(3), pb = snap(p);
  throwsWith(() => api.importWeights(p, "caffe", { batchNorm: [[1, 1, 1], [1, 1, 1], [1e-45]], scale: [[1, 1, 1], [0, 0, 0]] }), "caffe blob 0 (mean·s)[0] / s is", "beyond float32's range", "s = 1e-45 is too small");
  throwsWith(() => api.importWeights(p, "caffe", { batchNorm: [[0, 0, 0], [0, 1e-3, 0], [1e-42]], scale: [[1, 1, 1], [0, 0, 0]] }), "caffe blob 1 (var·s)[1] / s is");
  assert.equal(snap(p), pb);
  api.importWeights(p, "caffe", { batchNorm: [[0, 0, 0], [0, 0, 0], [1e-45]], scale: [[1, 1, 1], [0, 0, 0]] });
  assert.equal(Array.from(p.runningVar), [0, 0, 0]);

  const c = new api.BatchNorm(3, { convention: "caffe" }), cb = snap(c);
  throwsWith(() => c.setStats([1, 1, 1], [2, 2, 2], 1e-50), "normalizer 1e-50 is 0 in float32");
  throwsWith(() => c.setStats([1, 1, 1], [2, 2, 2], 1e39), "normalizer 1e+39 is beyond float32's range");
  throwsWith(() => c.setStats([1, 1, 1], [2, 2, 2], 1e-45), "mean[0] / normalizer is", "beyond float32's range");
  throwsWith(() => c.setStats([0, 0, 0], [0, 0, 1], 1e-44), "var[2] / normalizer is");
  throwsWith(() => api.importWeights(c, "caffe", { batchNorm: [[1, 1, 1], [2, 2, 2], [1e-50]], scale: [[1, 1, 1], [0, 0, 0]] }), "normalizer 1e-50 is 0 in float32");
  throwsWith(() => new api.BatchNorm(3).setStats([1e39, 0, 0], [1, 1, 1]), "mean[0] is 1e+39: beyond float32's range");
  throwsWith(() => new api.BatchNorm(3).setStats([0, 0, 0], [1, 1, 5e38]), "var[2] is 5e+38: beyond float32's range");
  throwsWith(() => new api.BatchNorm(3).setStats([0, 0, 0], [1, "1", 1]), 'var[1] must be a number, got the string "1"');
  assert.equal(snap(c), cb);
  c.setStats([1, 1, 1], [2, 2, 2], 0.5);
  assert.equal(Array.from(c.stats().mean), [2, 2, 2]);
  c.setStats([1, 1, 1], [2, 2, 2], 0);
  assert.is(c.normalizer, 0);

  const r = new api.RMSNorm(2), rb = Array.from(r.gamma);
  throwsWith(() => api.importWeights(r, "pytorch", { weight: [1e39, 1] }), "weight[0] is 1e+39: beyond float32's range");
  throwsWith(() => api.importWeights(r, "onnx", { scale: [1, NaN] }), "scale[1] is NaN");
  assert.equal(Array.from(r.gamma), rb);
});

test("num_batches_tracked: a whole number ≤ 2^53 − 1; strings quoted", () => {
  const sd = { weight: [1, 1, 1], bias: [0, 0, 0], running_mean: [0, 0, 0], running_var: [1, 1, 1] };
  const bn = new api.BatchNorm(3);
  throwsWith(() => api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: 2n ** 60n }), "num_batches_tracked must be at most 2^53 − 1", "got the bigint 1152921504606846976n");
  throwsWith(() => api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: BigInt64Array.of(2n ** 53n) }), "num_batches_tracked must be at most 2^53 − 1");
  throwsWith(() => api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: 2 ** 60 }), "num_batches_tracked must be at most 2^53 − 1");
  throwsWith(() => api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: "3" }), 'num_batches_tracked must be a finite number ≥ 0, got the string "3"');
  throwsWith(() => api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: 1.5 }), "num_batches_tracked must be an integer, got 1.5");
  assert.is(bn.numBatchesTracked, 0);
  assert.is(api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: BigInt(Number.MAX_SAFE_INTEGER) }).numBatchesTracked, Number.MAX_SAFE_INTEGER);
  assert.is(api.importWeights(bn, "pytorch", { ...sd, num_batches_tracked: [7n] }).numBatchesTracked, 7);
});

test("a layer used twice per step: forward/backward interleaved accumulates; two forwards then two backwards say what is supported", () => {
  const a = Float32Array.of(1, 2, 4, 0, 1, 3), b = Float32Array.of(5, 1, 2, 2, 2, 9), d = Float32Array.of(1, -1, 0.5, 0.2, 0, -0.3);
  const one = (x) => { const l = new api.LayerNorm(3); l.gamma.set([1.5, 0.5, 2]); l.forward(x); l.backward(d); return Array.from(l.dgamma); };
  const ln = new api.LayerNorm(3); ln.gamma.set([1.5, 0.5, 2]);
  ln.forward(a); ln.backward(d); ln.forward(b); ln.backward(d, { accumulate: true });
  close(ln.dgamma, one(a).map((v, i) => v + one(b)[i]), 1e-6, 1e-6, "accumulated dgamma");
  ln.forward(a); ln.forward(b); ln.backward(d);
  throwsWith(() => ln.backward(d, { accumulate: true }), "no forward to differentiate", "each forward allows one backward", "keeps only its last forward",
    "forward(a), backward(da), then forward(b), backward(db, { accumulate: true })");
});

test("CONVENTIONS and its entries are frozen; layers keep the documented defaults", () => {
  assert.ok(Object.isFrozen(api.CONVENTIONS));
  for (const [name, info] of Object.entries(api.CONVENTIONS)) assert.ok(Object.isFrozen(info), `${name} frozen`);
  assert.throws(() => { api.CONVENTIONS.pytorch.momentum = 0.5; });
  assert.throws(() => { api.CONVENTIONS.keras.momentumKeepsOld = false; });
  assert.throws(() => { api.CONVENTIONS.mine = {}; });
  assert.is(new api.BatchNorm(2).momentum, 0.1);
  const k = new api.BatchNorm(2, { convention: "keras" });
  k.forward(Float32Array.of(1, 2, 3, 4));
  close(k.runningMean, [0.02, 0.03], 1e-7, 1e-6, "keras running mean after one batch");
});

test("options: null constructor options, backward options, train(on), preciseBatchNormStats batches, applyStats arguments", () => {
  for (const L of [api.BatchNorm, api.InstanceNorm, api.LayerNorm, api.RMSNorm]) assert.is(new L(4, null).layout, "NC", `${L.name}(4, null)`);
  const x = Float32Array.from({ length: 12 }, (_, i) => i % 5);
  for (const l of layers()) {
    const o = geo(l), name = l.constructor.name;
    l.forward(x, o);
    throwsWith(() => l.backward(x, "NC"), 'options must be an object, got the string "NC"');
    throwsWith(() => l.backward(x, { accumulate: "no" }), 'accumulate must be true or false, got the string "no"');
    throwsWith(() => l.backward(x, { accumulate: 1 }), "accumulate must be true or false, got 1");
    // Still pending: the refused calls changed nothing. null options are no options.
    l.backward(x, null);
    const g = Array.from(l.dgamma);
    l.forward(x, o); l.backward(x, { accumulate: false });
    assert.equal(Array.from(l.dgamma), g, `${name}: accumulate false overwrites`);
    throwsWith(() => l.train("no"), 'train(on): on must be true or false, got the string "no"');
    throwsWith(() => l.train(0), "train(on): on must be true or false, got 0");
    assert.is(l.training, true);
    assert.is(l.train(false).training, false); assert.is(l.train().training, true);
  }
  const bn = new api.BatchNorm(3);
  const stats = () => [Array.from(bn.runningMean), Array.from(bn.runningVar)];
  const before = stats();
  throwsWith(() => api.preciseBatchNormStats(bn, 5), "batches must be an iterable of batches", "got 5");
  throwsWith(() => api.preciseBatchNormStats(bn, null), "batches must be an iterable of batches", "got null");
  throwsWith(() => api.preciseBatchNormStats(bn, "abc"), 'got the string "abc"');
  throwsWith(() => api.preciseBatchNormStats(bn, x), "got a Float32Array of 12 values (one batch: pass [x])");
  const t = api.tensor([4, 3], "NC", x);
  throwsWith(() => api.preciseBatchNormStats(bn, t), "got a Tensor (one batch: pass [x])");
  t.free();
  throwsWith(() => api.applyStats(bn, {}), "applyStats needs a StatsAccumulator, got an object");
  throwsWith(() => api.applyStats(bn, null), "applyStats needs a StatsAccumulator, got null");
  throwsWith(() => api.applyStats({}, new api.StatsAccumulator(3)), "applyStats needs a simdnorm BatchNorm layer");
  assert.equal(stats(), before);
  api.preciseBatchNormStats(bn, [x, { x, shape: [4, 3] }]);
  api.preciseBatchNormStats(bn, (function* () { yield x; })());
});

test("hostile values to backward options, train, preciseBatchNormStats, applyStats, fold and fromJSON give plain Errors", () => {
  const hostile = [null, "x", "toString", NaN, -1, {}, [], Symbol("s"), 10n, new Proxy([1, 1, 1], {}), new Proxy(new Float32Array(3), {}), Object.create(Float32Array.prototype), () => 1];
  const x = Float32Array.from({ length: 12 }, (_, i) => i % 5);
  const bn = new api.BatchNorm(3);
  const make = [
    (v) => { bn.forward(x); bn.backward(x, v); }, (v) => { bn.forward(x); bn.backward(x, { accumulate: v }); }, (v) => { bn.forward(x); bn.backward(x, { out: v }); },
    (v) => bn.train(v), (v) => api.preciseBatchNormStats(bn, v), (v) => api.preciseBatchNormStats(bn, [v]), (v) => api.applyStats(bn, v), (v) => api.applyStats(v, new api.StatsAccumulator(3)),
    (v) => api.Standardizer.fromJSON(v), (v) => api.Standardizer.fromJSON({ type: "simdnorm.Standardizer", version: 1, channels: 1, partials: [1, 0, 0], unbiased: v }),
    (v) => api.foldBatchNorm([1, 2, 3], { weightLayout: "OI", runningMean: [0, 0, 0], runningVar: [1, 1, 1], gamma: [1, v, 1] }),
    (v) => api.foldBatchNorm([1, 2, 3], { weightLayout: "OI", runningMean: [0, 0, 0], runningVar: [1, 1, 1], shape: v }),
    (v) => api.foldBatchNorm([1, 2, 3], { weightLayout: v, runningMean: [0, 0, 0], runningVar: [1, 1, 1] }),
    (v) => new api.LayerNorm(3).forward(x, { out: v }), (v) => new api.BatchNorm(3).setStats([0, v, 0], [1, 1, 1]),
    (v) => api.importWeights(new api.BatchNorm(3), "pytorch", { weight: [1, 1, 1], bias: [0, 0, 0], running_mean: [0, 0, 0], running_var: [1, 1, 1], num_batches_tracked: v }),
    (v) => new api.Standardizer(3, { unbiased: v }), (v) => new api.LayerNorm(3, v),
  ];
  let threw = 0;
  for (const f of make) for (const v of hostile) {
    try { f(v); } catch (e) { threw++; if (e.constructor !== Error) throw new Error(`${f} with hostile[${hostile.indexOf(v)}]: ${e.constructor.name}: ${e.message}`); }
  }
  assert.ok(threw > 150, `threw ${threw}`);
});

test.run();
