// Norms computed as rows (js/ops/family/norm-rows.ts), against the float64 reference: layer norm
// over rows of 1–24 values four at a time (ln_forward_short_f32_cl: every C, every count of rows
// mod 4 and across its 64-row tiles, rows it declines to the row kernel between rows it takes, in
// place and not) and its backward (ln_backward_short_f32_cl: dx into x, dy or a new tensor, f32
// and f64 means, gradient outputs given or not; with an activation the row kernel), RMS norm over
// such rows (rms_forward_short_f32_cl; its backward, ln_backward_short_f32_cl with rms = 1), layer norm over the last axis of ≥ 64 short rows (4 ≤ C < 112: shortRows — instance norm of the (K, 1, C)
// view, then gamma, beta and the activation per column) and its neighbours (C = 3, 112, 127;
// 63 rows), with and without gamma and beta, every activation, rows far from zero, in place, the
// statistics into given arrays, tensors, and skip layer norm over such rows (its own row kernel);
// group norm of (N, C) with groups of ≥ 4 channels (groupnorm.ts asRows: layer norm of the
// (N·G, C/G) rows, then gamma, beta and the activation per channel) and its neighbours.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refLayerNorm, refGroupNorm, refWithAct, refSkipNorm, refRmsNorm, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

const ACTS = [undefined, "relu", "silu", "gelu_tanh"];

function check(shape, layout, seed, { activation, offset = 0, affine = true, inPlace = false } = {}) {
  const C = shape.at(-1), n = shape.reduce((a, b) => a * b), K = n / C, eps = 1e-5;
  const x = randomArray(n, seed, { offset, scale: 1 + (seed % 3) });
  const gamma = affine ? randomArray(C, seed + 1, { offset: 1, scale: 0.3 }) : undefined;
  const beta = affine ? randomArray(C, seed + 2, { scale: 0.5 }) : undefined;
  const e = refWithAct(refLayerNorm, x, null, shape, layout, { gamma, beta, eps, activation });
  const meanOut = new Float32Array(K), invstdOut = new Float32Array(K);
  const t = api.tensor(shape, layout, x);
  const r = api.layerNorm(t, { gamma, beta, eps, activation, meanOut, invstdOut, out: inPlace ? t : undefined });
  const what = `(${shape}) ${layout}${activation ? ` ${activation}` : ""}${offset ? ` + ${offset}` : ""}${affine ? "" : " no affine"}${inPlace ? " in place" : ""}`;
  const tol = offset ? 1e-3 : 2e-5;
  close(inPlace ? t.data : r.y.data ?? r.y, e.y, tol, 1e-4, `${what} y`, shape, layout);
  assert.is(r.mean, meanOut, `${what}: mean is meanOut`);
  assert.is(r.invstd, invstdOut, `${what}: invstd is invstdOut`);
  close(r.mean, e.mean, 1e-5 * (1 + offset), 1e-6, `${what} mean`, shape, layout);
  close(r.invstd, e.invstd, tol, 1e-4, `${what} invstd`, shape, layout);
  t.free();
}

test("layerNorm over ≥ 64 rows of 4–111 values (and 3, 112, 127; 63 rows) against float64", () => {
  let seed = 1;
  for (const C of [3, 4, 5, 7, 8, 13, 16, 24, 33, 63, 64, 100, 111, 112, 127]) {
    for (const K of [63, 64, 65, 300]) {
      check([K, C], "NC", seed++);
      check([1, K, C], "NLC", seed++, { activation: ACTS[seed % ACTS.length] });
    }
    check([2, 10, 10, C], "NHWC", seed++, { offset: 1e4 });
    check([130, C], "NC", seed++, { affine: false });
    check([2, 65, C], "NLC", seed++, { inPlace: true, activation: "relu" });
  }
});

test("layerNorm over rows of 1–24 values, four at a time, against float64: every C, 1–130 rows", () => {
  let seed = 500;
  for (let C = 1; C <= 25; C++) {
    for (const K of [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 68, 130]) {
      check([K, C], "NC", seed++, { activation: K % 3 ? undefined : ACTS[seed % ACTS.length], inPlace: K % 2 === 1, affine: K !== 9 });
    }
    check([2, 33, C], "NLC", seed++, { offset: 1e4 });
  }
});

test("rmsNorm over rows of 1–24 values, four at a time, against float64: every C, 1–130 rows", () => {
  let seed = 700;
  for (let C = 1; C <= 25; C++) {
    for (const K of [1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 68, 130]) {
      const shape = [K, C], n = K * C, eps = 1e-6, activation = K % 3 ? undefined : ACTS[seed % ACTS.length], unitOffset = K % 4 === 1;
      const x = randomArray(n, seed, { offset: seed % 5 === 0 ? 1e3 : 0, scale: 1 + (seed % 3) }), gamma = K === 9 ? undefined : randomArray(C, seed + 1, { scale: 0.3, offset: unitOffset ? 0 : 1 });
      if (K === 7) for (let j = 0; j < C; j++) x[2 * C + j] = 0; // a zero row
      const e = refRmsNorm(x, null, shape, "NC", { gamma, eps, unitOffset, activation });
      const t = api.tensor(shape, "NC", x), inPlace = K % 2 === 1, invRmsOut = new Float32Array(K);
      const r = api.rmsNorm(t, { gamma, eps, unitOffset, activation, invRmsOut, out: inPlace ? t : undefined });
      const what = `rmsNorm (${shape})${activation ? ` ${activation}` : ""}${inPlace ? " in place" : ""}`;
      close(inPlace ? t.data : r.y.data, e.y, 2e-5, 1e-4, `${what} y`, shape, "NC");
      close(r.invRms, e.invRms, 0, 2e-6, `${what} invRms`, shape, "NC");
      assert.is(r.invRms, invRmsOut);
      t.free(); seed++;
    }
  }
});

test("layerNorm over rows of 1–24 values: rows the four-row kernel declines, between rows it takes", () => {
  // Row kinds: a group of four (rows 4j … 4j + 3) with one row f32 cannot hold (1e25: squares
  // overflow; 1e-30: they underflow), a NaN row, constant and zero rows; the groups around them
  // normal. In place and into another tensor: a declined group's neighbours keep their values.
  const KIND = ["normal", "normal", "normal", "normal", "normal", "huge", "normal", "normal", "zero", "const", "zero", "const",
    "normal", "normal", "tiny", "normal", "nan", "normal", "normal", "normal", "normal", "normal", "normal", "normal"];
  for (const C of [1, 3, 4, 5, 8, 13, 24]) {
    for (const K of [24, 70]) {
      const x = randomArray(K * C, C + K, { offset: 0.5, scale: 1.5 });
      for (let i = 0; i < x.length; i++) {
        const kind = KIND[Math.floor(i / C) % KIND.length];
        if (kind === "huge") x[i] *= 1e25;
        else if (kind === "tiny") x[i] *= 1e-30;
        else if (kind === "zero") x[i] = 0;
        else if (kind === "const") x[i] = -3.25;
        else if (kind === "nan" && i % C === C - 1) x[i] = NaN;
      }
      const shape = [K, C], gamma = randomArray(C, C, { offset: 1, scale: 0.3 }), beta = randomArray(C, C + 1, { scale: 0.5 });
      const e = refLayerNorm(x, null, shape, "NC", { gamma, beta, eps: 1e-5 });
      for (const inPlace of [false, true]) {
        const t = api.tensor(shape, "NC", x), r = api.layerNorm(t, { gamma, beta, eps: 1e-5, out: inPlace ? t : undefined });
        const y = inPlace ? t.data : r.y.data, what = `layerNorm (${shape})${inPlace ? " in place" : ""}`;
        for (let i = 0; i < e.y.length; i++) {
          const want = e.y[i], got = y[i];
          if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${what} y[${i}] (row ${Math.floor(i / C)}): got ${got}, want NaN`);
          else assert.ok(Math.abs(got - want) <= 2e-5 + 1e-4 * Math.abs(want), `${what} y[${i}] (row ${Math.floor(i / C)}, ${KIND[Math.floor(i / C) % KIND.length]}): got ${got}, want ${want}`);
        }
        for (let k = 0; k < K; k++) {
          const want = e.invstd[k], got = r.invstd[k];
          if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${what} invstd[${k}]: got ${got}, want NaN`);
          else assert.ok(Math.abs(got - want) <= 2e-5 * Math.abs(want), `${what} invstd[${k}]: got ${got}, want ${want}`);
        }
        t.free();
      }
    }
  }
});

test("layerNorm over rows of 1–24 values with an eps float32 cannot hold (tiny, subnormal, huge): as the row kernel, in f64", () => {
  for (const eps of [1e-50, 1e-44, 1e39]) {
    for (const C of [1, 3, 8]) {
      const K = 9, shape = [K, C], x = randomArray(K * C, C, { offset: 0.5 });
      for (let i = 0; i < 2 * C; i++) x[i] = 2; // two constant rows
      const beta = new Float32Array(C).fill(0.25), e = refLayerNorm(x, null, shape, "NC", { beta, eps });
      const r = api.layerNorm(x, { shape, layout: "NC", beta, eps }), what = `layerNorm (${shape}) eps ${eps}`;
      close(r.y, e.y, 2e-5, 1e-4, `${what} y`, shape, "NC");
      close(r.invstd, e.invstd, 0, 2e-5, `${what} invstd`, shape, "NC");
    }
  }
});

test("layerNormBackward over rows of 1–24 values, four at a time, against float64", () => {
  let seed = 900;
  for (let C = 1; C <= 25; C++) {
    for (const K of [1, 2, 3, 4, 5, 7, 8, 63, 64, 65, 130]) {
      const shape = [K, C], n = K * C, eps = 1e-5, offset = seed % 4 === 1 ? 1e3 : 0, activation = seed % 9 === 0 ? "silu" : undefined;
      const x = randomArray(n, seed, { offset, scale: 1 + (seed % 3) }), dy = randomArray(n, seed + 3);
      const gamma = randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 2, { scale: 0.5 });
      const e = refWithAct(refLayerNorm, x, dy, shape, "NC", { gamma, beta, eps, activation });
      // f64 means (the residue path) every third case; else the forward's own f32 statistics.
      const f = api.layerNorm(x, { shape, layout: "NC", gamma, beta, eps });
      const exact = seed % 3 === 0, mean = exact ? Float64Array.from(e.mean) : f.mean, invstd = exact ? Float64Array.from(e.invstd) : f.invstd;
      const where = seed % 4, tx = api.tensor(shape, "NC", x), td = api.tensor(shape, "NC", dy);
      const out = where === 1 ? tx : where === 2 ? td : undefined, given = seed % 2 ? { dgammaOut: new Float32Array(C), dbetaOut: new Float32Array(C) } : {};
      const b = api.layerNormBackward(tx, td, { gamma, beta, mean, invstd, activation, out, ...given });
      const what = `layerNormBackward (${shape})${offset ? ` + ${offset}` : ""}${exact ? " f64 stats" : ""}${activation ? ` ${activation}` : ""}${out ? ` into ${where === 1 ? "x" : "dy"}` : ""}`;
      const inv = Math.max(...e.invstd), tol = offset ? 1e-3 : 2e-4, m = Math.sqrt(K);
      // From f32 means, x − μ is off by each mean's rounding δ: dgamma moves by δ·invstd·Σ|dy| (family.test).
      let shifted = 0;
      if (!exact && offset) for (let k = 0; k < K; k++) for (let j = 0; j < C; j++) shifted += Math.abs(f.mean[k] - e.mean[k]) * e.invstd[k] * Math.abs(dy[k * C + j]);
      close(b.dx.data ?? b.dx, e.dx, 4 * tol * inv, 1e-3, `${what} dx`, shape, "NC");
      close(b.dgamma, e.dgamma, 1e-4 * m + tol + shifted, 1e-4, `${what} dgamma`, shape, "NC");
      close(b.dbeta, e.dbeta, 1e-4 * m, 1e-4, `${what} dbeta`, shape, "NC");
      if (given.dgammaOut) { assert.is(b.dgamma, given.dgammaOut); assert.is(b.dbeta, given.dbetaOut); }
      tx.free(); td.free(); seed++;
    }
  }
});

test("rmsNormBackward over rows of 1–24 values, four at a time (and with an activation, the row kernel), against float64", () => {
  let seed = 1700;
  for (let C = 1; C <= 25; C++) {
    for (const K of [1, 3, 4, 5, 63, 64, 65, 130]) {
      const shape = [K, C], n = K * C, eps = 1e-5, activation = seed % 7 === 0 ? "silu" : undefined, unitOffset = seed % 5 === 0;
      const x = randomArray(n, seed, { offset: seed % 4 === 1 ? 3 : 0, scale: 1 + (seed % 3) }), dy = randomArray(n, seed + 3);
      const gamma = randomArray(C, seed + 1, { offset: unitOffset ? 0 : 1, scale: 0.3 });
      const e = refRmsNorm(x, dy, shape, "NC", { gamma, eps, activation, unitOffset });
      const f = api.rmsNorm(x, { shape, layout: "NC", gamma, eps, unitOffset });
      const where = seed % 3, tx = api.tensor(shape, "NC", x), td = api.tensor(shape, "NC", dy);
      const out = where === 1 ? tx : where === 2 ? td : undefined, given = seed % 2 ? { dgammaOut: new Float32Array(C) } : {};
      const b = api.rmsNormBackward(tx, td, { gamma, invRms: f.invRms, eps, activation, unitOffset, out, ...given });
      const what = `rmsNormBackward (${shape})${activation ? ` ${activation}` : ""}${unitOffset ? " unitOffset" : ""}${out ? ` into ${where === 1 ? "x" : "dy"}` : ""}`;
      const inv = Math.max(...e.invRms), m = Math.sqrt(K);
      close(b.dx.data ?? b.dx, e.dx, 8e-4 * inv, 1e-3, `${what} dx`, shape, "NC");
      close(b.dgamma, e.dgamma, 1e-4 * m + 2e-4, 1e-4, `${what} dgamma`, shape, "NC");
      if (given.dgammaOut) assert.is(b.dgamma, given.dgammaOut);
      tx.free(); td.free(); seed++;
    }
  }
});

test("layerNormBackward over short rows from f64 means far from zero (the residue b = −(mean − m)·invstd counts)", () => {
  for (const C of [3, 8, 13, 24]) {
    const K = 9, shape = [K, C], x = randomArray(K * C, C, { offset: 1e4, scale: 0.01 }), dy = randomArray(K * C, C + 1), eps = 1e-5;
    const e = refLayerNorm(x, dy, shape, "NC", { eps });
    const b = api.layerNormBackward(x, dy, { shape, layout: "NC", mean: Float64Array.from(e.mean), invstd: Float64Array.from(e.invstd) });
    const inv = Math.max(...e.invstd);
    close(b.dx, e.dx, 1e-5 * inv, 1e-3, `layerNormBackward (${shape}) at 1e4 ± 0.01, f64 stats: dx`, shape, "NC");
    close(b.dgamma, e.dgamma, 1e-3, 1e-4, `layerNormBackward (${shape}) at 1e4 ± 0.01, f64 stats: dgamma`, shape, "NC");
  }
});

test("skipLayerNorm over ≥ 64 short rows against float64 (forward: its own row kernel)", () => {
  for (const C of [4, 9, 48, 111]) {
    const shape = [1, 70, C], n = 70 * C, eps = 1e-5;
    const x = randomArray(n, C), skip = randomArray(n, C + 1), gamma = randomArray(C, C + 2, { offset: 1, scale: 0.3 });
    const beta = randomArray(C, C + 3, { scale: 0.5 }), bias = randomArray(C, C + 4, { scale: 0.2 });
    const e = refSkipNorm(x, skip, null, shape, "NLC", { gamma, beta, bias, eps, activation: "silu" });
    const r = api.skipLayerNorm(x, skip, { shape, layout: "NLC", gamma, beta, bias, eps, activation: "silu" });
    close(r.y, e.y, 2e-5, 1e-4, `skip layer norm (${shape}) y`, shape, "NLC");
    close(r.mean, e.mean, 1e-5, 1e-6, `skip layer norm (${shape}) mean`, shape, "NLC");
  }
});

test("groupNorm of (N, C) (and (N, C, 1)) against float64: groups of 1–250 channels (layer norm of the groups' rows)", () => {
  let seed = 100;
  for (const [N, C, G] of [[70, 16, 4], [3, 20, 4], [65, 40, 8], [2, 1000, 4], [9, 512, 32], [300, 8, 4], [5, 12, 12], [64, 7, 1], [64, 128, 1], [300, 8, 4], [70, 6, 3], [65, 9, 9], [33, 12, 4], [5, 2, 1]]) {
    for (const [layout, shape] of [["NC", [N, C]], ["NCL", [N, C, 1]]]) {
      const activation = ACTS[seed % ACTS.length], eps = 1e-5, x = randomArray(N * C, seed, { offset: seed % 2 ? 0 : 1e3, scale: 2 });
      const gamma = randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 2, { scale: 0.5 });
      const e = refWithAct(refGroupNorm, x, null, shape, layout, { gamma, beta, eps, groups: G, activation });
      const meanOut = new Float32Array(N * G), invstdOut = new Float32Array(N * G), t = api.tensor(shape, layout, x);
      const r = api.groupNorm(t, { groups: G, gamma, beta, eps, activation, meanOut, invstdOut, out: seed % 3 ? undefined : t });
      const what = `groupNorm (${shape}) ${layout}, ${G} groups${activation ? ` ${activation}` : ""}`, tol = seed % 2 ? 2e-5 : 1e-3;
      close(seed % 3 ? r.y.data : t.data, e.y, tol, 1e-4, `${what} y`, shape, layout);
      assert.is(r.mean, meanOut, `${what}: mean is meanOut`);
      close(r.mean, e.mean, 1e-5 * (seed % 2 ? 1 : 1e3), 1e-6, `${what} mean`, shape, layout);
      close(r.invstd, e.invstd, tol, 1e-4, `${what} invstd`, shape, layout);
      t.free(); seed++;
    }
  }
});

test.run();
