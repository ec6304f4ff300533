// Wide channel counts: the channels-last statistics' per-channel work in f64x2 channel pairs
// (assembly/bn_stats_lanes.ts: shifts, fold, cancellation check, pending sums, Chan merge; an odd
// last channel and patterns of odd C in scalar), batch norm's per-channel kernels in pairs
// (assembly/bn_params.ts, rep = 1) and the vector parameter interleave (4 | C). Against the
// float64 reference, and bit for bit where the results are one f64 → f32 rounding of the
// statistics (as the scalar code rounded them).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refStats, refBnTrain, refBnBackward, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

// C: even and odd, rows as the pattern (L = C: C ≥ 65 odd, 16 | C) and patterns of repeats
// (C = 24: L = 48; C = 7: L = 112, odd: all scalar). R: around the 8-row sweeps and N = 1.
const CS = [2, 7, 24, 65, 128, 130, 255, 768, 1025];
const RS = [1, 2, 3, 8, 9, 17];

/**
 * x of R rows of C channels: odd channels at the offset (around shift 0 their block fails the
 * cancellation check and is redone), the last one constant (0 without an offset: sums 0 pass the
 * check; else 3.25, which fails it).
 */
function data(R, C, seed, offset) {
  const x = randomArray(R * C, seed, { scale: 1 + (seed % 3) });
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      if (c % 2) x[r * C + c] += offset;
      if (c === C - 1) x[r * C + c] = offset ? 3.25 : 0;
    }
  }
  return x;
}

test("channels-last statistics of wide C (pairs, odd last channel, redone blocks) equal the reference", () => {
  for (const C of CS) {
    for (const R of RS) {
      for (const offset of [0, 1e4]) {
        const x = data(R, C, C + R, offset), shape = [R, C];
        const s = api.channelStats(x, { shape, layout: "NC" }), e = refStats(x, shape, "NC");
        close(s.mean, e.mean, 1e-6, 1e-6, `mean C=${C} R=${R} offset ${offset}`);
        close(s.var, e.var, 1e-6, 1e-5, `var C=${C} R=${R} offset ${offset}`);
      }
    }
  }
});

test("a block failing the cancellation check is redone, later blocks merged in pairs again", () => {
  // Running means 0 for every channel, then data far from zero in the second call: the first
  // block around shift 0 fails for the far channels and is redone around its own means.
  for (const C of [128, 255, 1024]) {
    const acc = new api.StatsAccumulator(C), R = 300;
    const near = randomArray(R * C, 3), far = data(R, C, 4, 5e3);
    acc.update(near, { shape: [R, C], layout: "NC" }).update(far, { shape: [R, C], layout: "NC" });
    const all = new Float32Array(2 * R * C);
    all.set(near); all.set(far, R * C);
    const e = refStats(all, [2 * R, C], "NC"), r = acc.result();
    close(r.mean, e.mean, 1e-6, 1e-6, `mean C=${C}`);
    close(r.var, e.var, 1e-6, 1e-5, `var C=${C}`);
  }
});

test("training forward and backward of wide C (NHWC, NCHW): reference, and f32 results one rounding of the statistics", () => {
  for (const [C, S] of [[128, 9], [130, 17], [255, 3], [768, 5], [1024, 2]]) {
    for (const layout of ["NHWC", "NCHW"]) {
      const shape = layout === "NHWC" ? [1, 1, S, C] : [1, C, 1, S], n = C * S;
      const x = randomArray(n, C, { offset: 2 }), dy = randomArray(n, C + 1);
      const gamma = randomArray(C, 5, { offset: 1, scale: 0.3 }), beta = randomArray(C, 6);
      const r = api.batchNormTrain(x, { shape, layout, gamma, beta });
      const e = refBnTrain(x, shape, layout, { gamma, beta, eps: 1e-5, momentum: 0.1, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
      close(r.y, e.y, 2e-5, 2e-5, "train y", shape, layout);
      const t = api.partialStats(x, { shape, layout });
      for (let c = 0; c < C; c++) {
        const v = t[3 * c + 2] / t[3 * c];
        assert.is(r.saveMean[c], Math.fround(t[3 * c + 1]), `saveMean[${c}] C=${C} ${layout}`);
        assert.is(r.var[c], Math.fround(v), `var[${c}] C=${C} ${layout}`);
        assert.is(r.saveInvstd[c], Math.fround(1 / Math.sqrt(v + 1e-5)), `saveInvstd[${c}] C=${C} ${layout}`);
      }
      const b = api.batchNormBackward(x, dy, { shape, layout, gamma, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
      const eb = refBnBackward(x, dy, shape, layout, { gamma, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
      close(b.dx, eb.dx, 5e-5, 5e-5, "dx", shape, layout);
      close(b.dgamma, eb.dgamma, 5e-5, 5e-5, "dgamma");
      close(b.dbeta, eb.dbeta, 5e-5, 5e-5, "dbeta");
      const st = api.channelStats(x, { shape, layout }), f = api.finishStats(t);
      assert.equal(Array.from(st.unbiasedVar), Array.from(f.unbiasedVar), `unbiasedVar C=${C} ${layout}`);
    }
  }
});

test("running statistics: Float32Array and Float64Array vectors (alike and mixed), odd and even C, the JS update's bits", () => {
  for (const C of [1, 7, 64, 1025]) {
    const shape = [5, C], x = randomArray(5 * C, C, { offset: 1 }), t = api.partialStats(x, { shape, layout: "NC" });
    for (const [M, V] of [[Float32Array, Float32Array], [Float64Array, Float64Array], [Float32Array, Float64Array], [Float64Array, Float32Array]]) {
      const rm0 = randomArray(C, 2), rv0 = Float32Array.from(randomArray(C, 3), (v) => 1 + v * v);
      const rm = M.from(rm0), rv = V.from(rv0), em = M.from(rm0), ev = V.from(rv0);
      api.batchNormTrain(x, { shape, layout: "NC", runningMean: rm, runningVar: rv, momentum: 0.1 });
      for (let c = 0; c < C; c++) { // pytorch: keep 0.9 of the old value, the unbiased variance
        em[c] = (1 - 0.1) * em[c] + 0.1 * t[3 * c + 1];
        ev[c] = (1 - 0.1) * ev[c] + 0.1 * (t[3 * c + 2] / (t[3 * c] - 1));
      }
      assert.equal(Array.from(rm), Array.from(em), `runningMean C=${C} ${M.name}/${V.name}`);
      assert.equal(Array.from(rv), Array.from(ev), `runningVar C=${C} ${M.name}/${V.name}`);
    }
  }
});

test.run();
