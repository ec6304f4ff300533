// Instance and group norm backward on data near zero (|mean| ≤ std: the near-zero rule, m = 0 in
// the kernels) and rows around where the rule starts (128 values): dx, dgamma, dbeta against the
// float64 reference, within a few f32 ulps of the largest value, channels-first and -last.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refInstanceNorm, refGroupNorm, randomArray } from "./reference.mjs";

await api.init();

/** max |got − want| over max |want|. */
function relErr(got, want) {
  let e = 0, m = 0;
  for (let i = 0; i < want.length; i++) { e = Math.max(e, Math.abs(got[i] - want[i])); m = Math.max(m, Math.abs(want[i])); }
  return e / m;
}

function check(op, layout, N, C, H, W, offset, seed) {
  const shape = layout === "NHWC" ? [N, H, W, C] : [N, C, H, W];
  const groups = op === "instance" ? C : C % 4 === 0 ? C / 4 : 1;
  const x = randomArray(N * C * H * W, seed, { offset, scale: 1 + (seed % 3) }), dy = randomArray(x.length, seed + 1);
  const gamma = randomArray(C, seed + 2, { offset: 1, scale: 0.3 });
  const fwd = op === "instance" ? api.instanceNorm : api.groupNorm, bwd = op === "instance" ? api.instanceNormBackward : api.groupNormBackward;
  const ref = (op === "instance" ? refInstanceNorm : refGroupNorm)(x, dy, shape, layout, { gamma, eps: 1e-5, groups });
  const own = op === "instance" ? {} : { groups }; // groups is group norm's option alone
  const f = fwd(x, { shape, layout, ...own, eps: 1e-5 });
  const b = bwd(x, dy, { shape, layout, ...own, gamma, mean: f.mean, invstd: f.invstd });
  const where = `${op} ${layout} ${shape.join("×")} offset ${offset}`;
  // Measured over these shapes: dx ≤ 3.4e-7, dgamma ≤ 1.9e-6, dbeta ≤ 1.5e-6 of the largest
  // value, with the rule or without; a mean off by 0.1 % gives dx 1.3e-4, dgamma 4e-3.
  for (const [k, tol] of [["dx", 1e-6], ["dgamma", 4e-6], ["dbeta", 4e-6]]) {
    const e = relErr(b[k], ref[k]);
    assert.ok(e <= tol, `${where}: ${k} off by ${e.toExponential(2)} of its largest value (> ${tol})`);
  }
}

for (const op of ["instance", "group"]) {
  for (const layout of ["NCHW", "NHWC"]) {
    test(`${op} norm backward ${layout}, data near zero: rows of 127 … 4097 values, C = 1 … 64`, () => {
      let seed = 1;
      for (const [H, W] of [[1, 127], [1, 128], [1, 129], [15, 17], [32, 32], [1, 4097]]) {
        for (const C of [1, 2, 3, 4, 8, 15, 16, 17, 64]) {
          if (H * W * C > 1 << 17) continue;
          for (const offset of [0, 0.5]) check(op, layout, 1 + (seed % 2), C, H, W, offset, seed++);
        }
      }
    });
  }
}

test.run();
