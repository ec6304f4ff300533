// Result arrays of batch norm the caller gives: batchNormTrain's saveMeanOut, saveInvstdOut,
// varOut and the backwards' dgammaOut, dbetaOut receive exactly the values a call without them
// returns (channels-first and channels-last, with and without running statistics, synchronized
// sums) and are returned themselves; bad ones are refused naming them, nothing written (running
// statistics included); the BatchNorm layer steps allocate none of them and agree with the
// functional calls.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { throwsUntouched } from "./helpers.mjs";

await api.init();

const same = (a, b, what) => assert.equal(Array.from(a), Array.from(b), what);

test("given batch-norm result arrays receive the values a call without them returns, and are returned", () => {
  for (const [layout, shape] of [["NCHW", [2, 5, 3, 3]], ["NHWC", [2, 3, 3, 5]], ["NC", [6, 37]], ["NCHW", [1, 16, 1, 2]]]) {
    const C = layout === "NHWC" || layout === "NC" ? shape.at(-1) : shape[1], n = shape.reduce((a, b) => a * b);
    const x = randomArray(n, C, { offset: 1 }), dy = randomArray(n, C + 1), gamma = randomArray(C, 2, { offset: 1 }), beta = randomArray(C, 3);
    const o = { shape, layout, gamma, beta };
    const run = () => ({ runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
    const r0 = run(), fresh = api.batchNormTrain(x, { ...o, ...r0 });
    const r1 = run(), outs = { saveMeanOut: new Float32Array(C).fill(NaN), saveInvstdOut: new Float32Array(C).fill(NaN), varOut: new Float32Array(C).fill(NaN) };
    const got = api.batchNormTrain(x, { ...o, ...r1, ...outs });
    assert.ok(got.saveMean === outs.saveMeanOut && got.saveInvstd === outs.saveInvstdOut && got.var === outs.varOut, `${layout}: the given arrays returned`);
    for (const k of ["saveMean", "saveInvstd", "var", "y"]) same(got[k], fresh[k], `${layout} ${k}`);
    same(r1.runningMean, r0.runningMean, `${layout} runningMean`); same(r1.runningVar, r0.runningVar, `${layout} runningVar`);
    // One of them given.
    const one = api.batchNormTrain(x, { ...o, varOut: new Float32Array(C) });
    for (const k of ["saveMean", "saveInvstd", "var"]) same(one[k], fresh[k], `${layout} ${k} with varOut only`);
    // Backward, local and synchronized sums; eval backward.
    const b = { ...o, saveMean: fresh.saveMean, saveInvstd: fresh.saveInvstd };
    const g = { dgammaOut: new Float32Array(C).fill(NaN), dbetaOut: new Float32Array(C).fill(NaN) };
    const bf = api.batchNormBackward(x, dy, b), bg = api.batchNormBackward(x, dy, { ...b, ...g });
    assert.ok(bg.dgamma === g.dgammaOut && bg.dbeta === g.dbetaOut, `${layout}: backward returns the given arrays`);
    for (const k of ["dgamma", "dbeta", "dx"]) same(bg[k], bf[k], `${layout} backward ${k}`);
    const sums = api.backwardPartials(x, dy, { shape, layout, saveMean: fresh.saveMean }), sync = { ...b, globalSums: sums, count: n / C };
    const sf = api.batchNormBackward(x, dy, sync), sg = api.batchNormBackward(x, dy, { ...sync, dbetaOut: new Float32Array(C) });
    for (const k of ["dgamma", "dbeta", "dx"]) same(sg[k], sf[k], `${layout} synchronized backward ${k}`);
    const e = { ...o, runningMean: r0.runningMean, runningVar: r0.runningVar }, ge = { dgammaOut: new Float32Array(C), dbetaOut: new Float32Array(C) };
    const ef = api.batchNormBackwardEval(x, dy, e), eg = api.batchNormBackwardEval(x, dy, { ...e, ...ge });
    assert.ok(eg.dgamma === ge.dgammaOut && eg.dbeta === ge.dbetaOut);
    for (const k of ["dgamma", "dbeta", "dx"]) same(eg[k], ef[k], `${layout} eval backward ${k}`);
  }
});

test("bad batch-norm result arrays are refused naming them, nothing written", () => {
  const C = 4, shape = [3, C], layout = "NC", x = randomArray(12, 5), dy = randomArray(12, 6), wasm = api.tensor([1, C], "NC");
  const train = (a, o) => api.batchNormTrain(x, { shape, layout, runningMean: a.rm, runningVar: a.rv, ...o });
  const make = () => ({ rm: new Float32Array(C).fill(0.5), rv: new Float32Array(C).fill(2), keep: new Float32Array(C).fill(9) });
  throwsUntouched(make, (a) => train(a, { saveMeanOut: a.keep, varOut: new Float64Array(C) }), `varOut must be a Float32Array of ${C} values`);
  throwsUntouched(make, (a) => train(a, { saveMeanOut: a.keep, saveInvstdOut: new Float32Array(C + 1) }), `saveInvstdOut has ${C + 1} values, the tensor has ${C} channels`);
  throwsUntouched(make, (a) => train(a, { saveMeanOut: a.keep, saveInvstdOut: a.keep }), "saveInvstdOut is the same array as another statistic output");
  throwsUntouched(make, (a) => train(a, { saveMeanOut: a.rm }), "saveMeanOut is the same array as an input or out");
  throwsUntouched(make, (a) => train(a, { varOut: wasm.data }), "varOut is a view of wasm memory");
  const f = api.batchNormTrain(x, { shape, layout });
  const back = (a, o) => api.batchNormBackward(x, dy, { shape, layout, saveMean: f.saveMean, saveInvstd: f.saveInvstd, ...o });
  throwsUntouched(() => ({ keep: new Float32Array(C).fill(9) }), (a) => back(a, { dgammaOut: a.keep, dbetaOut: a.keep }), "dbetaOut is the same array as another gradient output");
  throwsUntouched(() => ({ keep: new Float32Array(C).fill(9) }), (a) => back(a, { dgammaOut: a.keep, dbetaOut: f.saveMean }), "dbetaOut is the same array as an input or out");
  wasm.free();
});

test("BatchNorm layer steps: the functional calls' results, no result arrays allocated per step", () => {
  for (const [layout, shape] of [["NCHW", [2, 6, 3, 3]], ["NC", [5, 33]]]) {
    const C = layout === "NC" ? shape[1] : shape[1], n = shape.reduce((a, b) => a * b);
    const bn = new api.BatchNorm(C, { layout }), rm = new Float32Array(C), rv = new Float32Array(C).fill(1);
    let seen = null;
    for (let step = 0; step < 3; step++) {
      const x = randomArray(n, 10 + step, { offset: step }), dy = randomArray(n, 20 + step);
      const y = bn.forward(x, { shape }), dx = bn.backward(dy);
      const f = api.batchNormTrain(x, { shape, layout, gamma: bn.gamma, beta: bn.beta, runningMean: rm, runningVar: rv, numBatchesTracked: step });
      const b = api.batchNormBackward(x, dy, { shape, layout, gamma: bn.gamma, saveMean: f.saveMean, saveInvstd: f.saveInvstd });
      same(y, f.y, `${layout} step ${step} y`); same(dx, b.dx, `${layout} step ${step} dx`);
      same(bn.dgamma, b.dgamma, `${layout} step ${step} dgamma`); same(bn.dbeta, b.dbeta, `${layout} step ${step} dbeta`);
      same(bn.runningMean, rm, `${layout} step ${step} runningMean`);
      const dg = bn.dgamma;
      if (seen) assert.ok(seen === dg, "dgamma is the layer's own array every step");
      seen = dg;
    }
    // Eval after training, and backward in eval mode.
    bn.eval();
    const x = randomArray(n, 30), dy = randomArray(n, 31), y = bn.forward(x, { shape }), dx = bn.backward(dy);
    const { mean, var: v } = bn.stats();
    same(y, api.batchNormInfer(x, { shape, layout, gamma: bn.gamma, beta: bn.beta, runningMean: mean, runningVar: v }), `${layout} eval y`);
    same(dx, api.batchNormBackwardEval(x, dy, { shape, layout, gamma: bn.gamma, runningMean: mean, runningVar: v }).dx, `${layout} eval dx`);
  }
});

test("BatchNorm layer: a failing eval forward leaves the pending backward's statistics", () => {
  const C = 2, shape = [3, C], x = randomArray(6, 1), dy = randomArray(6, 2);
  for (const failing of ["out", "runningVar"]) {
    const bn = new api.BatchNorm(C).eval(), ref = new api.BatchNorm(C).eval();
    bn.forward(x); ref.forward(x);
    bn.setStats([10, 10], [100, 100]);
    if (failing === "out") assert.throws(() => bn.forward(x, { out: new Float32Array(3) }));
    else { bn.runningVar[0] = -1; assert.throws(() => bn.forward(x)); bn.runningVar[0] = 100; }
    const dx = bn.backward(dy), want = ref.backward(dy);
    same(dx, want, `${failing}: dx from the first forward's statistics`);
    same(bn.dgamma, ref.dgamma, `${failing}: dgamma`);
  }
});

test("worker pool: the …Out arrays are taken when the op is split and in the synchronized ops", async () => {
  const p = await api.createPool({ workers: 2, minSplit: 0 });
  try {
    const C = 4, shape = [64, C], layout = "NC", x = randomArray(64 * C, 3), dy = randomArray(64 * C, 4);
    const local = api.batchNormTrain(x, { shape, layout });
    const outs = { saveMeanOut: new Float32Array(C).fill(NaN), saveInvstdOut: new Float32Array(C).fill(NaN), varOut: new Float32Array(C).fill(NaN) };
    const r = await p.batchNormTrain(x, { shape, layout, ...outs });
    assert.ok(r.saveMean === outs.saveMeanOut && r.saveInvstd === outs.saveInvstdOut && r.var === outs.varOut, "split train: the given arrays");
    for (const k of ["saveMean", "saveInvstd", "var"]) for (let c = 0; c < C; c++) assert.ok(Math.abs(r[k][c] - local[k][c]) <= 1e-6 * Math.abs(local[k][c]) + 1e-7, `split train ${k}[${c}]`);
    const g = { dgammaOut: new Float32Array(C).fill(NaN), dbetaOut: new Float32Array(C).fill(NaN) };
    const lb = api.batchNormBackward(x, dy, { shape, layout, saveMean: local.saveMean, saveInvstd: local.saveInvstd });
    const shards = [{ x: x.subarray(0, 32 * C), dy: dy.subarray(0, 32 * C), shape: [32, C] }, { x: x.subarray(32 * C), dy: dy.subarray(32 * C), shape: [32, C] }];
    const sb = await p.syncBatchNormBackward(shards, { layout, saveMean: local.saveMean, saveInvstd: local.saveInvstd, ...g });
    assert.ok(sb.dgamma === g.dgammaOut && sb.dbeta === g.dbetaOut, "sync backward: the given arrays");
    for (const k of ["dgamma", "dbeta"]) for (let c = 0; c < C; c++) assert.ok(Math.abs(sb[k][c] - lb[k][c]) <= 1e-5 * (1 + Math.abs(lb[k][c])), `sync backward ${k}[${c}]`);
    const so = { saveMeanOut: new Float32Array(C) }, st = await p.syncBatchNormTrain(shards.map(({ x, shape }) => ({ x, shape })), { layout, ...so });
    assert.ok(st.saveMean === so.saveMeanOut, "sync train: the given array");
    // Refused before any phase, naming it.
    await p.batchNormTrain(x, { shape, layout, saveMeanOut: new Float32Array(C + 1) }).then(() => assert.unreachable("accepted"), (e) => assert.match(e.message, `saveMeanOut has ${C + 1} values`));
  } finally { await p.close(); }
});

test.run();
