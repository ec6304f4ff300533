// Instance, group and layer norm, forward and backward: simdnorm (zero-copy tensors in wasm
// memory) against plain-JS loops (f64 accumulators, per-channel constants hoisted, memory walked
// contiguously), and a Float32Array copy of the same bytes as a rough memory ceiling.
//
// Bytes counted: forward 8 per value (read x, write y), backward 12 per value (read x and dy,
// write dx): what the op must move at least, whatever passes it makes.
// Before timing, every system is checked against the float64 reference on a reduced shape of the
// same layout and C, and simdnorm against plain JS on the full shape.
//
//   node bench/family.mjs [--reps 15]
import * as api from "../dist/index.js";
import { refInstanceNorm, refGroupNorm, refLayerNorm, randomArray, compare, geometry } from "../test/reference.mjs";
import { readFileSync } from "node:fs";
import os from "node:os";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const reps = +arg("reps", 15);
const EPS = 1e-5, GROUPS = 32;

// ---- plain JS ----------------------------------------------------------------------------

/** Group norm (instance norm: G = C): f64 two-pass statistics per (n, group), then y. */
function jsGroupNorm(x, g, G, gamma, beta, y, mean, invstd) {
  const { N, C, S, cl } = g, Cg = C / G, cnt = Cg * S;
  const sum = new Float64Array(C), mu = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    if (!cl) {
      for (let gi = 0; gi < G; gi++) {
        const o = (n * C + gi * Cg) * S;
        let s = 0; for (let j = 0; j < cnt; j++) s += x[o + j];
        const m = s / cnt; let q = 0;
        for (let j = 0; j < cnt; j++) { const d = x[o + j] - m; q += d * d; }
        mean[n * G + gi] = m; invstd[n * G + gi] = 1 / Math.sqrt(q / cnt + EPS);
      }
      for (let c = 0; c < C; c++) {
        const q = n * G + Math.floor(c / Cg), m = mean[q], a = gamma[c] * invstd[q], b = beta[c], o = (n * C + c) * S;
        for (let j = 0; j < S; j++) y[o + j] = (x[o + j] - m) * a + b;
      }
      continue;
    }
    const base = n * S * C;
    sum.fill(0);
    for (let r = 0, i = base; r < S; r++) for (let c = 0; c < C; c++, i++) sum[c] += x[i];
    for (let gi = 0; gi < G; gi++) { let s = 0; for (let k = 0; k < Cg; k++) s += sum[gi * Cg + k]; mean[n * G + gi] = s / cnt; }
    for (let c = 0; c < C; c++) mu[c] = mean[n * G + Math.floor(c / Cg)];
    sum.fill(0);
    for (let r = 0, i = base; r < S; r++) for (let c = 0; c < C; c++, i++) { const d = x[i] - mu[c]; sum[c] += d * d; }
    for (let gi = 0; gi < G; gi++) { let q = 0; for (let k = 0; k < Cg; k++) q += sum[gi * Cg + k]; invstd[n * G + gi] = 1 / Math.sqrt(q / cnt + EPS); }
    for (let c = 0; c < C; c++) sum[c] = gamma[c] * invstd[n * G + Math.floor(c / Cg)];
    for (let r = 0, i = base; r < S; r++) for (let c = 0; c < C; c++, i++) y[i] = (x[i] - mu[c]) * sum[c] + beta[c];
  }
}

/** Group norm backward: per-(n, c) Σdy, Σdy·(x − μ) → γ-weighted group sums → dx. */
function jsGroupNormBackward(x, dy, g, G, gamma, mean, invstd, dx, dgamma, dbeta) {
  const { N, C, S, cl } = g, Cg = C / G, cnt = Cg * S;
  const s1 = new Float64Array(C), s2 = new Float64Array(C), mu = new Float64Array(C), A = new Float64Array(G), B = new Float64Array(G);
  const k = new Float64Array(C), c1 = new Float64Array(C), c0 = new Float64Array(C);
  dgamma.fill(0); dbeta.fill(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) mu[c] = mean[n * G + Math.floor(c / Cg)];
    s1.fill(0); s2.fill(0);
    if (!cl) {
      for (let c = 0; c < C; c++) {
        const o = (n * C + c) * S, m = mu[c]; let a = 0, b = 0;
        for (let j = 0; j < S; j++) { const d = dy[o + j]; a += d; b += d * (x[o + j] - m); }
        s1[c] = a; s2[c] = b;
      }
    } else {
      for (let r = 0, i = n * S * C; r < S; r++) for (let c = 0; c < C; c++, i++) { const d = dy[i]; s1[c] += d; s2[c] += d * (x[i] - mu[c]); }
    }
    A.fill(0); B.fill(0);
    for (let c = 0; c < C; c++) {
      const gi = Math.floor(c / Cg);
      A[gi] += gamma[c] * s1[c]; B[gi] += gamma[c] * s2[c];
      dgamma[c] += s2[c] * invstd[n * G + gi]; dbeta[c] += s1[c];
    }
    for (let c = 0; c < C; c++) {
      const gi = Math.floor(c / Cg), inv = invstd[n * G + gi];
      k[c] = gamma[c] * inv; c1[c] = -inv * inv * inv * B[gi] / cnt; c0[c] = -inv * A[gi] / cnt;
    }
    if (!cl) {
      for (let c = 0; c < C; c++) {
        const o = (n * C + c) * S, m = mu[c], kk = k[c], a = c1[c], b = c0[c];
        for (let j = 0; j < S; j++) dx[o + j] = dy[o + j] * kk + (x[o + j] - m) * a + b;
      }
    } else {
      for (let r = 0, i = n * S * C; r < S; r++) for (let c = 0; c < C; c++, i++) dx[i] = dy[i] * k[c] + (x[i] - mu[c]) * c1[c] + c0[c];
    }
  }
}

/** Layer norm over C per (n, s). Channels-first: per-position f64 accumulators over rows c. */
function jsLayerNorm(x, g, gamma, beta, y, mean, invstd) {
  const { N, C, S, cl } = g;
  if (cl || S === 1) {
    for (let r = 0; r < N * S; r++) {
      const o = r * C; let s = 0;
      for (let c = 0; c < C; c++) s += x[o + c];
      const m = s / C; let q = 0;
      for (let c = 0; c < C; c++) { const d = x[o + c] - m; q += d * d; }
      const inv = 1 / Math.sqrt(q / C + EPS);
      mean[r] = m; invstd[r] = inv;
      for (let c = 0; c < C; c++) y[o + c] = (x[o + c] - m) * inv * gamma[c] + beta[c];
    }
    return;
  }
  const mu = new Float64Array(S), acc = new Float64Array(S);
  for (let n = 0; n < N; n++) {
    const base = n * C * S;
    mu.fill(0); acc.fill(0);
    for (let c = 0; c < C; c++) { const o = base + c * S; for (let j = 0; j < S; j++) mu[j] += x[o + j]; }
    for (let j = 0; j < S; j++) mu[j] /= C;
    for (let c = 0; c < C; c++) { const o = base + c * S; for (let j = 0; j < S; j++) { const d = x[o + j] - mu[j]; acc[j] += d * d; } }
    for (let j = 0; j < S; j++) { acc[j] = 1 / Math.sqrt(acc[j] / C + EPS); mean[n * S + j] = mu[j]; invstd[n * S + j] = acc[j]; }
    for (let c = 0; c < C; c++) {
      const o = base + c * S, gm = gamma[c], bt = beta[c];
      for (let j = 0; j < S; j++) y[o + j] = (x[o + j] - mu[j]) * acc[j] * gm + bt;
    }
  }
}

/** Layer norm backward: per (n, s) Σγdy, Σγdy·(x − μ); per channel Σdy, Σdy·x̂; then dx. */
function jsLayerNormBackward(x, dy, g, gamma, mean, invstd, dx, dgamma, dbeta) {
  const { N, C, S, cl } = g;
  const dg = new Float64Array(C), db = new Float64Array(C);
  if (cl || S === 1) {
    for (let r = 0; r < N * S; r++) {
      const o = r * C, m = mean[r], inv = invstd[r]; let a = 0, b = 0;
      for (let c = 0; c < C; c++) {
        const d = dy[o + c], xm = x[o + c] - m, gd = d * gamma[c];
        a += gd; b += gd * xm; db[c] += d; dg[c] += d * xm * inv;
      }
      const c1 = -inv * inv * inv * b / C, c0 = -inv * a / C;
      for (let c = 0; c < C; c++) dx[o + c] = dy[o + c] * gamma[c] * inv + (x[o + c] - m) * c1 + c0;
    }
  } else {
    const A = new Float64Array(S), B = new Float64Array(S);
    for (let n = 0; n < N; n++) {
      const base = n * C * S, ms = n * S;
      A.fill(0); B.fill(0);
      for (let c = 0; c < C; c++) {
        const o = base + c * S, gm = gamma[c]; let sd = 0, sg = 0;
        for (let j = 0; j < S; j++) {
          const d = dy[o + j], xm = x[o + j] - mean[ms + j];
          A[j] += gm * d; B[j] += gm * d * xm; sd += d; sg += d * xm * invstd[ms + j];
        }
        db[c] += sd; dg[c] += sg;
      }
      for (let j = 0; j < S; j++) { const inv = invstd[ms + j]; B[j] = -inv * inv * inv * B[j] / C; A[j] = -inv * A[j] / C; }
      for (let c = 0; c < C; c++) {
        const o = base + c * S, gm = gamma[c];
        for (let j = 0; j < S; j++) dx[o + j] = dy[o + j] * gm * invstd[ms + j] + (x[o + j] - mean[ms + j]) * B[j] + A[j];
      }
    }
  }
  dgamma.set(dg); dbeta.set(db);
}

// ---- cases ---------------------------------------------------------------------------------

const OPS = {
  instance: { G: (g) => g.C, K: (g) => g.N * g.C, api: [api.instanceNorm, api.instanceNormBackward], ref: refInstanceNorm },
  group: { G: () => GROUPS, K: (g) => g.N * GROUPS, api: [api.groupNorm, api.groupNormBackward], ref: refGroupNorm },
  layer: { G: null, K: (g) => g.N * g.S, api: [api.layerNorm, api.layerNormBackward], ref: refLayerNorm },
};
const CASES = [
  ["instance", "NCHW", [8, 64, 56, 56]], ["instance", "NHWC", [8, 56, 56, 64]],
  ["group", "NCHW", [8, 64, 56, 56]], ["group", "NHWC", [8, 56, 56, 64]],
  ["layer", "NCHW", [8, 64, 56, 56]], ["layer", "NHWC", [8, 56, 56, 64]], ["layer", "NLC", [8, 196, 768]],
];

/** The plain-JS pair for an op on a geometry: forward(x) → stats; backward(x, dy, stats). */
function jsOp(op, g) {
  const K = OPS[op].K(g), G = OPS[op].G && OPS[op].G(g);
  const y = new Float32Array(g.N * g.C * g.S), dx = new Float32Array(y.length);
  const mean = new Float64Array(K), invstd = new Float64Array(K), dgamma = new Float32Array(g.C), dbeta = new Float32Array(g.C);
  return {
    fwd: (x, gamma, beta) => { if (G) jsGroupNorm(x, g, G, gamma, beta, y, mean, invstd); else jsLayerNorm(x, g, gamma, beta, y, mean, invstd); return { y, mean, invstd }; },
    bwd: (x, dy, gamma) => { if (G) jsGroupNormBackward(x, dy, g, G, gamma, mean, invstd, dx, dgamma, dbeta); else jsLayerNormBackward(x, dy, g, gamma, mean, invstd, dx, dgamma, dbeta); return { dx, dgamma, dbeta }; },
  };
}

function expectClose(got, exp, atol, rtol, what) {
  const r = compare(got, exp, atol, rtol);
  if (r) throw new Error(`${what}: index ${r.index} got ${r.got}, expected ${r.expected} (${r.count} off): not timing a wrong result`);
}

/** Both systems against the float64 reference on a small shape of the same layout and C. */
function verifySmall(op, layout, shape) {
  const small = layout === "NLC" ? [2, 13, shape[2]] : layout === "NCHW" ? [2, shape[1], 5, 7] : [2, 5, 7, shape[3]];
  const g = geometry(small, layout), n = g.N * g.C * g.S;
  const x = randomArray(n, 3), dy = randomArray(n, 4), gamma = randomArray(g.C, 5, { offset: 1 }), beta = randomArray(g.C, 6);
  const e = OPS[op].ref(x, dy, small, layout, { gamma, beta, eps: EPS, groups: GROUPS });
  const [fwd, bwd] = OPS[op].api, o = { shape: small, layout, gamma, beta, groups: GROUPS };
  const r = fwd(x, o), b = bwd(x, dy, { ...o, mean: r.mean, invstd: r.invstd });
  const j = jsOp(op, g), jr = j.fwd(x, gamma, beta), jb = j.bwd(x, dy, gamma);
  for (const [name, got] of [["simdnorm", { ...r, ...b }], ["js", { y: jr.y, ...jb }]]) {
    expectClose(got.y, e.y, 3e-4, 1e-4, `${name} ${op} ${layout} y`);
    expectClose(got.dx, e.dx, 1e-3, 1e-3, `${name} ${op} ${layout} dx`);
    expectClose(got.dgamma, e.dgamma, 1e-3, 1e-4, `${name} ${op} ${layout} dgamma`);
    expectClose(got.dbeta, e.dbeta, 1e-3, 1e-4, `${name} ${op} ${layout} dbeta`);
  }
}

const med = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };

await api.init();
const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
const rows = [];
const t0 = performance.now();
for (const [op, layout, shape] of CASES) {
  verifySmall(op, layout, shape);
  const g = geometry(shape, layout), n = g.N * g.C * g.S;
  const xs = randomArray(n, 1), dys = randomArray(n, 2), gamma = randomArray(g.C, 3, { offset: 1 }), beta = randomArray(g.C, 4);
  const x = api.tensor(shape, layout, xs), dy = api.tensor(shape, layout, dys), y = api.tensor(shape, layout), dx = api.tensor(shape, layout);
  const [fwd, bwd] = OPS[op].api, o = { gamma, beta, groups: GROUPS };
  const st = fwd(x, { ...o, out: y });
  const j = jsOp(op, g), copyDst = new Float32Array(n);
  // Full-size agreement, simdnorm vs plain JS.
  const jr = j.fwd(xs, gamma, beta);
  expectClose(y.data, jr.y, 1e-3, 1e-3, `simdnorm vs js ${op} ${layout} y`);
  const jb = j.bwd(xs, dys, gamma), sb = bwd(x, dy, { ...o, mean: st.mean, invstd: st.invstd, out: dx });
  expectClose(dx.data, jb.dx, 2e-3, 2e-3, `simdnorm vs js ${op} ${layout} dx`);
  expectClose(sb.dgamma, jb.dgamma, 0.05, 1e-3, `simdnorm vs js ${op} ${layout} dgamma`);
  const systems = {
    "simdnorm fwd": [8, () => fwd(x, { ...o, out: y })],
    "simdnorm bwd": [12, () => bwd(x, dy, { ...o, mean: st.mean, invstd: st.invstd, out: dx })],
    "js fwd": [8, () => j.fwd(xs, gamma, beta)],
    "js bwd": [12, () => j.bwd(xs, dys, gamma)],
    copy: [8, () => copyDst.set(xs)],
  };
  const times = Object.fromEntries(Object.keys(systems).map((k) => [k, []]));
  for (const [, f] of Object.values(systems)) for (let i = 0; i < 2; i++) f();
  for (let r = 0; r < reps; r++) for (const [k, [, f]] of Object.entries(systems)) { const a = performance.now(); f(); times[k].push(performance.now() - a); }
  const res = Object.fromEntries(Object.entries(systems).map(([k, [bpv]]) => { const ms = med(times[k]); return [k, { ms, gbps: (bpv * n) / ms / 1e6 }]; }));
  rows.push({ op, layout, shape, res });
  for (const t of [x, dy, y, dx]) t.free();
  process.stderr.write(`  ${op} ${layout} done\r`);
}

console.log(`simdnorm ${version} family kernels: median of ${reps}, node ${process.version} (V8 ${process.versions.v8}), ${os.cpus()[0].model}, ${os.cpus().length} cores, ${os.platform()}-${os.arch()}`);
console.log(`bytes counted: forward 8/value (read x, write y), backward 12/value (read x, dy, write dx); copy = Float32Array.set of x (8/value). groups = ${GROUPS}.`);
const head = ["op", "layout", "shape", "fwd ms", "fwd GB/s", "js fwd ms", "× js", "bwd ms", "bwd GB/s", "js bwd ms", "× js", "copy GB/s"];
const table = rows.map(({ op, layout, shape, res: r }) => [
  op, layout, shape.join("×"),
  r["simdnorm fwd"].ms.toFixed(2), r["simdnorm fwd"].gbps.toFixed(1), r["js fwd"].ms.toFixed(2), (r["js fwd"].ms / r["simdnorm fwd"].ms).toFixed(1),
  r["simdnorm bwd"].ms.toFixed(2), r["simdnorm bwd"].gbps.toFixed(1), r["js bwd"].ms.toFixed(2), (r["js bwd"].ms / r["simdnorm bwd"].ms).toFixed(1),
  r.copy.gbps.toFixed(1),
]);
const w = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
console.log(head.map((h, i) => h.padStart(w[i])).join("  "));
for (const row of table) console.log(row.map((c, i) => c.padStart(w[i])).join("  "));
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
