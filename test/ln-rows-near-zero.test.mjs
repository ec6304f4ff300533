// Layer norm's row backward (assembly/rows_backward.ts, rows of more than 32 values) on rows near
// zero: a row whose f32 mean m has |m|·invstd ≤ 1 is taken around 0 (the mean folded into b,
// the loops without the subtraction); a row past that bound, or with an activation, around m.
// Against the float64 reference, rows on both sides of the bound in one tensor (means from 0 to
// 1.5 standard deviations, either sign), far rows (1e3), f32 and f64 means, dgamma / dbeta given
// or not, dx in place over dy; skip layer norm's backward (the same row loops for its sums).
import { test } from "uvu";
import * as api from "../dist/index.js";
import { refLayerNorm, refSkipNorm, randomArray } from "./reference.mjs";
import { close } from "./helpers.mjs";

await api.init();

/** K rows of C values; row r moved to a mean of about shifts[r mod shifts.length] standard deviations. */
function rows(K, C, seed, shifts) {
  const x = randomArray(K * C, seed, { scale: 1 + (seed % 3) });
  for (let r = 0; r < K; r++) {
    let s = 0, q = 0;
    for (let j = 0; j < C; j++) { const v = x[r * C + j]; s += v; q += v * v; }
    const mu = s / C, sd = Math.sqrt(Math.max(q / C - mu * mu, 1e-12)), t = shifts[r % shifts.length];
    const to = Math.abs(t) >= 100 ? t : t * sd;
    for (let j = 0; j < C; j++) x[r * C + j] += to - mu;
  }
  return x;
}

const SHIFTS = [0, 0.3, -0.6, 0.95, -1.05, 1.5, 0.999, -0.2];

function check(K, C, seed, { f64Mean = false, outs = false, inPlace = false, shifts = SHIFTS } = {}) {
  const shape = [K, C], layout = "NC", eps = 1e-5;
  const x = rows(K, C, seed, shifts), dy = randomArray(K * C, seed + 5);
  const gamma = randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 2, { scale: 0.5 });
  const e = refLayerNorm(x, dy, shape, layout, { gamma, beta, eps });
  const mean = f64Mean ? Float64Array.from(e.mean) : Float32Array.from(e.mean), invstd = Float32Array.from(e.invstd);
  const opts = { shape, layout, gamma, beta, mean, invstd };
  if (outs) Object.assign(opts, { dgammaOut: new Float32Array(C), dbetaOut: new Float32Array(C) });
  const d = inPlace ? dy.slice() : dy;
  if (inPlace) opts.out = d;
  const b = api.layerNormBackward(x, d, opts);
  const what = `layer norm backward (${K}, ${C})${f64Mean ? " f64 mean" : ""}${inPlace ? " in place" : ""}`, m = Math.sqrt(K);
  close(inPlace ? d : b.dx, e.dx, 2e-5, 1e-4, `${what} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 2e-5 * m, 1e-4, `${what} dgamma`, shape, layout);
  close(b.dbeta, e.dbeta, 2e-5 * m, 1e-4, `${what} dbeta`, shape, layout);
}

test("rows of 33–1031 values on both sides of the near-zero bound", () => {
  for (const C of [33, 36, 40, 64, 100, 255, 257, 768, 1031]) {
    for (const K of [1, 2, 5, 17]) check(K, C, C * 31 + K);
  }
});

test("f64 means, gradient outputs given, dx in place over dy", () => {
  check(9, 96, 3, { f64Mean: true });
  check(9, 96, 4, { outs: true });
  check(9, 96, 5, { inPlace: true });
  check(12, 513, 6, { f64Mean: true, outs: true, inPlace: true });
});

test("rows all near zero, all past the bound, and far rows", () => {
  check(8, 128, 7, { shifts: [0.1, -0.4, 0.8] });
  check(8, 128, 8, { shifts: [1.2, -2, 3] });
  check(8, 128, 9, { shifts: [1000, -0.5, 2000] });
});

test("skip layer norm backward on rows on both sides of the bound", () => {
  for (const C of [48, 200]) {
    const K = 11, shape = [K, C], layout = "NC", eps = 1e-5;
    const x = rows(K, C, C, SHIFTS), skip = randomArray(K * C, C + 3, { scale: 0.1 }), dy = randomArray(K * C, C + 4);
    const gamma = randomArray(C, C + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, C + 2, { scale: 0.5 });
    const e = refSkipNorm(x, skip, dy, shape, layout, { gamma, beta, eps, rms: false });
    const r = api.skipLayerNorm(x, skip, { shape, layout, gamma, beta, eps });
    const b = api.skipLayerNormBackward(r.sum, dy, { shape, layout, gamma, beta, mean: r.mean, invstd: r.invstd });
    const m = Math.sqrt(K);
    close(b.dx, e.dx, 1e-4, 1e-3, `skip layer norm (${K}, ${C}) dx`, shape, layout);
    close(b.dgamma, e.dgamma, 1e-4 * m, 1e-4, `skip layer norm (${K}, ${C}) dgamma`, shape, layout);
    close(b.dbeta, e.dbeta, 1e-4 * m, 1e-4, `skip layer norm (${K}, ${C}) dbeta`, shape, layout);
  }
});

test.run();
