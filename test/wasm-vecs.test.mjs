// Per-channel vectors (gamma, beta, running or saved statistics) that are views of wasm memory —
// a Tensor's `data` — given to a call that grows memory. Growth detaches every view of the old
// buffer, so a vector read after the call's first allocation read as empty: a TypeError from
// inside the library (layer and group norm, batch norm at C > 32), a misleading "has 0 values"
// (batch norm at C ≤ 32), or NaN parameters. Such vectors are read before anything is allocated
// (the values the call uses), and running statistics, which a training call writes, must be
// arrays of their own (as meanOut / dgammaOut), never wasm memory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

await api.init();

/**
 * A tensor filling all but ~1 MiB of wasm memory's free space, so that a call binding 1 MiB or
 * more must grow memory (by about 1/8: memory stays small). Free it after the call.
 */
function filler() {
  const ts = [], freeBytes = () => { const m = api.memoryStats(); return m.memoryBytes - m.allocatedBytes - m.scratchBytes; };
  while (freeBytes() > (1 << 20) + (1 << 17)) {
    const before = api.wasmMemory().buffer;
    ts.push(api.tensor([1, 1 << 14], "NC")); // 64 KiB: fits the free blocks; never grows memory by more than 1/8
    if (api.wasmMemory().buffer !== before) break;
  }
  return { free: () => { for (const t of ts) t.free(); } };
}

/** x of C channels, 2 MiB: more than the free memory filler() leaves. */
function growing(C, seed) {
  const R = Math.ceil((1 << 19) / C);
  return { x: randomArray(R * C, seed, { offset: 0.5 }), shape: [R, C], layout: "NC" };
}

/** fn must grow memory (or the test proves nothing). */
function grows(fn) {
  const f = filler(), before = api.wasmMemory().buffer;
  try {
    const r = fn();
    assert.ok(api.wasmMemory().buffer !== before, "the call did not grow memory");
    return r;
  } finally { f.free(); }
}

for (const C of [3, 40]) {
  test(`C = ${C}: gamma, beta and statistics in wasm memory, memory grown by the call: the values they held`, () => {
    const vec = (seed, o) => api.tensor([1, C], "NC", randomArray(C, seed, o));
    const gT = vec(1, { offset: 1, scale: 0.2 }), bT = vec(2), mT = vec(3), vT = vec(4, { offset: 2, scale: 0.5 });
    const g = gT.toArray(), b = bT.toArray(), m = mT.toArray(), v = vT.toArray();
    const calls = [
      ["batchNormInfer", (a, gm, bt, mu, vr) => api.batchNormInfer(a.x, { shape: a.shape, layout: a.layout, gamma: gm, beta: bt, runningMean: mu, runningVar: vr }), (r) => r],
      ["batchNormTrain", (a, gm, bt) => api.batchNormTrain(a.x, { shape: a.shape, layout: a.layout, gamma: gm, beta: bt }), (r) => r.y],
      ["batchNormBackward", (a, gm, bt, mu, vr) => api.batchNormBackward(a.x, a.x, { shape: a.shape, layout: a.layout, gamma: gm, beta: bt, saveMean: mu, saveInvstd: vr }), (r) => r.dx],
      ["layerNorm", (a, gm, bt) => api.layerNorm(a.x, { shape: a.shape, layout: a.layout, gamma: gm, beta: bt }), (r) => r.y],
      ["groupNorm", (a, gm, bt) => api.groupNorm(a.x, { shape: [a.shape[0], C, 1], layout: "NCL", groups: C, gamma: gm, beta: bt }), null],
      ["rmsNorm", (a, gm) => api.rmsNorm(a.x, { shape: a.shape, layout: a.layout, gamma: gm }), (r) => r.y],
    ];
    for (const [name, call, yOf] of calls) {
      if (!yOf) continue; // groupNorm below (S = 1 is no group norm shape for instance-style groups)
      const a = growing(C, 5);
      const got = grows(() => call(a, gT.data, bT.data, mT.data, vT.data));
      const want = call(a, g, b, m, v);
      close(yOf(got), yOf(want), 0, 0, `${name} C=${C}`);
    }
    // Group norm on (N, C, 2): two positions per channel.
    const R = Math.ceil((1 << 18) / C), x = randomArray(R * C * 2, 6);
    const o = { shape: [R, C, 2], layout: "NCL", groups: 1 };
    const got = grows(() => api.groupNorm(x, { ...o, gamma: gT.data, beta: bT.data }));
    close(got.y, api.groupNorm(x, { ...o, gamma: g, beta: b }).y, 0, 0, `groupNorm C=${C}`);
    for (const t of [gT, bT, mT, vT]) t.free();
  });
}

test("running statistics in wasm memory are refused (a training call writes them), nothing written", () => {
  const C = 3, rmT = api.tensor([1, C], "NC", new Float32Array([1, 2, 3])), rv = new Float32Array([4, 5, 6]);
  const x = randomArray(8 * C, 7), o = { shape: [8, C], layout: "NC" };
  throwsWith(() => api.batchNormTrain(x, { ...o, runningMean: rmT.data, runningVar: rv }), "runningMean is a view of wasm memory");
  throwsWith(() => api.batchNormTrain(x, { ...o, runningMean: rv, runningVar: rmT.data }), "runningVar is a view of wasm memory");
  // A view of it from before memory grew (detached, length 0): the same rule, not "has 0 values".
  const stale = rmT.data, f = filler(), big = api.tensor([1, 1 << 19], "NC");
  assert.ok(rmT.data.buffer !== stale.buffer, "memory did not grow");
  throwsWith(() => api.batchNormTrain(x, { ...o, runningMean: stale, runningVar: rv }), "runningMean is a view of wasm memory");
  big.free(); f.free();
  assert.equal(Array.from(rmT.toArray()), [1, 2, 3]);
  assert.equal(Array.from(rv), [4, 5, 6]);
  rmT.free();
});

test.run();
