// Batch norm's per-channel arithmetic in wasm (assembly/bn_params.ts, js/ops/bn-vecs.ts): wide C
// and short rows (pseudo-channels: parameters written repeated) against the float64 reference,
// the f32 results with the roundings of the former JS loops, and the element checks of the
// per-channel vectors (first bad element named, nothing written) past the loop-copy size and the
// check kernel's lane pairs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refBnTrain, refBnInfer, refBnBackward, refStats, randomArray } from "./reference.mjs";
import { close, throwsUntouched } from "./helpers.mjs";

await api.init();

// Short rows on both sides of the row count from which statistics take the pseudo-channels
// (N ≥ 3·S + 8, js/ops/dispatch.ts): 16 | 17 rows at S = 3, 52 | 53 at S = 15.
const SHAPES = [[1, 1024, 1, 2], [2, 33, 1, 3], [1, 17, 1, 15], [3, 65, 1, 16], [2, 1, 1, 2], [4, 1031, 1, 1], [1, 5, 1, 1031],
  [16, 7, 1, 3], [17, 7, 1, 3], [52, 5, 1, 15], [53, 5, 1, 15]];

/** gamma, beta and running statistics of C channels, deterministic. */
function params(C, seed) {
  const r = randomArray(4 * C, seed);
  return {
    gamma: Float32Array.from(r.subarray(0, C), (v) => 1 + 0.5 * v), beta: r.slice(C, 2 * C),
    runningMean: Float32Array.from(r.subarray(2 * C, 3 * C), (v) => 3 * v), runningVar: Float32Array.from(r.subarray(3 * C), (v) => 0.5 + v * v),
  };
}

test("training forward, inference and backward on wide C and short rows equal the reference", () => {
  for (const shape of SHAPES) {
    const n = shape.reduce((a, b) => a * b), C = shape[1], x = randomArray(n, C + 1, { offset: 2 }), dy = randomArray(n, C + 2);
    const p = params(C, C + 3), eps = 1e-5;
    const rm = p.runningMean.slice(), rv = p.runningVar.slice();
    const tr = api.batchNormTrain(x, { shape, layout: "NCHW", gamma: p.gamma, beta: p.beta, runningMean: rm, runningVar: rv, momentum: 0.1 });
    const ref = refBnTrain(x, shape, "NCHW", { ...p, eps, momentum: 0.1 });
    close(tr.y, ref.y, 2e-5, 2e-5, "train y", shape, "NCHW");
    close(tr.saveMean, ref.saveMean, 1e-6, 1e-6, "saveMean");
    close(tr.saveInvstd, ref.saveInvstd, 1e-6, 2e-6, "saveInvstd");
    close(tr.var, ref.var, 1e-6, 2e-6, "var");
    close(rm, ref.runningMean, 1e-6, 1e-6, "runningMean");
    close(rv, ref.runningVar, 1e-6, 2e-6, "runningVar");
    const y = api.batchNormInfer(x, { shape, layout: "NCHW", ...p, eps });
    close(y, refBnInfer(x, shape, "NCHW", { ...p, eps }), 2e-5, 2e-5, "infer y", shape, "NCHW");
    const b = api.batchNormBackward(x, dy, { shape, layout: "NCHW", gamma: p.gamma, saveMean: tr.saveMean, saveInvstd: tr.saveInvstd });
    const rb = refBnBackward(x, dy, shape, "NCHW", { gamma: p.gamma, saveMean: tr.saveMean, saveInvstd: tr.saveInvstd });
    close(b.dx, rb.dx, 5e-5, 5e-5, "dx", shape, "NCHW");
    close(b.dgamma, rb.dgamma, 5e-5, 5e-5, "dgamma");
    close(b.dbeta, rb.dbeta, 5e-5, 5e-5, "dbeta");
    const st = api.channelStats(x, { shape, layout: "NCHW" }), rs = refStats(x, shape, "NCHW");
    close(st.mean, rs.mean, 1e-6, 1e-6, "stats mean");
    close(st.var, rs.var, 1e-6, 2e-6, "stats var");
  }
});

test("f32 results keep the f64 roundings: saveInvstd = f32(1/sqrt(M2/n + eps)), var = f32(M2/n), saveMean = f32(mean)", () => {
  const shape = [3, 77, 1, 5], n = 3 * 77 * 5, x = randomArray(n, 9, { offset: 1e4 }), eps = 1e-3;
  const t = api.partialStats(x, { shape, layout: "NCHW" });
  const r = api.batchNormTrain(x, { shape, layout: "NCHW", eps, convention: "keras" });
  for (let c = 0; c < 77; c++) {
    const cnt = t[3 * c], v = t[3 * c + 2] / cnt;
    assert.is(r.saveMean[c], Math.fround(t[3 * c + 1]), `saveMean[${c}]`);
    assert.is(r.var[c], Math.fround(v), `var[${c}]`);
    assert.is(r.saveInvstd[c], Math.fround(1 / Math.sqrt(v + eps)), `saveInvstd[${c}]`);
  }
  const s = api.channelStats(x, { shape, layout: "NCHW" }), f = api.finishStats(t);
  assert.equal(Array.from(s.mean), Array.from(f.mean));
  assert.equal(Array.from(s.var), Array.from(f.var));
  assert.equal(Array.from(s.unbiasedVar), Array.from(f.unbiasedVar));
});

test("a bad element of a wide per-channel vector is named, and nothing is written", () => {
  const C = 1031, shape = [2, C, 1, 2], n = 4 * C;
  const cases = [
    ["gamma", 1030, NaN, "gamma[1030] is NaN"],
    ["beta", 517, Infinity, "beta[517] is Infinity"],
    ["runningMean", 2, -Infinity, "runningMean[2] is -Infinity"],
    ["runningVar", 1029, -0.5, "running_var[1029] is negative (-0.5)"],
  ];
  for (const [name, at, bad, msg] of cases) {
    const make = () => { const p = params(C, 4); p[name][at] = bad; return { x: randomArray(n, 5), out: new Float32Array(n), ...p }; };
    throwsUntouched(make, (a) => api.batchNormTrain(a.x, { shape, layout: "NCHW", gamma: a.gamma, beta: a.beta, runningMean: a.runningMean, runningVar: a.runningVar, out: a.out }), msg);
    throwsUntouched(make, (a) => api.batchNormInfer(a.x, { shape, layout: "NCHW", gamma: a.gamma, beta: a.beta, runningMean: a.runningMean, runningVar: a.runningVar, out: a.out }), msg);
  }
  // Two bad vectors: the one the option check reaches first is named (running statistics before gamma).
  const two = () => { const p = params(C, 6); p.gamma[700] = NaN; p.runningVar[3] = -1; return { x: randomArray(n, 7), ...p }; };
  throwsUntouched(two, (a) => api.batchNormInfer(a.x, { shape, layout: "NCHW", gamma: a.gamma, runningMean: a.runningMean, runningVar: a.runningVar }), "running_var[3] is negative");
  const bw = () => { const p = params(C, 8); p.gamma[1000] = NaN; return { x: randomArray(n, 9), dy: randomArray(n, 10), out: new Float32Array(n), gamma: p.gamma, m: new Float32Array(C), s: new Float32Array(C).fill(1) }; };
  throwsUntouched(bw, (a) => api.batchNormBackward(a.x, a.dy, { shape, layout: "NCHW", gamma: a.gamma, saveMean: a.m, saveInvstd: a.s, out: a.out }), "gamma[1000] is NaN");
});

test.run();
