// The floor under the per-call cost: what a zero-copy call costs when the JS layer does only the
// work it cannot skip. Each op at 2048 values is timed as a ladder, all rungs interleaved batch
// by batch in one process (CPU time, median of the batches):
//   bare call   — one exported wasm function that returns at once (bn_params_check_f64 of 0 values)
//   kernels     — the op's data kernels on pre-resolved pointers (what bench/percall.mjs calls
//                 "kernels alone")
//   + per-chan  — … and the op's per-channel kernels (finish, parameters, vector check, running
//                 update): wasm work bench/percall.mjs counts in the "JS layer"
//   floor       — … and the JS work no wrapper can skip with these results: per-channel vectors
//                 copied into wasm memory, result arrays made and filled, running statistics
//                 copied back (no validation, no scope, no dispatch)
//   API         — the public call (Tensor in, `out` Tensor given)
// API − floor is what validation, binding, the scope and dispatch cost; floor − kernels is the
// cost of the call's contract (vectors in, fresh results out) that no JS layer avoids.
//
//   node bench/percall-floor.mjs [--rounds 30] [--calls 2000] [--C 16]
import { readFileSync } from "node:fs";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { rounds: "30", calls: "2000", C: "16" });
const ROUNDS = +opts.rounds, CALLS = +opts.calls, C = +opts.C, V = 2048, S = V / C, ROW = 2048;
const api = await import("../dist/index.js");
await api.init({ warmup: true });

// A second instance of the same build: data and parameters at fixed offsets (pointers resolved once).
const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))), { env: { abort() { throw new Error("abort"); } } }).exports;
raw.memory.grow(64);
const F32 = new Float32Array(raw.memory.buffer), F64 = new Float64Array(raw.memory.buffer);
const X = 1 << 20, Y = X + (1 << 16), D = Y + (1 << 16), K = D + (1 << 16), Z = K + (1 << 16), P = 2 << 20;
const at = (i) => P + i * 65536;
const vs = at(0), acc = at(1), st = at(2), pp = at(3), sv = at(4), pk = at(5), gr = at(6), lg = at(7), lm = at(8), lr = at(9), cacc = at(10), scr = at(11);
F32.set(randomArray(V, 3), X >>> 2); F32.set(randomArray(V, 4), D >>> 2); F32.set(randomArray(V, 6), K >>> 2);

const gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.1), runningMean = new Float32Array(C), runningVar = new Float32Array(C).fill(1);
const saveMean = new Float32Array(C), saveInvstd = new Float32Array(C).fill(1);
const lnG = new Float32Array(ROW).fill(1.5), lnB = new Float32Array(ROW).fill(0.1), dgammaOut = new Float32Array(ROW), dbetaOut = new Float32Array(ROW);

/** v (C values) into F64 at index o: four a step for a few, the native copy beyond (as js/ops/bn-vecs.ts copyIn). */
function copyIn(v, o) {
  if (C > 32) { F64.set(v, o); return; }
  let c = 0;
  for (; c + 4 <= C; c += 4) { F64[o + c] = v[c]; F64[o + c + 1] = v[c + 1]; F64[o + c + 2] = v[c + 2]; F64[o + c + 3] = v[c + 3]; }
  for (; c < C; c++) F64[o + c] = v[c];
}
/** n Float32Array results of C values from F32 at index o: separate on-heap arrays up to 16 values, else views of one store filled natively (as js/core/typed.ts resultsAt). */
function results(o, n) {
  const out = new Array(n);
  if (C > 16) {
    const all = new Float32Array(n * C);
    all.set(new Float32Array(raw.memory.buffer, 4 * o, n * C));
    for (let i = 0; i < n; i++) out[i] = new Float32Array(all.buffer, 4 * i * C, C);
    return out;
  }
  for (let i = 0; i < n; i++) { const r = new Float32Array(C); for (let j = 0; j < C; j++) r[j] = F32[o + i * C + j]; out[i] = r; }
  return out;
}
const vecs = (a, b, c, d) => { copyIn(a, vs >>> 3); copyIn(b, (vs >>> 3) + C); copyIn(c, (vs >>> 3) + 2 * C); copyIn(d, (vs >>> 3) + 3 * C); };
const stats = () => { F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * C); raw.bn_stats_f32_cf(1, C, S, X, acc, scr); };
const vp = (i) => vs + 8 * C * i;

// Each op: [kernels, + per-channel kernels, floor, API].
const ops = {
  batchNormTrain: [
    () => { stats(); raw.bn_normalize_f32_cf(1, C, S, X, pp, pp + 4 * C, pp + 8 * C, Y); },
    () => { raw.bn_params_check_f64(4 * C, vs, 3 * C); stats(); raw.bn_params_finish_f64(C, acc, st); raw.bn_params_f32(C, st, st + 8 * C, vp(0), vp(1), 1e-5, pp, pp + 4 * C, pp + 8 * C, sv); raw.bn_normalize_f32_cf(1, C, S, X, pp, pp + 4 * C, pp + 8 * C, Y); raw.bn_params_running_f64(C, vp(2), vp(3), st, st + 16 * C, 0.9, 0.1, 1); },
    () => {
      vecs(gamma, beta, runningMean, runningVar);
      if (raw.bn_params_check_f64(4 * C, vs, 3 * C) >= 0) throw new Error("check");
      stats(); raw.bn_params_finish_f64(C, acc, st); raw.bn_params_f32(C, st, st + 8 * C, vp(0), vp(1), 1e-5, pp, pp + 4 * C, pp + 8 * C, sv);
      raw.bn_normalize_f32_cf(1, C, S, X, pp, pp + 4 * C, pp + 8 * C, Y);
      const [saveMean, saveInvstd, v] = results(sv >>> 2, 3);
      raw.bn_params_running_f64(C, vp(2), vp(3), st, st + 16 * C, 0.9, 0.1, 1);
      if (C > 32) { runningMean.set(new Float32Array(raw.memory.buffer, vp(2), C)); runningVar.set(new Float32Array(raw.memory.buffer, vp(3), C)); }
      else for (let c = 0; c < C; c++) { runningMean[c] = F32[(vp(2) >>> 2) + c]; runningVar[c] = F32[(vp(3) >>> 2) + c]; }
      return { saveMean, saveInvstd, var: v };
    },
  ],
  batchNormBackward: [
    () => { F64.fill(0, acc >>> 3, (acc >>> 3) + 2 * C); raw.bn_backward_reduce_f32_cf(1, C, S, X, D, pp, acc); raw.bn_backward_dx_f32_cf(1, C, S, X, D, pp, pk, pk + 4 * C, pk + 8 * C, Y); },
    () => {
      raw.bn_params_check_f64(2 * C, vs, 2 * C); raw.bn_params_f32(C, vp(2), vp(3), 0, 0, -1, pp, pp + 4 * C, pp + 8 * C, 0);
      F64.fill(0, acc >>> 3, (acc >>> 3) + 2 * C); raw.bn_backward_reduce_f32_cf(1, C, S, X, D, pp, acc);
      raw.bn_params_backward_f32(C, acc, vp(2), vp(3), vp(0), 0, S, pp, pk, pk + 4 * C, pk + 8 * C, gr);
      raw.bn_backward_dx_f32_cf(1, C, S, X, D, pp, pk, pk + 4 * C, pk + 8 * C, Y);
    },
    () => {
      copyIn(gamma, vs >>> 3); copyIn(saveMean, (vs >>> 3) + 2 * C); copyIn(saveInvstd, (vs >>> 3) + 3 * C);
      if (raw.bn_params_check_f64(2 * C, vs, 2 * C) >= 0) throw new Error("check");
      raw.bn_params_f32(C, vp(2), vp(3), 0, 0, -1, pp, pp + 4 * C, pp + 8 * C, 0);
      F64.fill(0, acc >>> 3, (acc >>> 3) + 2 * C); raw.bn_backward_reduce_f32_cf(1, C, S, X, D, pp, acc);
      raw.bn_params_backward_f32(C, acc, vp(2), vp(3), vp(0), 0, S, pp, pk, pk + 4 * C, pk + 8 * C, gr);
      raw.bn_backward_dx_f32_cf(1, C, S, X, D, pp, pk, pk + 4 * C, pk + 8 * C, Y);
      const [dgamma, dbeta] = results(gr >>> 2, 2);
      return { dgamma, dbeta };
    },
  ],
  layerNorm: [
    () => raw.ln_forward_f32_cl(1, ROW, X, lg, lg + 4 * ROW, Y, lm, lr, 1e-5, 0),
    () => { raw.vec_finite_f32(2 * ROW, lg); raw.ln_forward_f32_cl(1, ROW, X, lg, lg + 4 * ROW, Y, lm, lr, 1e-5, 0); },
    () => {
      F32.set(lnG, lg >>> 2); F32.set(lnB, (lg >>> 2) + ROW);
      if (raw.vec_finite_f32(2 * ROW, lg) >= 0) throw new Error("check");
      raw.ln_forward_f32_cl(1, ROW, X, lg, lg + 4 * ROW, Y, lm, lr, 1e-5, 0);
      const mean = new Float32Array(1), invstd = new Float32Array(1);
      mean[0] = F32[lm >>> 2]; invstd[0] = F32[lr >>> 2];
      return { mean, invstd };
    },
  ],
  "layerNormBackward (dgammaOut, dbetaOut)": [
    () => raw.ln_backward_rows_f32_cl(1, ROW, X, D, lm, lr, Z, lg, lg + 4 * ROW, Y, cacc, scr, 0),
    () => { raw.vec_finite_f32(2 * ROW, lg); raw.ln_backward_rows_f32_cl(1, ROW, X, D, lm, lr, Z, lg, lg + 4 * ROW, Y, cacc, scr, 0); },
    () => {
      F32.set(lnG, lg >>> 2); F32.set(lnB, (lg >>> 2) + ROW);
      if (raw.vec_finite_f32(2 * ROW, lg) >= 0) throw new Error("check");
      raw.ln_backward_rows_f32_cl(1, ROW, X, D, lm, lr, Z, lg, lg + 4 * ROW, Y, cacc, scr, 0);
      dgammaOut.set(new Float32Array(raw.memory.buffer, cacc + 4 * ROW, ROW)); dbetaOut.set(new Float32Array(raw.memory.buffer, cacc, ROW));
      return { dgamma: dgammaOut, dbeta: dbetaOut };
    },
  ],
};

// The API calls (Tensors, `out` given), as bench/percall.mjs makes them.
const cf = [1, C, 1, S], rs = [1, ROW];
const x = api.tensor(cf, "NCHW", randomArray(V, 1)), y = api.tensor(cf, "NCHW"), dy = api.tensor(cf, "NCHW", randomArray(V, 2));
const r = api.tensor(rs, "NC", randomArray(ROW, 5)), ry = api.tensor(rs, "NC"), rd = api.tensor(rs, "NC", randomArray(ROW, 7));
const ln = api.layerNorm(r, { gamma: lnG, beta: lnB, out: ry });
ops.batchNormTrain.push(() => api.batchNormTrain(x, { gamma, beta, runningMean, runningVar, out: y }));
ops.batchNormBackward.push(() => api.batchNormBackward(x, dy, { gamma, saveMean, saveInvstd, out: y }));
ops.layerNorm.push(() => api.layerNorm(r, { gamma: lnG, beta: lnB, out: ry }));
ops["layerNormBackward (dgammaOut, dbetaOut)"].push(() => api.layerNormBackward(r, rd, { gamma: lnG, beta: lnB, mean: ln.mean, invstd: ln.invstd, out: ry, dgammaOut, dbetaOut }));

/** Mean µs a call over CALLS calls, CPU time of the process. */
function batch(fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / CALLS;
}

const bare = () => raw.bn_params_check_f64(0, vs, 0);
const f = (v) => v.toFixed(2);
console.log(`per-call floor, 2048 values (NCHW (1, ${C}, 1, ${S}); rows of ${ROW}), CPU time, median of ${ROUNDS} batches of ${CALLS} calls (Node ${process.versions.node}):`);
console.log("| op | bare wasm call | kernels | + per-channel kernels | floor | API | API − floor | floor − kernels |\n|---|---|---|---|---|---|---|---|");
for (const [name, rungs] of Object.entries(ops)) {
  const fns = [bare, ...rungs], t = fns.map(() => []);
  for (const fn of fns) for (let i = 0; i < 200; i++) fn();
  for (let k = 0; k < ROUNDS; k++) fns.forEach((fn, i) => t[i].push(batch(fn)));
  const m = t.map(median);
  console.log(`| ${name} | ${f(m[0])} | ${f(m[1])} | ${f(m[2])} | ${f(m[3])} | ${f(m[4])} | ${f(m[4] - m[3])} | ${f(m[3] - m[1])} |`);
}
