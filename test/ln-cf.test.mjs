// Channels-first layer norm (ConvNeXt's LayerNorm: statistics over a strided channel axis)
// against the float64 reference, on the paths of its kernel (assembly/ln_forward.ts): tiles of
// 512 positions with their scalar tails (S mod 4), channel rows in groups of four with a short
// last group (C mod 4), f32 chunks of 512 rows added in f64 (C > 512), sums around 0 or around
// the previous tile's means, the sums redone around a tile's own means, the residue b kept or
// dropped, NaN kept to its own positions, in place; up to four channels, sums around channel 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refLayerNorm, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

/** Forward of x (N, C, S) NCHW against the reference; returns the result. */
function check(x, N, C, S, what, { tol = 2e-4, inPlace = false } = {}) {
  const shape = [N, C, 1, S], layout = "NCHW", eps = 1e-5;
  const gamma = randomArray(C, C + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, C + 2, { scale: 0.5 });
  const e = refLayerNorm(x, null, shape, layout, { gamma, beta, eps });
  const t = api.tensor(shape, layout);
  t.data.set(x);
  const r = api.layerNorm(t, { gamma, beta, eps, ...(inPlace ? { out: t } : {}) });
  const y = inPlace ? t.toArray() : r.y;
  const scale = Math.max(1, ...Array.from(e.mean, Math.abs));
  close(y, e.y, tol, 1e-4, `${what} y`, shape, layout);
  close(r.mean, e.mean, 1e-5 * scale, 1e-6, `${what} mean`, shape, layout);
  close(r.invstd, e.invstd, tol, 1e-4, `${what} invstd`, shape, layout);
  t.free();
  return r;
}

test("backward with an activation into dy or x while memory grows (views taken after the temporaries)", () => {
  // The activation gradient's tensor-sized temporary (dx is x or dy) goes to the heap, and the
  // per-statistic temporaries after it grow memory: a view taken before them was detached
  // ("Cannot perform %TypedArray%.prototype.set on a detached ArrayBuffer"). First in this file:
  // a fresh memory.
  for (const [C, S] of [[8, 20000], [3, 50000], [16, 16384]]) {
    const shape = [1, C, 1, S], n = C * S, xv = randomArray(n, C), dyv = randomArray(n, C + 1);
    for (const [name, fwd, bwd] of [
      ["layerNorm", (x) => api.layerNorm(x, { activation: "gelu" }), (x, f, dy, out) => api.layerNormBackward(x, dy, { shape, layout: "NCHW", activation: "gelu", mean: f.mean, invstd: f.invstd, out })],
      ["rmsNorm", (x) => api.rmsNorm(x, { activation: "silu" }), (x, f, dy, out) => api.rmsNormBackward(x, dy, { shape, layout: "NCHW", activation: "silu", invRms: f.invRms, out })],
    ]) {
      const x = api.tensor(shape, "NCHW", xv), f = fwd(x), dy = api.tensor(shape, "NCHW", dyv);
      bwd(x, f, dy, dy); // first: the call whose temporaries grow memory
      const want = bwd(xv, f, dyv, undefined);
      close(dy.toArray(), want.dx, 0, 0, `${name} (${shape}): dx into dy`, shape, "NCHW");
      bwd(x, f, dyv, x);
      close(x.toArray(), want.dx, 0, 0, `${name} (${shape}): dx into x`, shape, "NCHW");
      dy.free(); x.free(); f.y.free();
    }
  }
});

test("every S mod 4 and C mod 4 around one and two tiles, N = 1…3", () => {
  for (const S of [4, 5, 6, 7, 49, 511, 512, 513, 515, 1030]) {
    for (const C of [2, 5, 6, 7, 8, 96]) {
      const N = 1 + ((S + C) % 3);
      check(randomArray(N * C * S, S * 31 + C, { scale: 1 + (C % 3) }), N, C, S, `S ${S} C ${C}`);
    }
  }
});

test("C > 512: f32 chunks added in f64, with a short last group of rows", () => {
  for (const [C, S] of [[513, 9], [768, 49], [1030, 13]]) check(randomArray(C * S, C, { offset: 0.5 }), 1, C, S, `C ${C}`);
});

test("offsets: sums redone around a tile's means, then the next tiles around the last means", () => {
  // 1e4 everywhere: the first tile's plain sums are redone, later tiles and samples start shifted.
  check(randomArray(2 * 16 * 1100, 3, { offset: 1e4 }), 2, 16, 1100, "offset 1e4", { tol: 1e-3 });
  // Means of +1e4 in the first tile and −1e4 after it: the second tile's shift is off by 2e4.
  const C = 12, S = 1100, x = randomArray(C * S, 4);
  for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) x[c * S + s] += s < 512 ? 1e4 : -1e4;
  check(x, 1, C, S, "±1e4", { tol: 1e-3 });
  // Near zero after far from zero: the shift goes back to 0.
  const z = randomArray(C * S, 5);
  for (let c = 0; c < C; c++) for (let s = 0; s < 512; s++) z[c * S + s] += 300;
  check(z, 1, C, S, "300 then 0");
});

test("offsets so large that Σx² around 0 overflows float32: the tile is redone around its means", () => {
  // |x| ≈ 1e18 with C = 768: the first tile's plain Σx² is +Inf (taken as a good shift, it gave
  // invstd 0 and y = beta); also C ≤ 512 at 3e18, and a later tile after a near-zero first one.
  for (const [C, S, off] of [[768, 7, 1e18], [64, 9, 3e18], [96, 13, 1e18]]) {
    const x = randomArray(C * S, C + S, { scale: 0.1 }).map((v) => off * (1 + v));
    check(x, 1, C, S, `offset ${off} C ${C}`, { tol: 1e-3 });
  }
  const C = 16, S = 1100, x = randomArray(C * S, 6);
  for (let c = 0; c < C; c++) for (let s = 600; s < S; s++) x[c * S + s] = 1e18 * (1 + 0.1 * x[c * S + s]);
  check(x, 1, C, S, "0 then 1e18", { tol: 1e-3 });
});

test("up to four channels: tiles summed around channel 0's values (offsets, far tiles, in place, NaN in channel 0)", () => {
  for (const C of [1, 3, 4]) {
    for (const S of [5, 513, 1030]) {
      check(randomArray(2 * C * S, C * S, { offset: 0.5, scale: 1.5 }), 2, C, S, `C ${C} S ${S}`);
      check(randomArray(C * S, C * S + 1, { offset: 1e4 }), 1, C, S, `C ${C} S ${S} offset 1e4`, { tol: 1e-3 });
      check(randomArray(C * S, C * S + 2, { scale: 1e17 }).map((v, i) => v + (i % S < 512 ? 3e18 : -3e18)), 1, C, S, `C ${C} S ${S} ±3e18`, { tol: 1e-3 });
      check(randomArray(3 * C * S, C * S + 3), 3, C, S, `C ${C} S ${S} in place`, { inPlace: true });
    }
    const S = 530, x = randomArray(C * S, C + 9);
    x[100] = NaN; // channel 0 (the shift) at position 100
    const r = api.layerNorm(x, { shape: [1, C, 1, S], layout: "NCHW" });
    const e = refLayerNorm(Float32Array.from(x, (v) => (Number.isNaN(v) ? 0 : v)), null, [1, C, 1, S], "NCHW", { eps: 1e-5 });
    for (let k = 0; k < S; k++) {
      if (k === 100) { assert.ok(Number.isNaN(r.mean[k]), `C ${C}: NaN mean at its position`); continue; }
      assert.ok(Math.abs(r.mean[k] - e.mean[k]) <= 1e-5 && Math.abs(r.invstd[k] - e.invstd[k]) <= 2e-4 * e.invstd[k], `C ${C}: position ${k} clean`);
    }
  }
});

test("in place, and NaN stays in its own position", () => {
  check(randomArray(3 * 9 * 517, 6), 3, 9, 517, "in place", { inPlace: true });
  const C = 8, S = 530, x = randomArray(2 * C * S, 7);
  x[3 * S + 100] = NaN; // sample 0, channel 3, position 100: a NaN mean there, the next tile clean
  const shape = [2, C, 1, S];
  const r = api.layerNorm(x, { shape, layout: "NCHW" });
  const clean = Float32Array.from(x, (v) => (Number.isNaN(v) ? 0 : v));
  const e = refLayerNorm(clean, null, shape, "NCHW", { eps: 1e-5 });
  for (let k = 0; k < 2 * S; k++) {
    if (k === 100) { assert.ok(Number.isNaN(r.mean[k]) && Number.isNaN(r.invstd[k]), "NaN statistics at its position"); continue; }
    assert.ok(Math.abs(r.mean[k] - e.mean[k]) <= 1e-5 && Math.abs(r.invstd[k] - e.invstd[k]) <= 2e-4 * e.invstd[k], `position ${k} clean`);
  }
});

test.run();
