// The layer-norm row kernels across float32's range (assembly/rows.ts ln_row_stats): rows whose
// f32 sums overflow (|x| ≥ ~1.8e19, ±3e38) or underflow (1e-30 scale; ±k·2⁻¹⁰⁰ whose sums cancel to
// 0), a row of 1e-30 values
// right after a row at 1e6 (its first mean lost it), constant rows after far rows with eps = 0,
// against the float64 reference — layer norm and skip layer norm over rows (the row kernel and the
// skip kernel), and group norm of (N, C), which takes the layer-norm rows; RMS norm and skip RMS
// norm over rows (rows.ts rms_inv: the mean square exact in f64 where f32 squares cannot hold it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refLayerNorm, refGroupNorm, refSkipNorm, refRmsNorm, randomArray } from "./reference.mjs";

await api.init();

/** K rows of C: row r of kind KINDS[r mod 7] ("cancel": ±k·2⁻¹⁰⁰ in pairs, sums exactly 0, squares under f32's range). */
const KINDS = ["far", "tiny", "const", "extreme", "huge", "normal", "cancel"];
function rows(K, C, seed) {
  const x = randomArray(K * C, seed);
  for (let i = 0; i < x.length; i++) x[i] = value(KINDS[Math.floor(i / C) % 7], x[i], i % C, C);
  return x;
}

/** Value j of a group of C of the given kind, from a random u. */
function value(kind, u, j, C) {
  if (kind === "far") return 1e6 + u;
  if (kind === "tiny") return 1e-30 * u;
  if (kind === "const") return 2.5;
  if (kind === "extreme") return Math.sign(u) * 3e38;
  if (kind === "huge") return 1e25 * u;
  if (kind === "cancel") return j === C - 1 && C % 2 ? 0 : (j % 2 ? -1 : 1) * (1 + (j >> 1) % 3) * 2 ** -100;
  return u;
}

/** Finite values within atol + rtol·|e|; non-finite expected values matched exactly (NaN to NaN). */
function agree(got, want, atol, rtol, what) {
  for (let i = 0; i < want.length; i++) {
    const g = got[i], e = want[i];
    if (!Number.isFinite(e)) { assert.ok(Object.is(g, e) || (Number.isNaN(e) && Number.isNaN(g)), `${what}[${i}]: got ${g}, want ${e}`); continue; }
    assert.ok(Math.abs(g - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${g}, want ${e}`);
  }
}

test("layerNorm rows across f32's range against float64 (row kernel and short rows; eps 1e-5 and 0)", () => {
  for (const [K, C] of [[14, 8], [14, 37], [28, 200], [70, 16], [140, 48]]) {
    for (const eps of [1e-5, 0]) {
      const shape = [K, C], x = rows(K, C, K + C), e = refLayerNorm(x, null, shape, "NC", { eps });
      const r = api.layerNorm(x, { shape, layout: "NC", eps });
      const what = `layerNorm (${shape}) eps ${eps}`;
      agree(r.y, e.y, 2e-5, 1e-4, `${what} y`);
      agree(r.invstd, e.invstd, 0, 2e-5, `${what} invstd`);
      // The mean within 1e-6 of its row's standard deviation (or of its own size).
      for (let k = 0; k < K; k++) {
        const sd = Number.isFinite(e.invstd[k]) && e.invstd[k] > 0 ? 1 / e.invstd[k] : 0;
        assert.ok(Math.abs(r.mean[k] - e.mean[k]) <= 1e-6 * sd + 2e-7 * Math.abs(e.mean[k]), `${what} mean[${k}]: got ${r.mean[k]}, want ${e.mean[k]}`);
      }
    }
  }
});

test("skipLayerNorm rows across f32's range against float64 (the row kernel and its tiles of wide rows)", () => {
  // C = 1024, 2048: the skip kernel's tiles of rows (normalized around their stored means).
  for (const [K, C] of [[14, 8], [28, 200], [14, 1024], [7, 2048]]) {
    const shape = [K, C], x = rows(K, C, 3 * K + C), skip = new Float32Array(K * C);
    const e = refSkipNorm(x, skip, null, shape, "NC", { eps: 1e-5 });
    const r = api.skipLayerNorm(x, skip, { shape, layout: "NC", eps: 1e-5 });
    agree(r.y, e.y, 2e-5, 1e-4, `skipLayerNorm (${shape}) y`);
    agree(r.invstd, e.invstd, 0, 2e-5, `skipLayerNorm (${shape}) invstd`);
  }
});

test("groupNorm of (N, C) across f32's range against float64 (the layer-norm rows)", () => {
  for (const [N, C, G] of [[14, 8, 2], [7, 448, 2], [14, 200, 1], [70, 64, 4]]) {
    const shape = [N, C], x = rows(N * G, C / G, N + C), e = refGroupNorm(x, null, shape, "NC", { groups: G, eps: 1e-5 });
    const r = api.groupNorm(x, { shape, layout: "NC", groups: G, eps: 1e-5 });
    agree(r.y, e.y, 2e-5, 1e-4, `groupNorm (${shape}) ${G} groups y`);
    agree(r.invstd, e.invstd, 0, 2e-5, `groupNorm (${shape}) ${G} groups invstd`);
  }
});

test("rmsNorm and skipRmsNorm rows across f32's range against float64 (eps 1e-5 and 0)", () => {
  for (const [K, C] of [[14, 8], [14, 37], [28, 200], [7, 2048]]) {
    for (const eps of [1e-5, 0]) {
      const shape = [K, C], x = rows(K, C, 5 * K + C), e = refRmsNorm(x, null, shape, "NC", { eps });
      const r = api.rmsNorm(x, { shape, layout: "NC", eps }), what = `rmsNorm (${shape}) eps ${eps}`;
      agree(r.y, e.y, 2e-5, 1e-4, `${what} y`);
      agree(r.invRms, e.invRms, 0, 2e-5, `${what} invRms`);
      const s = api.skipRmsNorm(x, new Float32Array(K * C), { shape, layout: "NC", eps }), se = refSkipNorm(x, new Float32Array(K * C), null, shape, "NC", { eps, rms: true });
      agree(s.y, se.y, 2e-5, 1e-4, `skip ${what} y`);
      agree(s.invRms, se.invRms, 0, 2e-5, `skip ${what} invRms`);
    }
  }
});

test("rmsNorm and skipRmsNorm rows holding ±∞: Σx² = ∞, rstd 0, y 0 where x is finite (float64's answer)", () => {
  for (const C of [4, 37]) {
    const x = randomArray(2 * C, C);
    x[1] = Infinity; x[C + 2] = -Infinity;
    const shape = [2, C], e = refRmsNorm(x, null, shape, "NC", { eps: 1e-5 });
    const r = api.rmsNorm(x, { shape, layout: "NC", eps: 1e-5 });
    agree(r.y, e.y, 0, 0, `rmsNorm (${shape}) with ±∞ y`);
    agree(r.invRms, e.invRms, 0, 0, `rmsNorm (${shape}) with ±∞ invRms`);
    const s = api.skipRmsNorm(x, new Float32Array(2 * C), { shape, layout: "NC", eps: 1e-5 });
    agree(s.y, e.y, 0, 0, `skipRmsNorm (${shape}) with ±∞ y`);
  }
});

/** (N, C, S) channels-first: position s of kind KINDS[s mod 7], or with byTile KINDS[⌊s / 512⌋ mod 7]. */
function positions(N, C, S, seed, byTile = false) {
  const x = randomArray(N * C * S, seed);
  for (let i = 0; i < x.length; i++) {
    const s = i % S, c = Math.floor(i / S) % C;
    x[i] = value(KINDS[(byTile ? Math.floor(s / 512) : s) % 7], x[i], c, C);
  }
  return x;
}

test("layerNorm and rmsNorm channels-first across f32's range against float64 (eps 1e-5 and 0)", () => {
  // C ≤ 4: tiles summed around channel 0; 8-600: around 0 or the tile before's means; C = 600:
  // chunks of 512 channels added in f64. S = 1200: three tiles, one kind a tile (1e-30 after 1e6).
  for (const [N, C, S, byTile] of [[1, 3, 14], [2, 4, 21], [1, 8, 35], [1, 16, 700], [2, 37, 49], [1, 600, 14], [1, 8, 1200, true], [1, 40, 1600, true]]) {
    for (const eps of [1e-5, 0]) {
      const shape = [N, C, S], x = positions(N, C, S, N + C + S, byTile), what = `(${shape}) NCL eps ${eps}`;
      const e = refLayerNorm(x, null, shape, "NCL", { eps }), r = api.layerNorm(x, { shape, layout: "NCL", eps });
      agree(r.y, e.y, 2e-5, 1e-4, `layerNorm ${what} y`);
      agree(r.invstd, e.invstd, 0, 2e-5, `layerNorm ${what} invstd`);
      for (let k = 0; k < N * S; k++) {
        const sd = Number.isFinite(e.invstd[k]) && e.invstd[k] > 0 ? 1 / e.invstd[k] : 0;
        assert.ok(Math.abs(r.mean[k] - e.mean[k]) <= 1e-6 * sd + 2e-7 * Math.abs(e.mean[k]), `layerNorm ${what} mean[${k}]: got ${r.mean[k]}, want ${e.mean[k]}`);
      }
      const q = refRmsNorm(x, null, shape, "NCL", { eps }), m = api.rmsNorm(x, { shape, layout: "NCL", eps });
      agree(m.y, q.y, 2e-5, 1e-4, `rmsNorm ${what} y`);
      agree(m.invRms, q.invRms, 0, 2e-5, `rmsNorm ${what} invRms`);
    }
  }
});

test.run();
