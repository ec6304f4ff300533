// Instance and group norm channels-last at wide and odd C: the group statistics merged per run of
// channels (js/ops/family/views.ts mergeGroups) and gamma / beta checked in wasm memory
// (lnParams) before any kernel runs. Against the float64 reference, with gamma / beta as
// Float32Array, Float64Array, number[] or absent; bad elements throw naming the element and
// leave every argument untouched.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refInstanceNorm, refGroupNorm, randomArray } from "./reference.mjs";
import { close, throwsUntouched } from "./helpers.mjs";

await api.init();

// [C, groups]: odd C (one group, C groups, odd group sizes), wide C (32 groups, one channel each).
const CASES = [[7, 7], [7, 1], [65, 5], [256, 32], [255, 17], [768, 32], [1025, 41], [1024, 1024]];
const KINDS = {
  f32: (v) => Float32Array.from(v),
  f64: (v) => Float64Array.from(v),
  array: (v) => Array.from(v),
  none: () => undefined,
};

/** groups for groupNorm; absent (undefined) for instanceNorm, which refuses it. */
const own = (name, groups) => (name === "groupNorm" ? groups : undefined);

for (const [name, fwd, ref] of [["groupNorm", api.groupNorm, refGroupNorm], ["instanceNorm", api.instanceNorm, refInstanceNorm]]) {
  test(`${name} NHWC at wide and odd C equals the reference (gamma/beta f32, f64, number[], absent)`, () => {
    for (const [C, G] of CASES) {
      const groups = name === "instanceNorm" ? C : G;
      for (const [N, S] of [[1, 9], [2, 3]]) {
        for (const [kind, make] of Object.entries(KINDS)) {
          const shape = [N, 1, S, C], x = randomArray(N * S * C, C + S, { offset: C % 2 ? 3 : 0 });
          const g0 = randomArray(C, 5, { offset: 1, scale: 0.3 }), b0 = randomArray(C, 6);
          const gamma = make(g0), beta = make(b0);
          const r = fwd(x, { shape, layout: "NHWC", groups: own(name, groups), gamma, beta });
          const e = ref(x, null, shape, "NHWC", { groups, eps: 1e-5, gamma: gamma && g0.map((v) => Math.fround(v)), beta: beta && b0.map((v) => Math.fround(v)) });
          const what = `${name} C=${C} groups=${groups} N=${N} S=${S} ${kind}`;
          close(r.y, e.y, 2e-4, 2e-4, `${what} y`, shape, "NHWC");
          close(r.mean, e.mean, 1e-5, 1e-5, `${what} mean`);
          close(r.invstd, e.invstd, 1e-5, 1e-4, `${what} invstd`);
        }
      }
    }
  });

  test(`${name} NHWC: a non-finite gamma or beta element throws naming it, nothing written`, () => {
    const C = 768, groups = name === "instanceNorm" ? C : 32, shape = [1, 1, 4, C];
    for (const [which, at, v] of [["gamma", 0, NaN], ["gamma", C - 1, Infinity], ["beta", 5, -Infinity], ["beta", C - 1, NaN]]) {
      for (const kind of ["f32", "f64", "array"]) {
        const make = () => {
          const gamma = randomArray(C, 1, { offset: 1 }), beta = randomArray(C, 2);
          (which === "gamma" ? gamma : beta)[at] = v;
          return { x: randomArray(4 * C, 3), out: new Float32Array(4 * C).fill(7), meanOut: new Float32Array(groups).fill(5), gamma, beta };
        };
        throwsUntouched(make, (a) => fwd(a.x, { shape, layout: "NHWC", groups: own(name, groups), gamma: KINDS[kind](a.gamma), beta: KINDS[kind](a.beta), out: a.out, meanOut: a.meanOut }), `${which}[${at}] is`);
      }
    }
  });
}

test.run();
