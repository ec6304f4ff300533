// Activation epilogues on the per-channel normalize ops (batch norm training, inference and
// both backwards; instance and group norm): against the float64 reference with the activation
// applied (forward) and taken through (backward), every layout, C and S around the SIMD tails,
// in-place gradients (dx over dy, dx over x).
import { test } from "uvu";
import * as api from "../dist/index.js";
import { refBnTrain, refBnInfer, refBnBackward, refBnBackwardEval, refGroupNorm, refInstanceNorm, refWithAct, act, dact, randomArray, geometry } from "./reference.mjs";
import { shapeFor, close } from "./helpers.mjs";

await api.init();
const LAYOUTS = ["NC", "NCL", "NCHW", "NCDHW", "NLC", "NHWC", "NDHWC"];
const EDGE = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65];
const ACTS = ["relu", "relu6", "silu", "gelu", "gelu_tanh"];

function setup(layout, N, C, S, seed) {
  const shape = shapeFor(layout, N, C, layout === "NC" ? 1 : S), g = geometry(shape, layout), n = g.N * g.C * g.S;
  return {
    shape, g, x: randomArray(n, seed, { offset: 0.3, scale: 2 }), dy: randomArray(n, seed + 1),
    gamma: randomArray(C, seed + 2, { offset: 1, scale: 0.5 }), beta: randomArray(C, seed + 3, { scale: 0.5 }),
    rm: randomArray(C, seed + 4, { scale: 0.3 }), rv: randomArray(C, seed + 5, { offset: 1.5, scale: 0.2 }).map(Math.abs),
  };
}

function checkBn(layout, N, C, S, seed, activation) {
  const d = setup(layout, N, C, S, seed), { shape } = d, eps = 1e-5, m = Math.sqrt(d.x.length / C);
  const what = `${layout} C=${C} S=${S} ${activation}`;
  if (d.g.N * d.g.S > 1) {
    const e = refBnTrain(d.x, shape, layout, { gamma: d.gamma, beta: d.beta, eps, momentum: 0.1, runningMean: d.rm, runningVar: d.rv });
    const r = api.batchNormTrain(d.x, { shape, layout, gamma: d.gamma, beta: d.beta, eps, activation, runningMean: d.rm.slice(), runningVar: d.rv.slice() });
    close(r.y, e.y.map((v) => act(activation, v)), 2e-4, 1e-4, `bn train ${what} y`, shape, layout);
    const gy = Float64Array.from(d.dy, (v, i) => v * dact(activation, e.y[i]));
    const eb = refBnBackward(d.x, gy, shape, layout, { gamma: d.gamma, saveMean: e.saveMean, saveInvstd: e.saveInvstd });
    const dy = d.dy.slice();
    const b = api.batchNormBackward(d.x, dy, { shape, layout, gamma: d.gamma, beta: d.beta, activation, saveMean: r.saveMean, saveInvstd: r.saveInvstd, out: dy });
    close(dy, eb.dx, 1e-3, 1e-3, `bn backward ${what} dx (over dy)`, shape, layout);
    close(b.dgamma, eb.dgamma, 2e-4 * m, 1e-4, `bn backward ${what} dgamma`, shape, layout);
    close(b.dbeta, eb.dbeta, 2e-4 * m, 1e-4, `bn backward ${what} dbeta`, shape, layout);
  }
  const pi = { gamma: d.gamma, beta: d.beta, eps, runningMean: d.rm, runningVar: d.rv };
  const yi = refBnInfer(d.x, shape, layout, pi);
  close(api.batchNormInfer(d.x, { shape, layout, ...pi, activation }), yi.map((v) => act(activation, v)), 2e-5, 1e-4, `bn infer ${what}`, shape, layout);
  const gy = Float64Array.from(d.dy, (v, i) => v * dact(activation, yi[i]));
  const ee = refBnBackwardEval(d.x, gy, shape, layout, pi), x = d.x.slice();
  const be = api.batchNormBackwardEval(x, d.dy, { shape, layout, ...pi, activation, out: x });
  close(x, ee.dx, 1e-4, 1e-4, `bn backward eval ${what} dx (over x)`, shape, layout);
  close(be.dgamma, ee.dgamma, 1e-4 * m, 1e-4, `bn backward eval ${what} dgamma`, shape, layout);
}

function checkGroup(op, layout, N, C, S, seed, activation) {
  const d = setup(layout, N, C, S, seed), { shape } = d, eps = 1e-5, m = Math.sqrt(d.x.length / C);
  if (op === "instance" && d.g.S === 1) return;
  const groups = op === "instance" ? undefined : [1, 2, 4, 8].filter((q) => C % q === 0).pop();
  const [fwd, bwd, ref] = op === "instance" ? [api.instanceNorm, api.instanceNormBackward, refInstanceNorm] : [api.groupNorm, api.groupNormBackward, refGroupNorm];
  const p = { gamma: d.gamma, beta: d.beta, eps, groups, activation };
  const e = refWithAct(ref, d.x, d.dy, shape, layout, p);
  const r = fwd(d.x, { shape, layout, ...p });
  const what = `${op} ${layout} C=${C} S=${S} ${activation}`;
  close(r.y, e.y, 2e-4, 1e-4, `${what} y`, shape, layout);
  const b = bwd(d.x, d.dy, { shape, layout, ...p, mean: r.mean, invstd: r.invstd });
  close(b.dx, e.dx, 1e-3, 1e-3, `${what} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 2e-4 * m, 1e-4, `${what} dgamma`, shape, layout);
  close(b.dbeta, e.dbeta, 2e-4 * m, 1e-4, `${what} dbeta`, shape, layout);
}

test("batch norm (train, infer, backward, eval backward) with every activation: C, S around the SIMD tails", () => {
  for (const layout of LAYOUTS) {
    for (const C of EDGE) {
      checkBn(layout, 1 + (C % 3), C, EDGE[(C * 5) % EDGE.length], C, ACTS[C % ACTS.length]);
      checkBn(layout, 2, EDGE[(C * 3) % EDGE.length], C, C + 50, ACTS[(C + 2) % ACTS.length]);
    }
  }
});

test("instance and group norm with every activation: C, S around the SIMD tails, every layout", () => {
  for (const layout of LAYOUTS) {
    for (const C of EDGE) {
      for (const op of ["instance", "group"]) checkGroup(op, layout, 1 + (C % 3), C, EDGE[(C * 7) % EDGE.length], C * 3, ACTS[(C + op.length) % ACTS.length]);
    }
  }
  checkGroup("group", "NCHW", 2, 64, 1100, 1, "silu"); // rows longer than one 1024-value chunk
  checkGroup("group", "NHWC", 1, 1100, 3, 2, "gelu");  // channels-last rows longer than a chunk
});

test("large channels-first tensors (the fused per-channel kernels' size): backward through the activation", () => {
  // 2 channels × 4,194,304 values (32 MiB): batch norm's and instance norm's backwards take
  // their fused per-channel path with dy replaced by dy·act'(v); checked per channel in float64.
  const C = 2, S = 1 << 22, shape = [1, C, 4, S / 4], n = C * S;
  const x = randomArray(n, 91, { offset: 0.5, scale: 1.5 }), dy = randomArray(n, 92);
  const gamma = Float32Array.of(1.3, 0.7), beta = Float32Array.of(0.2, -0.4);
  for (const op of ["bn", "instance"]) {
    const f = op === "bn"
      ? api.batchNormTrain(x, { shape, layout: "NCHW", gamma, beta, activation: "silu" })
      : api.instanceNorm(x, { shape, layout: "NCHW", gamma, beta, activation: "silu" });
    const mean = op === "bn" ? f.saveMean : f.mean, inv = op === "bn" ? f.saveInvstd : f.invstd;
    const b = op === "bn"
      ? api.batchNormBackward(x, dy, { shape, layout: "NCHW", gamma, beta, activation: "silu", saveMean: mean, saveInvstd: inv })
      : api.instanceNormBackward(x, dy, { shape, layout: "NCHW", gamma, beta, activation: "silu", mean, invstd: inv });
    for (let c = 0; c < C; c++) {
      let sg = 0, sgx = 0;
      const o = c * S;
      for (let i = 0; i < S; i++) {
        const xh = (x[o + i] - mean[c]) * inv[c], g = dy[o + i] * dact("silu", xh * gamma[c] + beta[c]);
        sg += g; sgx += g * xh;
      }
      for (const i of [0, 1, 12345, S - 1]) {
        const xh = (x[o + i] - mean[c]) * inv[c], g = dy[o + i] * dact("silu", xh * gamma[c] + beta[c]);
        const e = gamma[c] * inv[c] * (g - sg / S - xh * sgx / S);
        if (Math.abs(b.dx[o + i] - e) > 1e-3 + 1e-3 * Math.abs(e)) throw new Error(`${op} dx[${o + i}] = ${b.dx[o + i]}, expected ${e}`);
      }
      if (Math.abs(b.dbeta[c] - sg) > 1e-3 * (1 + Math.abs(sg)) + 0.5) throw new Error(`${op} dbeta[${c}] = ${b.dbeta[c]}, expected ${sg}`);
      if (Math.abs(b.dgamma[c] - sgx) > 1e-3 * (1 + Math.abs(sgx)) + 0.5) throw new Error(`${op} dgamma[${c}] = ${b.dgamma[c]}, expected ${sgx}`);
    }
  }
});

test.run();
