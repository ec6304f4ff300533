// After 10,000 calls of every op (plain arrays and zero-copy tensors), wasm memory is back at
// its baseline: no temporary is leaked and memory does not keep growing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { randomArray, refBnTrain, compare } from "./reference.mjs";

await api.init();
const shape = [2, 3, 5, 5], layout = "NCHW", C = 3;
const x = randomArray(150, 1), dy = randomArray(150, 2);
const p = { gamma: [1, 2, 3], beta: [0, 0, 1], runningMean: new Float32Array(C), runningVar: Float32Array.of(1, 1, 1) };

function ops(xx, dyy, geo) {
  const r = api.batchNormTrain(xx, { ...geo, gamma: p.gamma, beta: p.beta, runningMean: p.runningMean, runningVar: p.runningVar });
  const y = api.batchNormInfer(xx, { ...geo, ...p });
  const b = api.batchNormBackward(xx, dyy, { ...geo, gamma: p.gamma, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
  const be = api.batchNormBackwardEval(xx, dyy, { ...geo, ...p });
  api.channelStats(xx, geo);
  api.backwardPartials(xx, dyy, { ...geo, saveMean: r.saveMean });
  new api.StatsAccumulator(C).update(xx, geo);
  try { api.batchNormTrain(xx, { ...geo, gamma: [1] }); } catch { /* failing calls must not leak either */ }
  for (const o of [r.y, y, b.dx, be.dx]) if (o instanceof api.Tensor) o.free();
  // Family ops go through the same path.
  for (const [fwd, bwd, extra] of [["instanceNorm", "instanceNormBackward", {}], ["groupNorm", "groupNormBackward", { groups: 3 }], ["layerNorm", "layerNormBackward", {}]]) {
    const f = api[fwd](xx, { ...geo, ...extra });
    const g = api[bwd](xx, dyy, { ...geo, ...extra, mean: f.mean, invstd: f.invstd });
    for (const o of [f.y, g.dx]) if (o instanceof api.Tensor) o.free();
  }
}

test("10,000 calls of every op leave memory at its baseline", () => {
  const geo = { shape, layout };
  const tx = api.tensor(shape, layout, x), tdy = api.tensor(shape, layout, dy);
  ops(x, dy, geo); ops(tx, tdy, {}); // warm: scratch sizes settle
  const before = api.memoryStats();
  for (let i = 0; i < 5000; i++) { ops(x, dy, geo); ops(tx, tdy, {}); }
  const after = api.memoryStats();
  tx.free(); tdy.free();
  assert.ok(after.allocatedBytes === before.allocatedBytes, `allocated ${before.allocatedBytes} → ${after.allocatedBytes} bytes`);
  assert.ok(after.memoryBytes === before.memoryBytes, `memory grew ${before.memoryBytes} → ${after.memoryBytes} bytes`);
});

test("freeing every tensor returns allocated bytes to zero", () => {
  const base = api.memoryStats().allocatedBytes;
  const ts = Array.from({ length: 50 }, (_, i) => api.tensor([i + 1, 7], "NC"));
  for (const t of ts.reverse()) t.free();
  assert.ok(api.memoryStats().allocatedBytes === base, `${api.memoryStats().allocatedBytes} bytes left, expected ${base}`);
});
test("the scratch block grows once for wide C, is reused, and results stay right", () => {
  const run = (shape, layout, seed) => {
    const n = shape.reduce((a, b) => a * b), C = layout.endsWith("C") ? shape[shape.length - 1] : shape[1];
    const xx = randomArray(n, seed), q = { gamma: randomArray(C, seed + 1), beta: randomArray(C, seed + 2), runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), eps: 1e-5, momentum: 0.1 };
    const ref = refBnTrain(xx, shape, layout, q);
    const r = api.batchNormTrain(xx, { shape, layout, ...q });
    for (const [name, got, want] of [["y", r.y, ref.y], ["saveMean", r.saveMean, ref.saveMean], ["runningVar", q.runningVar, ref.runningVar]]) {
      const bad = compare(got, want, 1e-4, 1e-4);
      if (bad) assert.unreachable(`${shape} ${layout} ${name}[${bad.index}] = ${bad.got}, expected ${bad.expected}`);
    }
  };
  run([2, 3, 4, 4], "NCHW", 1);
  const small = api.memoryStats().scratchBytes;
  assert.ok(small > 0 && small <= 64 << 10, `scratch for C = 3: ${small} bytes`);
  run([3, 2048], "NC", 2); // lane patterns of 2048 channels: more scratch than the first block
  const wide = api.memoryStats().scratchBytes;
  assert.ok(wide > small, `scratch did not grow for C = 2048 (${small} → ${wide})`);
  const allocated = api.memoryStats().allocatedBytes;
  for (const [shape, layout] of [[[2, 3, 4, 4], "NCHW"], [[3, 2048], "NC"], [[2, 5, 3, 7], "NHWC"]]) run(shape, layout, 3);
  assert.ok(api.memoryStats().scratchBytes === wide, "scratch was reallocated for a call that fits");
  assert.ok(api.memoryStats().allocatedBytes === allocated, "calls leaked memory");
});
test("tensor(shape, layout, t.data): a copy of a tensor whose allocation grows the memory (the source view taken again)", () => {
  for (const n of [8, 1 << 20, 1 << 22]) {
    const a = api.tensor([1, n], "NC", Float32Array.from({ length: n }, (_, i) => (i % 7) + 1));
    const b = api.tensor([1, n], "NC", a.data);
    const c = api.tensor([n, 1], "NC", new Float32Array(a.data.buffer, a.data.byteOffset, n));
    for (const t of [b, c]) {
      assert.is(t.data[0], 1); assert.is(t.data[n - 1], ((n - 1) % 7) + 1);
      assert.ok(t.data.every((v, i) => v === (i % 7) + 1), `n = ${n}: every value copied`);
    }
    for (const t of [a, b, c]) t.free();
  }
});

test.run();
