// npm start: batch norm on an 8×64×56×56 NCHW activation (a ResNet stage) — training forward,
// inference and backward with simdnorm, each checked against a float64 reference and timed
// next to a plain-JS loop doing the same work.
import * as sn from "../dist/index.js";
import { refBnTrain, refBnInfer, randomArray, compare } from "../test/reference.mjs";

const shape = [8, 64, 56, 56], layout = "NCHW";
const [N, C, H, W] = shape, S = H * W, n = N * C * S;
const log = (...a) => console.log(...a);

log(`simdnorm demo — batch norm on ${layout} [${shape}] (${(n / 1e6).toFixed(2)}M values, ${(n * 4 / 2 ** 20).toFixed(1)} MiB)\n`);
let t0 = performance.now();
await sn.init();
log(`init (compile + instantiate the embedded wasm): ${(performance.now() - t0).toFixed(1)} ms`);

const xData = randomArray(n, 1, { offset: 0.5, scale: 2 }), dyData = randomArray(n, 2);
const gamma = randomArray(C, 3, { offset: 1, scale: 0.2 }), beta = randomArray(C, 4, { scale: 0.1 });
// Zero-copy: the activations live in wasm memory.
const x = sn.tensor(shape, layout, xData), dy = sn.tensor(shape, layout, dyData);
const y = sn.tensor(shape, layout), dx = sn.tensor(shape, layout);
const runningMean = new Float32Array(C), runningVar = new Float32Array(C).fill(1);

const median = (f, reps = 15) => { f(); const t = []; for (let i = 0; i < reps; i++) { const a = performance.now(); f(); t.push(performance.now() - a); } t.sort((a, b) => a - b); return t[t.length >> 1]; };

// --- plain JS, the "write it yourself" baseline (two-pass stats, per-channel scale/shift) ---
const jsY = new Float32Array(n), jsDx = new Float32Array(n);
function jsTrain(xs, ys) {
  const mean = new Float64Array(C), invstd = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0; for (let b = 0; b < N; b++) { const o = (b * C + c) * S; for (let i = 0; i < S; i++) s += xs[o + i]; }
    const m = s / (N * S); let q = 0;
    for (let b = 0; b < N; b++) { const o = (b * C + c) * S; for (let i = 0; i < S; i++) { const d = xs[o + i] - m; q += d * d; } }
    mean[c] = m; invstd[c] = 1 / Math.sqrt(q / (N * S) + 1e-5);
    const sc = gamma[c] * invstd[c], sh = beta[c] - m * sc;
    for (let b = 0; b < N; b++) { const o = (b * C + c) * S; for (let i = 0; i < S; i++) ys[o + i] = xs[o + i] * sc + sh; }
  }
  return { mean, invstd };
}
function jsInfer(xs, ys) {
  for (let c = 0; c < C; c++) {
    const sc = gamma[c] / Math.sqrt(runningVar[c] + 1e-5), sh = beta[c] - runningMean[c] * sc;
    for (let b = 0; b < N; b++) { const o = (b * C + c) * S; for (let i = 0; i < S; i++) ys[o + i] = xs[o + i] * sc + sh; }
  }
}
function jsBackward(xs, dys, st, out) {
  const m = N * S;
  for (let c = 0; c < C; c++) {
    let a = 0, b2 = 0; const mu = st.mean[c], inv = st.invstd[c];
    for (let b = 0; b < N; b++) { const o = (b * C + c) * S; for (let i = 0; i < S; i++) { a += dys[o + i]; b2 += dys[o + i] * (xs[o + i] - mu); } }
    const k = gamma[c] * inv, c1 = -k * inv * inv * b2 / m, c0 = -k * a / m;
    for (let b = 0; b < N; b++) { const o = (b * C + c) * S; for (let i = 0; i < S; i++) out[o + i] = dys[o + i] * k + (xs[o + i] - mu) * c1 + c0; }
  }
}

// --- check against the float64 reference ---
log("checking against a float64 reference …");
const ref = refBnTrain(xData, shape, layout, { gamma, beta, runningMean, runningVar, eps: 1e-5, momentum: 0.1, dy: dyData });
const rm = runningMean.slice(), rv = runningVar.slice();
const fwd = sn.batchNormTrain(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y });
const bwd = sn.batchNormBackward(x, dy, { gamma, saveMean: fwd.saveMean, saveInvstd: fwd.saveInvstd, out: dx });
const inf = sn.batchNormInfer(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y.data.length ? sn.tensor(shape, layout) : undefined });
const refInf = refBnInfer(xData, shape, layout, { gamma, beta, runningMean: rm, runningVar: rv, eps: 1e-5 });
const checks = [
  ["training y", compare(y.data, ref.y, 3e-4, 1e-4)],
  ["running mean/var", compare(rm, ref.runningMean, 1e-6, 1e-5) || compare(rv, ref.runningVar, 1e-6, 1e-5)],
  ["inference y", compare(inf.data, refInf, 3e-4, 1e-4)],
  ["backward dx", compare(dx.data, ref.dx, 3e-4, 1e-4)],
  ["dgamma, dbeta", compare(bwd.dgamma, ref.dgamma, 2e-2, 1e-4) || compare(bwd.dbeta, ref.dbeta, 2e-2, 1e-4)],
];
let ok = true;
for (const [what, r] of checks) {
  log(`  ${r ? "✘" : "✔"} ${what}${r ? `: index ${r.index} got ${r.got}, expected ${r.expected}` : ""}`);
  ok &&= !r;
}
inf.free();

// --- timings ---
log("\ntiming (median of 15) …");
const st = jsTrain(xData, jsY);
const rows = [
  ["training forward", 12, () => sn.batchNormTrain(x, { gamma, beta, runningMean: rm, runningVar: rv, out: y }), () => jsTrain(xData, jsY)],
  ["inference", 8, () => sn.batchNormInfer(x, { gamma, beta, runningMean, runningVar, out: y }), () => jsInfer(xData, jsY)],
  ["backward", 20, () => sn.batchNormBackward(x, dy, { gamma, saveMean: fwd.saveMean, saveInvstd: fwd.saveInvstd, out: dx }), () => jsBackward(xData, dyData, st, jsDx)],
];
log("op                  simdnorm ms   GB/s   plain JS ms   speed-up");
for (const [name, bpv, fs, fj] of rows) {
  const ts = median(fs), tj = median(fj, 5);
  log(`${name.padEnd(18)} ${ts.toFixed(2).padStart(11)} ${(bpv * n / ts / 1e6).toFixed(1).padStart(6)} ${tj.toFixed(2).padStart(13)} ${(tj / ts).toFixed(1).padStart(9)}×`);
}
for (const t of [x, dy, y, dx]) t.free();
log(`\nMore: npm run demo:mlp (Keras' "where does BatchNormalization go?" MLP), npm run bench (vs tfjs and onnxruntime),`);
log(`examples/browser/ (image statistics in a page), npm run conformance -- DIR (golden cases).`);
if (!ok) { console.error("\nsimdnorm disagreed with the reference"); process.exit(1); }
