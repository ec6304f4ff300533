// Small result arrays the module made (a forward's statistics) passed back to a backward: taken as
// plain arrays without a read of their buffer (js/core/typed.ts madeKind), and skipped by the
// gradient outputs' memory check only when they cannot share an output's memory (made after every
// output's buffer was known: bufferUnless). Results must be those of copies of the same arrays,
// and an output that does share a made array's memory must still be refused with nothing written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";

await api.init();

const same = (a, b, what) => {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
};
const copy = (v) => (v instanceof Float64Array ? Float64Array.from(v) : Float32Array.from(v));
const dataOf = (t) => (t instanceof Float32Array ? t : t.toArray());

test("batch norm: a training forward's saveMean / saveInvstd passed to the backward, step after step, give the bits of copies of them", () => {
  for (const [shape, layout] of [[[2, 16, 3, 3], "NCHW"], [[4, 5], "NC"], [[2, 3, 3, 7], "NHWC"]]) {
    const n = shape.reduce((a, b) => a * b, 1), C = layout === "NHWC" ? shape[3] : shape[1];
    const gamma = randomArray(C, 3, { offset: 1 }), beta = randomArray(C, 4);
    for (let step = 0; step < 20; step++) {
      const x = randomArray(n, 10 + step), dy = randomArray(n, 40 + step);
      const f = api.batchNormTrain(x, { shape, layout, gamma, beta });
      const a = api.batchNormBackward(x, dy, { shape, layout, gamma, saveMean: f.saveMean, saveInvstd: f.saveInvstd });
      const b = api.batchNormBackward(x, dy, { shape, layout, gamma, saveMean: copy(f.saveMean), saveInvstd: copy(f.saveInvstd) });
      same(dataOf(a.dx), dataOf(b.dx), `dx ${layout} step ${step}`);
      same(a.dgamma, b.dgamma, "dgamma");
      same(a.dbeta, b.dbeta, "dbeta");
    }
  }
});

test("row and group backwards with gradient outputs: a forward's mean / invstd / invRms passed back give the bits of copies, the outputs written", () => {
  const C = 12, shape = [3, C], n = 3 * C, opts = { shape, layout: "NC" };
  const gamma = randomArray(C, 5, { offset: 1 }), beta = randomArray(C, 6);
  const dgammaOut = new Float32Array(C), dbetaOut = new Float32Array(C);
  for (let step = 0; step < 20; step++) {
    const x = randomArray(n, 70 + step), dy = randomArray(n, 90 + step);
    const f = api.layerNorm(x, { ...opts, gamma, beta });
    const b = api.layerNormBackward(x, dy, { ...opts, gamma, beta, mean: copy(f.mean), invstd: copy(f.invstd) });
    const a = api.layerNormBackward(x, dy, { ...opts, gamma, beta, mean: f.mean, invstd: f.invstd, dgammaOut, dbetaOut });
    assert.ok(a.dgamma === dgammaOut && a.dbeta === dbetaOut);
    same(dataOf(a.dx), dataOf(b.dx), `layer norm dx step ${step}`);
    same(dgammaOut, b.dgamma, "dgamma");
    same(dbetaOut, b.dbeta, "dbeta");
    const r = api.rmsNorm(x, { ...opts, gamma });
    const rb = api.rmsNormBackward(x, dy, { ...opts, gamma, invRms: copy(r.invRms) });
    const ra = api.rmsNormBackward(x, dy, { ...opts, gamma, invRms: r.invRms, dgammaOut });
    same(dataOf(ra.dx), dataOf(rb.dx), `rms dx step ${step}`);
    same(dgammaOut, rb.dgamma, "rms dgamma");
  }
  const gshape = [2, 4, 3], gopts = { shape: gshape, layout: "NCL", groups: 2 }, gx = randomArray(24, 7), gdy = randomArray(24, 8);
  const gf = api.groupNorm(gx, gopts);
  const ga = api.groupNormBackward(gx, gdy, { ...gopts, mean: gf.mean, invstd: gf.invstd });
  const gb = api.groupNormBackward(gx, gdy, { ...gopts, mean: copy(gf.mean), invstd: copy(gf.invstd) });
  same(dataOf(ga.dx), dataOf(gb.dx), "group norm dx");
  same(ga.dgamma, gb.dgamma, "group norm dgamma");
});

test("an output sharing a made array's memory is still refused, nothing written (a view of its buffer; the made array as the output and a view of it as operand)", () => {
  const C = 4, opts = { shape: [C, C], layout: "NC" }, x = randomArray(C * C, 1), dy = randomArray(C * C, 2);
  const f = api.layerNorm(x, opts); // mean, invstd: C values each, made by the module
  // (Each array in turn: one of them was made last, at the epoch the alias's buffer is then known at.)
  for (const which of ["mean", "invstd"]) {
    const alias = new Float32Array(f[which].buffer); // the caller reads the buffer: the same memory as f[which]
    const before = Float32Array.from(f[which]);
    assert.throws(() => api.layerNormBackward(x, dy, { ...opts, mean: f.mean, invstd: f.invstd, dgammaOut: alias }), /dgammaOut is the same array as an input or out, or overlaps one/);
    same(f[which], before, `${which} unchanged`);
  }
  // A made array as the output, an operand viewing its memory.
  const g = api.layerNorm(x, opts), mean = new Float32Array(g.invstd.buffer), keep = Float32Array.from(g.invstd);
  mean.set(g.mean);
  assert.throws(() => api.layerNormBackward(x, dy, { ...opts, mean, invstd: f.invstd, dbetaOut: g.invstd }), /dbetaOut is the same array as an input or out, or overlaps one/);
  same(g.invstd, Float32Array.from(g.mean), "dbetaOut (= mean) unchanged");
  assert.ok(keep.length === C);
  // A made array of an earlier call as an output, the forward's new statistics as operands: accepted.
  const h = api.layerNorm(x, opts), r = api.layerNormBackward(x, dy, { ...opts, mean: h.mean, invstd: h.invstd, dbetaOut: f.invstd });
  assert.ok(r.dbeta === f.invstd);
});

test("a made array seen only in the made ring (out: never classified as a statistic) that shares an output's memory is refused, nothing written", () => {
  // out is the latest forward's 16-value mean (made at the epoch dgammaOut's buffer is then read
  // at): the check must read its buffer, not skip it as newer than every output.
  const R = 16, opts = { shape: [R, 1], layout: "NC" }, x = randomArray(R, 11), dy = randomArray(R, 12);
  const f = api.layerNorm(x, opts), g = api.layerNorm(x, opts);
  const alias = new Float32Array(g.mean.buffer, 0, 1), before = Float32Array.from(g.mean);
  assert.throws(() => api.layerNormBackward(x, dy, { ...opts, mean: f.mean, invstd: f.invstd, out: g.mean, dgammaOut: alias }), /dgammaOut is the same array as an input or out, or overlaps one/);
  same(g.mean, before, "out (and dgammaOut over it) unchanged");
});

test("made Float64Arrays (channelStats) are plain per-channel arrays: accepted as statistics, updated in place as running statistics", () => {
  const C = 4, shape = [6, C], x = randomArray(6 * C, 3);
  const s = api.channelStats(x, { shape, layout: "NC" });
  const y = api.batchNormInfer(x, { shape, layout: "NC", runningMean: s.mean, runningVar: s.var });
  const z = api.batchNormInfer(x, { shape, layout: "NC", runningMean: copy(s.mean), runningVar: copy(s.var) });
  same(y, z, "inference with made statistics");
  const rm = s.mean, rv = s.var, rm2 = copy(rm), rv2 = copy(rv);
  api.batchNormTrain(x, { shape, layout: "NC", runningMean: rm, runningVar: rv });
  api.batchNormTrain(x, { shape, layout: "NC", runningMean: rm2, runningVar: rv2 });
  same(rm, rm2, "running mean");
  same(rv, rv2, "running var");
});

test.run();
