// Hostile input and misuse at the API boundary: statistics checked element by element, views
// accepted only inside live allocations, names looked up as own properties, options read once,
// messages that quote what they got, and never an internal TypeError or RangeError.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray, refStats, refBnTrain } from "./reference.mjs";
import { throwsWith, close } from "./helpers.mjs";

await api.init();
const shape = [2, 3, 4, 4], layout = "NCHW", C = 3;
const x0 = randomArray(96, 7);

/** fn must throw a plain Error (never a TypeError/RangeError) whose message has every fragment. */
function refuses(fn, ...fragments) {
  const e = throwsWith(fn, ...fragments);
  assert.is(e.constructor, Error, `${e.constructor.name}: ${e.message}`);
  return e;
}

test("globalStats: NaN, negative M2, unequal or zero counts, wrong type — refused, running stats untouched", () => {
  const good = () => Float64Array.of(32, 0, 32, 32, 1, 16, 32, 2, 8);
  const runningMean = new Float32Array(3), runningVar = new Float32Array(3).fill(1);
  const cases = [
    [(g) => { g[4] = NaN; }, "globalStats mean of channel 1 is NaN"],
    [(g) => { g[5] = -1; }, "globalStats M2 of channel 1 is -1"],
    [(g) => { g[2] = Infinity; }, "globalStats M2 of channel 0 is Infinity"],
    [(g) => { g[6] = 31; }, "globalStats counts differ: channel 2 has 31, channel 0 has 32"],
    [(g) => { g[0] = g[3] = g[6] = 0; }, "globalStats count of channel 0 is 0"],
    [(g) => { g[3] = NaN; }, "globalStats count of channel 1 is NaN"],
  ];
  for (const [spoil, msg] of cases) {
    const gs = good(); spoil(gs);
    refuses(() => api.batchNormTrain(x0, { shape, layout, globalStats: gs, runningMean, runningVar }), msg);
  }
  refuses(() => api.batchNormTrain(x0, { shape, layout, globalStats: [32, 0, 1] }), "globalStats must be a Float64Array of 3 triples (count, mean, M2), got an Array of 3 values");
  refuses(() => api.batchNormTrain(x0, { shape, layout, globalStats: new Float64Array(6) }), "globalStats has 6 values, expected 9");
  assert.equal(Array.from(runningMean), [0, 0, 0]);
  assert.equal(Array.from(runningVar), [1, 1, 1]);
  // globalSums of the synchronized backward: finite pairs and a count.
  const saveMean = [0, 0, 0], saveInvstd = [1, 1, 1];
  refuses(() => api.batchNormBackward(x0, x0, { shape, layout, saveMean, saveInvstd, globalSums: Float64Array.of(0, NaN, 0, 0, 0, 0), count: 32 }), "globalSums[1] is NaN");
  refuses(() => api.batchNormBackward(x0, x0, { shape, layout, saveMean, saveInvstd, globalSums: new Float64Array(6) }), "count (values per channel over all shards) is required");
  refuses(() => api.batchNormBackward(x0, x0, { shape, layout, saveMean, saveInvstd, globalSums: new Float64Array(6), count: 0 }), "count must be a whole number of values ≥ 1, got 0");
});

test("globalStats and globalSums viewing wasm memory, in a call whose allocations grow it: copied, results right", () => {
  const holder = api.tensor([1, 64], "NC"), C = 3, xs = randomArray(24, 3, { offset: 2 });
  const view = (at, n) => new Float64Array(api.wasmMemory().buffer, holder.ptr + at, n);
  // x bigger than the whole memory now: its copy-in grows the memory.
  const N = Math.ceil(api.memoryStats().memoryBytes / (4 * C)) + 1024, big = new Float32Array(N * C).fill(1);
  const gs = view(0, 3 * C); gs.set(api.partialStats(xs, { shape: [2, C, 4], layout: "NCL" }));
  const want = api.batchNormTrain(xs, { shape: [2, C, 4], layout: "NCL" });
  const r = api.batchNormTrain(big, { shape: [N, C], layout: "NC", globalStats: gs });
  assert.equal(Array.from(r.saveMean), Array.from(want.saveMean), "globalStats read as given");
  const bo = { shape: [N, C], layout: "NC", saveMean: [1, 1, 1], saveInvstd: [1, 1, 1], count: 2 * N };
  const wantDx = api.batchNormBackward(big, big, { ...bo, globalSums: new Float64Array(2 * C).fill(0.5 * N) }).dx;
  const N2 = Math.ceil(api.memoryStats().memoryBytes / (4 * C)) + 1024, big2 = new Float32Array(N2 * C).fill(1);
  view(128, 2 * C).fill(0.5 * N2);
  const b = api.batchNormBackward(big2, big2, { ...bo, shape: [N2, C], count: 2 * N2, globalSums: view(128, 2 * C) });
  assert.is(b.dx[0], wantDx[0], "globalSums read as given");
  assert.ok(b.dx[0] !== 1 && b.dx[0] < 1, `dx uses the sums (${b.dx[0]})`);
  holder.free();
});

test("runningMean and runningVar sharing bytes with each other, x or out are refused; nothing written", () => {
  const xs = randomArray(96, 1, { offset: 2 }), buf = Float32Array.of(0, 0, 0, 1, 1, 1);
  refuses(() => api.batchNormTrain(xs, { shape, layout, runningMean: buf.subarray(0, 3), runningVar: buf.subarray(1, 4) }), "runningMean and runningVar overlap");
  const out = new Float32Array(96), x2 = Float32Array.from(xs);
  refuses(() => api.batchNormTrain(xs, { shape, layout, out, runningMean: out.subarray(0, 3), runningVar: new Float32Array(3).fill(1) }), "shares memory with out");
  refuses(() => api.batchNormTrain(x2, { shape, layout, runningMean: new Float32Array(3), runningVar: x2.subarray(90, 93) }), "shares memory with x");
  const f64 = new Float64Array(6).fill(1);
  refuses(() => api.batchNormTrain(xs, { shape, layout, runningMean: f64.subarray(0, 3), runningVar: new Float32Array(f64.buffer, 8, 3) }), "runningMean and runningVar overlap");
  assert.equal(Array.from(buf), [0, 0, 0, 1, 1, 1]); assert.ok(out.every((v) => v === 0)); assert.equal(Array.from(x2), Array.from(xs));
  // Apart in one buffer: fine.
  const both = new Float32Array(6).fill(1);
  api.batchNormTrain(xs, { shape, layout, runningMean: both.subarray(0, 3), runningVar: both.subarray(3, 6) });
  assert.ok(both[0] !== 1 && both[3] !== 1, "updated");
});

test("batchNormBackward: count is read only with globalSums, and is a whole number", () => {
  const xs = randomArray(96, 1), dy = randomArray(96, 2), f = api.batchNormTrain(xs, { shape, layout });
  const o = { shape, layout, saveMean: f.saveMean, saveInvstd: f.saveInvstd };
  refuses(() => api.batchNormBackward(xs, dy, { ...o, count: 2.5 }), "count is only read with globalSums", "got count 2.5");
  refuses(() => api.batchNormBackward(xs, dy, { ...o, count: 32 }), "count is only read with globalSums");
  const globalSums = api.backwardPartials(xs, dy, { ...o });
  refuses(() => api.batchNormBackward(xs, dy, { ...o, globalSums, count: 31.5 }), "count must be a whole number of values");
  const a = api.batchNormBackward(xs, dy, o), b = api.batchNormBackward(xs, dy, { ...o, globalSums, count: 32 });
  close(b.dx, a.dx, 1e-6, 1e-5, "globalSums of x itself and its count give the local dx");
});

test("every element of gamma, beta and the running statistics is checked", () => {
  const rm = [0, 0, 0], rv = [1, 1, 1];
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: rm, runningVar: rv, gamma: ["a", "b", "c"] }), 'gamma[0] must be a number, got the string "a"');
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: rm, runningVar: rv, gamma: new Array(3) }), "gamma[0] must be a number, got undefined");
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: rm, runningVar: [1, NaN, 1] }), "running_var[1] is NaN");
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: [0, Infinity, 0], runningVar: rv }), "runningMean[1] is Infinity");
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: rm, runningVar: rv, beta: Float32Array.of(0, 0, NaN) }), "beta[2] is NaN");
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: rm, runningVar: rv, gamma: Float32Array.of(1, -Infinity, 1) }), "gamma[1] is -Infinity");
  refuses(() => api.groupNorm(x0, { shape, layout, groups: 3, beta: [0, 0, -Infinity] }), "beta[2] is -Infinity");
  const runningMean = new Float32Array(3), runningVar = Float32Array.of(1, NaN, 1);
  refuses(() => api.batchNormTrain(x0, { shape, layout, runningMean, runningVar }), "running_var[1] is NaN");
  assert.equal(Array.from(runningMean), [0, 0, 0]);
  refuses(() => api.groupNorm(x0, { shape, layout, groups: 3, gamma: [1, "2", 3] }), 'gamma[1] must be a number, got the string "2"');
  refuses(() => api.layerNorm(x0, { shape, layout, beta: [0, NaN, 0] }), "beta[1] is NaN");
  refuses(() => api.batchNormBackwardEval(x0, x0, { shape, layout, runningMean: rm, runningVar: [1, -2, 1] }), "running_var[1] is negative (-2)");
  refuses(() => api.tensor([1, 3], "NC", "abc"), 'values must be an Array of numbers or a typed array, got the string "abc"');
  refuses(() => api.tensor([1, 3], "NC", [1, "2", 3]), 'values[1] must be a number, got the string "2"');
  refuses(() => api.tensor([1, 3], "NC", new Array(1e9)), "values has 1000000000 values, the shape [1,3] needs 3");
  const bn = new api.BatchNorm(3);
  refuses(() => bn.setStats([0, 0, 0], [1, NaN, 1]), "var[1] is NaN");
});

test("names are own properties only", () => {
  for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
    refuses(() => api.batchNormTrain(x0, { shape, layout, convention: name }), `unknown convention "${name}"`);
    refuses(() => api.channelStats(x0, { shape, layout: name }), `unknown layout "${name}"`, "NCHW");
    refuses(() => new api.BatchNorm(3, { convention: name }), `unknown convention "${name}"`);
    refuses(() => new api.LayerNorm(3, { layout: name }), `unknown layout "${name}"`);
  }
  refuses(() => api.channelStats(x0, { shape, layout: { toString: () => "NCHW" } }), "unknown layout an object");
});

test("messages quote strings and name argument, expected and actual", () => {
  refuses(() => api.groupNorm(x0, { shape, layout, groups: "3" }), 'groups must be a positive integer, got the string "3"');
  refuses(() => new api.GroupNorm(3, { groups: "3" }), 'groups must be a positive integer, got the string "3"');
  refuses(() => api.channelStats(x0, { shape: "2,3,4,4", layout }), 'shape must be an array of positive integers, got the string "2,3,4,4"');
  refuses(() => api.channelStats(x0, { shape: [2, "3", 4, 4], layout }), 'axis 1 must be a positive integer, got the string "3"');
  refuses(() => api.channelStats(x0, { shape: new Array(1e9), layout }), "layout NCHW needs a 4-D shape, got 1000000000 axes");
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: [0, 0, 0], runningVar: [1, 1, 1], eps: "1e-5" }), 'eps must be a finite number ≥ 0, got the string "1e-5"');
  const p = api.partialStats(x0, { shape, layout });
  refuses(() => api.mergePartials(p, null), "b must be a Float64Array of C triples (count, mean, M2), got null");
  refuses(() => api.mergePartials(null, p), "a must be a Float64Array");
  refuses(() => api.finishStats([1, 2, 3]), "partials must be a Float64Array", "got an Array of 3 values");
  refuses(() => new api.StatsAccumulator(3).merge(null), "other must be a Float64Array");
  refuses(() => api.batchNormTrain(x0, "options"), 'options must be an object, got the string "options"');
  refuses(() => api.batchNormTrain(x0, { shape, layout, momentum: "0.1" }), 'momentum must be a finite number ≥ 0, got the string "0.1"');
});

test("Proxies and fake typed arrays are refused with a clear message", () => {
  const px = new Proxy(Float32Array.from(x0), {});
  refuses(() => api.channelStats(px, { shape, layout }), "x must be a Float32Array or a simdnorm Tensor, got an object posing as a typed array");
  refuses(() => api.channelStats(Object.create(Float32Array.prototype), { shape, layout }), "posing as a typed array");
  const t = api.tensor(shape, layout, x0);
  refuses(() => api.channelStats(new Proxy(t, {})), "x must be a Float32Array or a simdnorm Tensor");
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: new Proxy(new Float32Array(3), {}), runningVar: [1, 1, 1] }), "runningMean must be a Float32Array, Float64Array or number[] of 3 values, got an object posing");
  t.free();
});

test("lengths come from the intrinsics: a subclass that lies about its length changes nothing", () => {
  class Liar extends Float32Array { get length() { return 96; } }
  const small = new Liar(12);
  refuses(() => api.channelStats(small, { shape, layout }), "x holds 12 values, the shape [2,3,4,4] needs 96");
  // A lying out of wasm memory next to a live tensor: refused, the neighbour untouched.
  const a = api.tensor([1, 8], "NC"), nb = api.tensor([1, 96], "NC", randomArray(96, 3));
  const before = nb.toArray();
  const lie = new Liar(api.wasmMemory().buffer, a.ptr, 8);
  refuses(() => api.batchNormInfer(x0, { shape, layout, runningMean: [0, 0, 0], runningVar: [1, 1, 1], out: lie }), "out holds 8 values");
  assert.equal(nb.toArray(), before);
  a.free(); nb.free();
});

test("new Tensor(…) is refused (a Tensor owns its allocation, which only tensor() makes): no two owners of a block", () => {
  const a = api.tensor([1, 4], "NC", [1, 2, 3, 4]);
  refuses(() => new api.Tensor([1, 4], "NC", a.ptr), "use tensor(shape, layout, values?) to allocate one", "pass t.data with { shape, layout }");
  refuses(() => new api.Tensor([4, 1], "NC", a.ptr), "use tensor(shape, layout, values?)");
  // The route it names: the values in another shape, zero-copy.
  const s = api.channelStats(a.data, { shape: [4, 1], layout: "NC" });
  assert.equal(Array.from(s.mean), [2.5]);
  a.free();
  const b = api.tensor([1, 4], "NC", [5, 6, 7, 8]);
  assert.equal(Array.from(b.data), [5, 6, 7, 8]);
  b.free();
});

test("views: only inside a live allocation; a freed tensor's data view is refused", () => {
  const t = api.tensor(shape, layout, x0);
  const stale = t.data;
  t.free();
  const owner = api.tensor(shape, layout, randomArray(96, 9)); // likely reuses t's block
  const before = owner.toArray();
  const o = { shape, layout, runningMean: [0, 0, 0], runningVar: [1, 1, 1] };
  refuses(() => api.batchNormInfer(x0, { ...o, out: stale }), "out is the data view of a freed tensor");
  refuses(() => api.batchNormInfer(stale, o), "x is the data view of a freed tensor");
  assert.equal(owner.toArray(), before);
  // A view made by hand: fine inside one live allocation, refused across two or in free memory.
  const inside = new Float32Array(api.wasmMemory().buffer, owner.ptr, 96);
  api.batchNormInfer(x0, { ...o, out: inside });
  const free = api.tensor([1, 96], "NC"); const fp = free.ptr; free.free();
  refuses(() => api.batchNormInfer(x0, { ...o, out: new Float32Array(api.wasmMemory().buffer, fp, 96) }), "outside any live allocation");
  refuses(() => api.channelStats(new Float32Array(api.wasmMemory().buffer, 0, 96), { shape, layout }), "outside any live allocation");
  const a = api.tensor([1, 64], "NC"), b = api.tensor([1, 64], "NC");
  const lo = Math.min(a.ptr, b.ptr);
  if (Math.abs(a.ptr - b.ptr) === 256) refuses(() => api.channelStats(new Float32Array(api.wasmMemory().buffer, lo + 128, 96), { shape, layout }), "outside any live allocation");
  a.free(); b.free(); owner.free();
});

test("out: x itself (in place) is allowed, a partial overlap is refused and nothing is written", () => {
  const o = { layout, runningMean: [0.1, 0.2, 0.3], runningVar: [1, 2, 3] };
  const t = api.tensor([1, 200], "NC", randomArray(200, 4));
  const before = t.toArray();
  const F = () => new Float32Array(api.wasmMemory().buffer, t.ptr, 200);
  const xv = () => F().subarray(0, 96), shifted = () => F().subarray(4, 100);
  refuses(() => api.batchNormInfer(xv(), { ...o, shape, out: shifted() }), "out overlaps x in part", "16 bytes after");
  refuses(() => api.batchNormInfer(shifted(), { ...o, shape, out: xv() }), "out overlaps x in part", "16 bytes before");
  refuses(() => api.batchNormBackward(xv(), F().subarray(96, 192), { shape, layout, saveMean: [0, 0, 0], saveInvstd: [1, 1, 1], out: F().subarray(90, 186) }), "out overlaps");
  refuses(() => api.layerNorm(xv(), { shape, layout, out: shifted() }), "out overlaps x in part");
  assert.equal(t.toArray(), before);
  const expected = api.batchNormInfer(Float32Array.from(xv()), { ...o, shape });
  const y = api.batchNormInfer(xv(), { ...o, shape, out: xv() });
  close(y, expected, 0, 0, "in place");
  t.free();
});

test("out: a Tensor must carry the result's shape and layout (it is returned as the result); nothing is written", () => {
  const o = { runningMean: [0.1, 0.2, 0.3], runningVar: [1, 2, 3] };
  const x = api.tensor([1, 3, 4, 4], "NCHW", randomArray(48, 5));
  const wrongLayout = api.tensor([1, 4, 4, 3], "NHWC"), flat = api.tensor([16, 3], "NC");
  for (const out of [wrongLayout, flat]) {
    refuses(() => api.batchNormInfer(x, { ...o, out }), "out is a Tensor of shape", "the result has shape [1,3,4,4] (NCHW)");
    refuses(() => api.layerNorm(x, { out }), "out is a Tensor of shape");
    assert.ok(out.toArray().every((v) => v === 0), "nothing written");
  }
  const px = new Uint8Array(4 * 2 * 4);
  refuses(() => api.fromPixels(px, { width: 4, height: 2, layout: "NHWC", out: api.tensor([1, 3, 2, 4], "NCHW") }), "the result has shape [1,2,4,3] (NHWC)");
  const same = api.tensor([1, 3, 4, 4], "NCHW");
  assert.is(api.batchNormInfer(x, { ...o, out: same }), same);
  for (const t of [x, wrongLayout, flat, same]) t.free();
});

test("dy, skip and dsum Tensors must carry x's shape and layout (the kernels read them in x's layout); nothing is written", () => {
  const xs = randomArray(48, 5), x = api.tensor([1, 3, 4, 4], "NCHW", xs), ones = [1, 1, 1];
  const wrongLayout = api.tensor([1, 4, 4, 3], "NHWC", randomArray(48, 6)), flat = api.tensor([16, 3], "NC", randomArray(48, 6));
  const f = api.batchNormTrain(x, {}), l = api.layerNorm(x, {}), gr = api.groupNorm(x, { groups: 3 }), r = api.rmsNorm(x, {});
  const sk = api.skipLayerNorm(x, x, {});
  for (const t of [wrongLayout, flat]) {
    const before = t.toArray();
    refuses(() => api.batchNormBackward(x, t, { saveMean: f.saveMean, saveInvstd: f.saveInvstd }), "dy is a Tensor of shape", "x has shape [1,3,4,4] (NCHW)");
    refuses(() => api.batchNormBackwardEval(x, t, { runningMean: [0, 0, 0], runningVar: ones }), "dy is a Tensor of shape");
    refuses(() => api.layerNormBackward(x, t, { mean: l.mean, invstd: l.invstd }), "dy is a Tensor of shape");
    refuses(() => api.groupNormBackward(x, t, { groups: 3, mean: gr.mean, invstd: gr.invstd }), "dy is a Tensor of shape");
    refuses(() => api.instanceNormBackward(x, t, { mean: new Float32Array(3), invstd: new Float32Array(3).fill(1) }), "dy is a Tensor of shape");
    refuses(() => api.rmsNormBackward(x, t, { invRms: r.invRms }), "dy is a Tensor of shape");
    refuses(() => api.skipLayerNorm(x, t, {}), "skip is a Tensor of shape");
    refuses(() => api.skipLayerNormBackward(x, t, { mean: sk.mean, invstd: sk.invstd }), "dy is a Tensor of shape", "sum has shape");
    refuses(() => api.skipLayerNormBackward(x, x, { mean: sk.mean, invstd: sk.invstd, dsum: t }), "dsum is a Tensor of shape", "sum has shape");
    assert.equal(t.toArray(), before, "nothing written");
  }
  assert.equal(Array.from(x.toArray()), Array.from(xs), "x untouched");
  for (const t of [x, wrongLayout, flat]) t.free();
});

test("options are read once, before anything is allocated (a getter that allocates changes nothing)", () => {
  const expected = api.batchNormTrain(x0, { shape, layout, gamma: [1, 2, 3], runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1) });
  const xt = api.tensor(shape, layout, x0);
  let reads = 0; const junk = [];
  const opts = {
    get gamma() { reads++; for (let i = 0; i < 4; i++) junk.push(api.tensor([1, 4096], "NC", new Float32Array(4096).fill(7))); return [1, 2, 3]; },
    runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1),
  };
  const r = api.batchNormTrain(xt, opts);
  assert.is(reads, 1);
  close(r.y, expected.y.map((v) => v), 0, 0, "y with an allocating getter");
  close(opts.runningVar, Array.from(expected.saveInvstd, () => NaN).map((_, c) => refBnTrain(x0, shape, layout, { eps: 1e-5, momentum: 0.1, runningMean: [0, 0, 0], runningVar: [1, 1, 1] }).runningVar[c]), 1e-6, 1e-5, "running var");
  // A gamma whose elements are getters that allocate: each read once, before the kernels.
  const g = [1, 2, 3]; let er = 0;
  Object.defineProperty(g, 1, { get() { er++; junk.push(api.tensor([1, 4096], "NC")); return 2; } });
  const r2 = api.groupNorm(xt, { groups: 3, gamma: g });
  assert.is(er, 1);
  close(r2.y, api.groupNorm(x0, { shape, layout, groups: 3, gamma: [1, 2, 3] }).y, 0, 0, "groupNorm with element getters");
  for (const t of [xt, r.y, r2.y, ...junk]) t.free();
});

test("statistics over the whole finite float32 range (±1e19, a constant 1e38 channel, data at 1e-30)", () => {
  const cases = [
    ["±1e19", (i) => (i % 2 ? 1e19 : -1e19) * (1 + (i % 5) / 8)],
    ["constant 1e38", () => 1e38],
    ["3e38 and 1e38", (i) => (i % 3 ? 3e38 : 1e38)],
    ["data at 1e-30", (i) => 1e-30 * (1 + ((i * 7) % 11) / 4)],
    ["±1e-30", (i) => (i % 2 ? 1e-30 : -2e-30) * (1 + (i % 3))],
    ["subnormal", (i) => 1e-40 * (i % 4)],
  ];
  for (const [name, f] of cases) {
    for (const [sh, lay] of [[[4, 3, 2, 700], "NCHW"], [[2, 3, 3000], "NCL"], [[64, 3], "NC"], [[2, 40, 40, 3], "NHWC"], [[30, 3, 5], "NCL"], [[1, 5000, 3], "NLC"]]) {
      const n = sh.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => f(i));
      const ref = refStats(x, sh, lay), got = api.channelStats(x, { shape: sh, layout: lay });
      const big = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      close(got.mean, ref.mean, 1e-6 * big, 1e-6, `${name} mean`, sh, lay);
      close(got.var, ref.var, 1e-6 * big * big, 1e-4, `${name} var`, sh, lay);
    }
  }
  // Batch norm on ±1e19 data: finite, normalized output (it was y = 0 with var = Infinity).
  const x = Float32Array.from({ length: 96 }, (_, i) => (i % 2 ? 1e19 : -1e19) * (1 + (i % 7) / 8));
  const r = api.batchNormTrain(x, { shape, layout });
  close(r.y, refBnTrain(x, shape, layout, { eps: 1e-5, momentum: 0.1, runningMean: [0, 0, 0], runningVar: [1, 1, 1] }).y, 1e-5, 1e-4, "bn ±1e19");
});

test("scratch stays bounded: a call that needs a big block gives it back", () => {
  const base = api.memoryStats();
  const x = randomArray(2 * 99999, 5);
  api.channelStats(x, { shape: [2, 99999], layout: "NC" });
  const after = api.memoryStats();
  assert.ok(after.scratchBytes <= 1 << 20, `scratch ${after.scratchBytes}`);
  assert.is(after.allocatedBytes, base.allocatedBytes);
});

test("hostile values for every option of every op: a plain Error or a result, never TypeError/RangeError", () => {
  const hostile = [null, "x", "toString", NaN, -1, 1e300, {}, [], [NaN, NaN, NaN], new Array(3), Symbol("s"), 10n, () => 0,
    new Proxy([1, 1, 1], {}), new Proxy(new Float32Array(3), {}), Object.create(Float32Array.prototype), new Float64Array(9), "NCHW"];
  const base = { shape, layout, runningMean: [0, 0, 0], runningVar: [1, 1, 1], saveMean: [0, 0, 0], saveInvstd: [1, 1, 1], mean: new Float32Array(6), invstd: new Float32Array(6).fill(1), groups: 3 };
  const ops = {
    channelStats: (o) => api.channelStats(x0, o), batchNormTrain: (o) => api.batchNormTrain(x0, o), batchNormInfer: (o) => api.batchNormInfer(x0, o),
    batchNormBackward: (o) => api.batchNormBackward(x0, x0, o), batchNormBackwardEval: (o) => api.batchNormBackwardEval(x0, x0, o),
    backwardPartials: (o) => api.backwardPartials(x0, x0, o), instanceNorm: (o) => api.instanceNorm(x0, o), groupNorm: (o) => api.groupNorm(x0, o),
    layerNorm: (o) => api.layerNorm(x0, o), groupNormBackward: (o) => api.groupNormBackward(x0, x0, o),
  };
  const keys = ["shape", "layout", "gamma", "beta", "eps", "momentum", "convention", "numBatchesTracked", "out", "globalStats", "globalSums", "count", "runningMean", "runningVar", "saveMean", "saveInvstd", "groups", "mean", "invstd"];
  let threw = 0;
  for (const [name, op] of Object.entries(ops)) {
    for (const k of keys) {
      for (const v of hostile) {
        try { op({ ...base, [k]: v }); } catch (e) {
          threw++;
          if (e.constructor !== Error) throw new Error(`${name} with ${k} = hostile[${hostile.indexOf(v)}]: ${e.constructor.name}: ${e.message}`);
        }
      }
    }
    for (const v of hostile) {
      try { op.length; ops[name] === op && (name.includes("ackward") ? api[name](v, x0, base) : api[name](v, base)); } catch (e) {
        threw++;
        if (e.constructor !== Error) throw new Error(`${name} with x = hostile[${hostile.indexOf(v)}]: ${e.constructor.name}: ${e.message}`);
      }
    }
  }
  assert.ok(threw > 500);
});

test("layer objects: hostile constructor options, forward options and statistics give plain Errors", () => {
  const hostile = [null, "x", "toString", NaN, -1, {}, [], Symbol("s"), 10n, new Proxy([1, 1, 1], {}), new Proxy(new Float32Array(3), {}), Object.create(Float32Array.prototype)];
  const make = [(v) => new api.BatchNorm(3, { momentum: v }), (v) => new api.BatchNorm(3, { convention: v }), (v) => new api.BatchNorm(v),
    (v) => new api.GroupNorm(3, { groups: v }), (v) => new api.LayerNorm(3, { layout: v }), (v) => new api.InstanceNorm(3, { eps: v }),
    (v) => new api.BatchNorm(3, v), (v) => new api.BatchNorm(3).forward(x0, v), (v) => new api.BatchNorm(3).forward(x0, { shape, layout, out: v }),
    (v) => new api.BatchNorm(3).setStats(v, [1, 1, 1]), (v) => new api.BatchNorm(3).setStats([0, 0, 0], v), (v) => new api.LayerNorm(3).forward(v)];
  let threw = 0;
  for (const f of make) for (const v of hostile) {
    try { f(v); } catch (e) { threw++; if (e.constructor !== Error) throw new Error(`${f} with hostile[${hostile.indexOf(v)}]: ${e.constructor.name}: ${e.message}`); }
  }
  assert.ok(threw > 100);
  // The other entry points: statistics accumulators, standardizer, folding, weights, tensors.
  const more = [(v) => new api.Standardizer(3, v), (v) => new api.Standardizer(v), (v) => api.foldBatchNorm(v, { runningMean: [0], runningVar: [1] }),
    (v) => api.foldBatchNorm(new Float32Array(4), v), (v) => api.importWeights(new api.BatchNorm(3), "pytorch", v), (v) => api.importWeights(new api.BatchNorm(3), v, {}),
    (v) => api.exportWeights(new api.BatchNorm(3), v), (v) => new api.StatsAccumulator(3).update(v), (v) => api.tensor(v, "NC"), (v) => api.tensor([1, 3], v)];
  for (const f of more) for (const v of hostile) {
    try { f(v); } catch (e) { if (e.constructor !== Error) throw new Error(`${f} with hostile[${hostile.indexOf(v)}]: ${e.constructor.name}: ${e.message}`); }
  }
  // setStats reads each value once: a Proxy that turns NaN on the second read changes nothing.
  const bn = new api.BatchNorm(3); let reads = 0;
  const sneaky = new Proxy([1, 1, 1], { get: (t, k) => (k === "1" ? (reads++ ? NaN : 1) : t[k]) });
  bn.setStats([0, 0, 0], sneaky);
  assert.equal(Array.from(bn.runningVar), [1, 1, 1]);
});

test.run();
