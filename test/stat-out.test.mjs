// Statistic outputs of the forwards (meanOut, invstdOut; invRmsOut): the caller's Float32Arrays
// receive exactly the values a call without them returns — layer, RMS, skip, instance and group
// norm, rows and channels-first — and are returned themselves; bad ones (wrong kind or length,
// a view of wasm memory, one array for both statistics, an input or out itself) are refused
// naming them, with nothing written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { throwsUntouched, throwsWith } from "./helpers.mjs";

await api.init();

/** [name, call(opts), the statistics it returns (result field, option), statistics count]. */
function ops(x, skip, shape, layout, C, K) {
  const gamma = randomArray(C, 3, { offset: 1, scale: 0.3 }), beta = randomArray(C, 4), base = { shape, layout, gamma };
  const ln = [["mean", "meanOut"], ["invstd", "invstdOut"]], rms = [["invRms", "invRmsOut"]];
  const r = [
    ["layerNorm", (o) => api.layerNorm(x, { ...base, beta, activation: "silu", ...o }), ln, K.rows],
    ["rmsNorm", (o) => api.rmsNorm(x, { ...base, ...o }), rms, K.rows],
    ["skipLayerNorm", (o) => api.skipLayerNorm(x, skip, { ...base, beta, ...o }), ln, K.rows],
    ["skipRmsNorm", (o) => api.skipRmsNorm(x, skip, { ...base, ...o }), rms, K.rows],
  ];
  if (K.inst) {
    r.push(["instanceNorm", (o) => api.instanceNorm(x, { ...base, beta, ...o }), ln, K.inst]);
    r.push(["groupNorm", (o) => api.groupNorm(x, { ...base, beta, groups: K.G, ...o }), ln, K.grp]);
  }
  return r;
}

test("given statistic outputs receive the values a call without them returns, and are returned", () => {
  for (const C of [1, 4, 7, 16, 17]) {
    const G = C % 2 ? 1 : 2;
    for (const [layout, shape, K] of [
      ["NC", [3, C], { rows: 3 }],
      ["NLC", [2, 5, C], { rows: 10 }],
      ["NCL", [2, C, 5], { rows: 10, inst: 2 * C, grp: 2 * G, G }],
      ["NHWC", [2, 3, 2, C], { rows: 12, inst: 2 * C, grp: 2 * G, G }],
      ["NCHW", [1, C, 3, 3], { rows: 9, inst: C, grp: G, G }],
    ]) {
      const n = shape.reduce((a, b) => a * b, 1), x = randomArray(n, C, { offset: 2 }), skip = randomArray(n, C + 1);
      for (const [name, call, stats, k] of ops(x, skip, shape, layout, C, K)) {
        const fresh = call({});
        const given = Object.fromEntries(stats.map(([, opt]) => [opt, new Float32Array(k).fill(NaN)]));
        const r = call(given);
        for (const [f, opt] of stats) {
          assert.ok(r[f] === given[opt], `${name} ${layout} C=${C}: ${f} is not the given array`);
          assert.equal(Array.from(r[f]), Array.from(fresh[f]), `${name} ${layout} C=${C}: ${f}`);
        }
        assert.equal(Array.from(r.y), Array.from(fresh.y), `${name} ${layout} C=${C}: y`);
        // One given, the other made.
        const [f0, opt0] = stats[stats.length - 1], one = call({ [opt0]: new Float32Array(k) });
        for (const [f] of stats) assert.equal(Array.from(one[f]), Array.from(fresh[f]), `${name} ${layout} C=${C}: ${f} with ${opt0} only`);
        assert.ok(one[f0] !== fresh[f0]);
      }
    }
  }
});

test("the other norm's statistic options are refused (not ignored), nothing written", () => {
  const C = 5, shape = [4, C], x = randomArray(4 * C, 1), keep = new Float32Array(4).fill(7);
  throwsWith(() => api.rmsNorm(x, { shape, layout: "NC", meanOut: keep, invstdOut: keep }), 'unknown option "meanOut"');
  throwsWith(() => api.skipLayerNorm(x, x.slice(), { shape, layout: "NC", invRmsOut: keep }), 'unknown option "invRmsOut"');
  throwsWith(() => api.skipRmsNorm(x, x.slice(), { shape, layout: "NC", invstdOut: keep }), 'unknown option "invstdOut"');
  assert.ok(keep.every((v) => v === 7));
});

test("bad statistic outputs are refused naming them, nothing written", () => {
  const C = 6, shape = [2, C, 4], layout = "NCL", x = randomArray(2 * C * 4, 7);
  const wasm = api.tensor([1, 8], "NC");
  const calls = [
    ["layerNorm", (o) => api.layerNorm(x, { shape, layout, ...o }), 8],
    ["instanceNorm", (o) => api.instanceNorm(x, { shape, layout, ...o }), 12],
    ["groupNorm", (o) => api.groupNorm(x, { shape, layout, groups: 3, ...o }), 6],
  ];
  for (const [name, call, K] of calls) {
    const cases = [
      [{ meanOut: new Float64Array(K) }, `meanOut must be a Float32Array of ${K} values`, `got a Float64Array of ${K} values`],
      [{ invstdOut: new Float32Array(K + 1) }, `invstdOut has ${K + 1} values, the op has ${K} statistics`],
      [{ meanOut: new Proxy(new Float32Array(K), {}) }, "meanOut must be a Float32Array", "posing as a typed array"],
      [{ invstdOut: Array(K).fill(0) }, "invstdOut must be a Float32Array", `an Array of ${K} values`],
    ];
    if (K === 8) cases.push([{ meanOut: wasm.data }, "meanOut is a view of wasm memory"]);
    for (const [o, ...msg] of cases) {
      throwsUntouched(() => ({ out: new Float32Array(x.length).fill(3), keep: new Float32Array(K).fill(5) }),
        (a) => call({ out: a.out, invstdOut: a.keep, ...o }), ...msg);
    }
    throwsUntouched(() => ({ same: new Float32Array(K).fill(2), out: new Float32Array(x.length).fill(3) }),
      (a) => call({ out: a.out, meanOut: a.same, invstdOut: a.same }), "invstdOut is the same array as another statistic output");
  }
  // An input or out of the statistics' length given as an output.
  const xs = randomArray(8, 2), out = new Float32Array(8).fill(4);
  throwsUntouched(() => ({ out }), (a) => api.layerNorm(xs, { shape: [8, 1], layout: "NC", out: a.out, meanOut: a.out }), "meanOut is the same array as an input or out");
  throwsUntouched(() => ({ xs }), (a) => api.rmsNorm(a.xs, { shape: [8, 1], layout: "NC", invRmsOut: a.xs }), "invRmsOut is the same array as an input or out");
  // Arrays over one buffer: overlapping the other statistic or out (y, copied out after the
  // statistics: it overwrote them) is refused as the same array is; side by side is fine.
  const buf = new Float32Array(32).fill(4), at = (i, n) => new Float32Array(buf.buffer, 4 * i, n), o = { shape: [8, 1], layout: "NC" };
  throwsUntouched(() => ({ buf }), () => api.layerNorm(xs, { ...o, meanOut: at(0, 8), invstdOut: at(7, 8) }), "invstdOut is the same array as another statistic output or overlaps it");
  throwsUntouched(() => ({ buf }), () => api.layerNorm(xs, { ...o, out: at(0, 8), meanOut: at(4, 8) }), "meanOut is the same array as an input or out, or overlaps one");
  throwsUntouched(() => ({ buf }), () => api.skipRmsNorm(xs, xs.slice(), { ...o, sumOut: at(8, 8), invRmsOut: at(15, 8) }), "invRmsOut is the same array as an input or out, or overlaps one");
  const fresh = api.layerNorm(xs, o), r = api.layerNorm(xs, { ...o, out: at(16, 8), meanOut: at(0, 8), invstdOut: at(8, 8) });
  assert.equal(Array.from(r.mean), Array.from(fresh.mean));
  assert.equal(Array.from(r.invstd), Array.from(fresh.invstd));
  assert.equal(Array.from(r.y), Array.from(fresh.y));
  wasm.free();
});

test.run();
