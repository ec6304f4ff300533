// Norms computed as rows (js/ops/family/norm-rows.ts), against the float64 reference: layer norm
// over the last axis of ≥ 64 short rows (4 ≤ C < 112: shortRows — instance norm of the (K, 1, C)
// view, then gamma, beta and the activation per column) and its neighbours (C = 3, 112, 127;
// 63 rows), with and without gamma and beta, every activation, rows far from zero, in place, the
// statistics into given arrays, tensors, and skip layer norm over such rows (its own row kernel);
// group norm of (N, C) with groups of ≥ 4 channels (groupnorm.ts asRows: layer norm of the
// (N·G, C/G) rows, then gamma, beta and the activation per channel) and its neighbours.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refLayerNorm, refGroupNorm, refWithAct, refSkipNorm, randomArray } from "./reference.mjs";
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

test("groupNorm of (N, C) (and (N, C, 1)) against float64: groups of 1–250 channels", () => {
  let seed = 100;
  for (const [N, C, G] of [[70, 16, 4], [3, 20, 4], [65, 40, 8], [2, 1000, 4], [9, 512, 32], [300, 8, 4], [5, 12, 12], [64, 7, 1], [64, 128, 1]]) {
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
