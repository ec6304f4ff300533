// Synchronized batch norm on real worker_threads, both transports: the golden params.shards cases
// with one worker per shard, then properties — sharded == one-shot for uneven shards (one empty),
// running statistics updated once, zero-copy tensors, big ops split across the pool.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as api from "../dist/index.js";
import { loadCases } from "./golden-runner.mjs";
import { isShardCase, runShardCase, splitShards, concat } from "./sync-golden.mjs";
import { randomArray } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const cases = loadCases(join(here, "golden")).filter(isShardCase);

// The first pool makes this thread's runtime the shared-memory (threads) build; a message pool
// can live next to it (its workers have memories of their own).
const pools = {};
async function pool(transport, workers) {
  const key = `${transport}/${workers}`;
  if (!pools[key]) {
    pools[key] = await api.createPool({ transport, workers });
    assert.is(pools[key].transport, transport);
    // The thresholds plan() uses: per op with shared memory, never with message passing.
    const never = { partialStats: Infinity, batchNormTrain: Infinity, batchNormBackward: Infinity };
    assert.equal(pools[key].minSplit, transport === "shared" ? { partialStats: 2 ** 22, batchNormTrain: 2 ** 24, batchNormBackward: Infinity } : never);
  }
  return pools[key];
}

test("there are golden cases with params.shards", () => {
  assert.ok(cases.length >= 2, `found ${cases.length}`);
});

for (const transport of ["shared", "message"]) {
  for (const c of cases) {
    test(`golden ${c.name} on ${c.params.shards.length} workers (${transport})`, async () => {
      const p = await pool(transport, c.params.shards.length);
      const r = await runShardCase(api, p, c);
      assert.ok(r.ok, r.message);
    });
  }
}

/** Single-threaded reference on the whole batch: forward, running update, backward. */
function oneShot(x, dy, shape, layout, o) {
  const rm = o.runningMean.slice(), rv = o.runningVar.slice();
  const f = api.batchNormTrain(x, { ...o, shape, layout, runningMean: rm, runningVar: rv });
  const b = api.batchNormBackward(x, dy, { shape, layout, gamma: o.gamma, saveMean: f.saveMean, saveInvstd: f.saveInvstd });
  return { f, b, rm, rv };
}

function batch(layout, sizes, C, S, seed, offset = 0) {
  const N = sizes.reduce((a, b) => a + b, 0);
  const shape = layout === "NCHW" ? [N, C, 1, S] : [N, 1, S, C];
  const x = randomArray(N * C * S, seed, { offset, scale: 2 });
  const dy = randomArray(N * C * S, seed + 1);
  return { shape, x, dy, C };
}

for (const transport of ["shared", "message"]) {
  for (const layout of ["NCHW", "NHWC"]) {
    test(`uneven shards with an empty one == one-shot (${layout}, ${transport})`, async () => {
      const sizes = [3, 0, 5, 1];
      const { shape, x, dy, C } = batch(layout, sizes, 5, 17, 11, 1000);
      const o = { gamma: randomArray(C, 3), beta: randomArray(C, 4), runningMean: randomArray(C, 5), runningVar: new Float32Array(C).fill(2), momentum: 0.3 };
      const ref = oneShot(x, dy, shape, layout, o);
      const p = await pool(transport, 3); // 4 shards on 3 workers: one worker takes two
      const shards = splitShards(x, shape, sizes);
      const rm = o.runningMean.slice(), rv = o.runningVar.slice();
      const r = await p.syncBatchNormTrain(shards, { ...o, layout, runningMean: rm, runningVar: rv });
      assert.is(r.ys.length, 4);
      assert.is(r.ys[1].length, 0);
      assert.is(r.count, 9 * 17);
      assert.is(r.numBatchesTracked, 1);
      close(concat(r.ys), ref.f.y, 1e-5, 1e-5, "y", shape, layout);
      close(r.saveMean, ref.f.saveMean, 1e-6, 1e-6, "saveMean");
      close(r.saveInvstd, ref.f.saveInvstd, 1e-6, 1e-6, "saveInvstd");
      // Updated once: applying the update twice (or per shard) would move them further.
      close(rm, ref.rm, 1e-6, 1e-6, "runningMean");
      close(rv, ref.rv, 1e-6, 1e-6, "runningVar");
      const dys = splitShards(dy, shape, sizes);
      const b = await p.syncBatchNormBackward(shards.map((s, i) => ({ ...s, dy: dys[i].x })), { layout, gamma: o.gamma, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
      close(concat(b.dxs), ref.b.dx, 1e-5, 1e-4, "dx", shape, layout);
      close(b.dgamma, ref.b.dgamma, 1e-4, 1e-5, "dgamma");
      close(b.dbeta, ref.b.dbeta, 1e-4, 1e-5, "dbeta");
    });
  }

  test(`conventions and cumulative momentum pass through (${transport})`, async () => {
    const sizes = [2, 3];
    const { shape, x, dy, C } = batch("NCHW", sizes, 3, 20, 21);
    const p = await pool(transport, 2);
    for (const extra of [{ convention: "keras" }, { momentum: null, numBatchesTracked: 4 }, { convention: "onnx", eps: 1e-3 }]) {
      const o = { runningMean: new Float32Array(C).fill(0.5), runningVar: new Float32Array(C).fill(3), ...extra };
      const ref = oneShot(x, dy, shape, "NCHW", o);
      const rm = o.runningMean.slice(), rv = o.runningVar.slice();
      const r = await p.syncBatchNormTrain(splitShards(x, shape, sizes), { ...o, layout: "NCHW", runningMean: rm, runningVar: rv });
      close(rm, ref.rm, 1e-6, 1e-6, `runningMean ${JSON.stringify(extra)}`);
      close(rv, ref.rv, 1e-6, 1e-6, `runningVar ${JSON.stringify(extra)}`);
      close(concat(r.ys), ref.f.y, 1e-5, 1e-5, `y ${JSON.stringify(extra)}`);
      assert.is(r.numBatchesTracked, (extra.numBatchesTracked ?? 0) + 1);
    }
  });

  test(`shard errors name the shard, and nothing is updated (${transport})`, async () => {
    const p = await pool(transport, 2);
    const rm = new Float32Array(3), rv = new Float32Array(3).fill(1);
    const good = { x: new Float32Array(24), shape: [2, 3, 4] };
    await throwsWith(() => p.syncBatchNormTrain([good, { x: new Float32Array(20), shape: [1, 5, 4] }], { layout: "NCL", runningMean: rm, runningVar: rv }), "shards[1] has 5 channels");
    await throwsWith(() => p.syncBatchNormTrain([good, { x: new Float32Array(7), shape: [1, 3, 4] }], { layout: "NCL" }), "shards[1].x holds 7 values");
    await throwsWith(() => p.syncBatchNormTrain([], { layout: "NCL" }), "shards must be a non-empty array");
    await throwsWith(() => p.syncBatchNormTrain([{ x: new Float32Array(3), shape: [1, 3, 1] }, { x: new Float32Array(0), shape: [0, 3, 1] }], { layout: "NCL", runningMean: rm, runningVar: rv }), "more than one value per channel");
    await throwsWith(() => p.syncBatchNormTrain([good], { layout: "NCL", gamma: [1, 2] }), "gamma has 2 values");
    // The pool checks options with the same validators as the single-thread functions.
    await throwsWith(() => p.syncBatchNormTrain([good], { layout: "NCL", globalStats: new Float64Array([8, 0, 1, 8, NaN, 1, 8, 0, 1]) }), "globalStats mean of channel 1");
    await throwsWith(() => p.syncBatchNormTrain([good], { layout: "NCL", globalStats: new Float64Array([8, 0, 1, 7, 0, 1, 8, 0, 1]) }), "globalStats counts differ");
    await throwsWith(() => p.syncBatchNormTrain([good], { layout: "NCL", runningMean: rm, runningVar: new Float32Array([1, -1, 1]) }), "running_var");
    await throwsWith(() => p.syncBatchNormTrain([good], { layout: "NCL", gamma: ["a", "b", "c"] }), "gamma");
    await throwsWith(() => p.syncBatchNormBackward([{ ...good, dy: new Float32Array(24) }], { layout: "NCL", saveMean: [0, 0, 0], saveInvstd: [1, "a", 1] }), "saveInvstd");
    await throwsWith(() => p.batchNormTrain(new Float32Array(24), { shape: [2, 3, 4], layout: "toString" }), "layout");
    assert.equal(Array.from(rm), [0, 0, 0]);
    assert.equal(Array.from(rv), [1, 1, 1]);
  });
}

test("out: a Tensor of another shape or layout is refused on both transports, before any phase (nothing written or updated)", async () => {
  for (const transport of ["shared", "message"]) {
    const p = await api.createPool({ transport, workers: 2, minSplit: 0 });
    try {
      const shape = [2, 3, 4, 4], x = randomArray(96, 61), x2 = randomArray(96, 62);
      const rm = new Float32Array(3), rv = new Float32Array(3).fill(1);
      for (const wrong of [api.tensor([2, 4, 4, 3], "NHWC"), api.tensor([32, 3], "NC")]) {
        await throwsWith(() => p.syncBatchNormTrain([{ x, shape, out: wrong }, { x: x2, shape }], { layout: "NCHW", runningMean: rm, runningVar: rv }), "shards[0].out is a Tensor of shape", "the result has shape [2,3,4,4] (NCHW)");
        await throwsWith(() => p.batchNormTrain(x, { shape, layout: "NCHW", out: wrong }), "out is a Tensor of shape");
        assert.ok(wrong.data.every((v) => v === 0), `${transport}: nothing written to out`);
        assert.equal(Array.from(rm), [0, 0, 0], `${transport}: runningMean unchanged`);
        wrong.free();
      }
      const same = api.tensor(shape, "NCHW");
      const r = await p.syncBatchNormTrain([{ x, shape, out: same }, { x: x2, shape }], { layout: "NCHW" });
      assert.is(r.ys[0], same, `${transport}: a Tensor of the result's shape is the result`);
      same.free();
    } finally { await p.close(); }
  }
});

test("shared transport: tensors in the shared memory are read in place, outputs are tensors", async () => {
  const p = await pool("shared", 2);
  const { shape, x, dy } = batch("NHWC", [4, 4], 3, 10, 31);
  const half = x.length / 2, sh = [4, 1, 10, 3];
  const a = api.tensor(sh, "NHWC", x.subarray(0, half)), b = api.tensor(sh, "NHWC", x.subarray(half));
  const held = api.memoryStats().allocatedBytes;
  await p.syncPartialStats([{ x: a }, { x: b }]);
  assert.is(api.memoryStats().allocatedBytes, held, "statistics of tensor shards allocate nothing that stays");
  const r = await p.syncBatchNormTrain([{ x: a }, { x: b }], {});
  assert.ok(r.ys[0] instanceof api.Tensor && r.ys[1] instanceof api.Tensor, "ys are tensors");
  const ref = api.batchNormTrain(x, { shape, layout: "NHWC" });
  close(concat(r.ys), ref.y, 1e-5, 1e-5, "y");
  const before = api.memoryStats().allocatedBytes;
  for (const t of [a, b, ...r.ys]) t.free();
  assert.ok(api.memoryStats().allocatedBytes < before, "freed");
  void dy;
});

test("activation: the split training forward applies it like one thread; the sync backward refuses it", async () => {
  const p = await api.createPool({ workers: 2, minSplit: 0 });
  try {
    const shape = [4, 3, 50], layout = "NCL", x = randomArray(600, 5), gamma = [1, 2, 0.5], beta = [0.1, -0.2, 0.3];
    const one = api.batchNormTrain(x, { shape, layout, gamma, beta, activation: "silu" });
    const split = await p.batchNormTrain(x, { shape, layout, gamma, beta, activation: "silu" });
    close(split.y, one.y, 1e-6, 1e-5, "split y with silu");
    await throwsWith(() => p.syncBatchNormBackward([{ x, shape, dy: x }], { layout, saveMean: one.saveMean, saveInvstd: one.saveInvstd, activation: "silu" }), "activation");
  } finally { await p.close(); }
});

test("whole-tensor ops split across the pool equal one thread (rows of channels-last, N of channels-first)", async () => {
  for (const transport of ["shared", "message"]) {
    const p = await api.createPool({ transport, workers: 2, minSplit: 0 });
    try {
      // One 1×H×W×3 image: channels-last splits along rows even with N = 1.
      for (const [shape, layout] of [[[1, 37, 29, 3], "NHWC"], [[5, 4, 9, 7], "NCHW"]]) {
        const n = shape.reduce((a, b) => a * b);
        const x = randomArray(n, 41, { offset: 50, scale: 3 }), dy = randomArray(n, 42);
        const C = layout === "NHWC" ? 3 : 4;
        const g = { gamma: randomArray(C, 43), beta: randomArray(C, 44) };
        const s1 = api.channelStats(x, { shape, layout }), s2 = await p.channelStats(x, { shape, layout });
        close(s2.mean, s1.mean, 1e-9, 1e-9, `mean ${layout} ${transport}`);
        close(s2.var, s1.var, 1e-9, 1e-7, `var ${layout} ${transport}`);
        const rm1 = new Float32Array(C), rv1 = new Float32Array(C).fill(1), rm2 = rm1.slice(), rv2 = rv1.slice();
        const f1 = api.batchNormTrain(x, { shape, layout, ...g, runningMean: rm1, runningVar: rv1 });
        const f2 = await p.batchNormTrain(x, { shape, layout, ...g, runningMean: rm2, runningVar: rv2 });
        close(f2.y, f1.y, 1e-5, 1e-5, `y ${layout} ${transport}`, shape, layout);
        close(rm2, rm1, 1e-6, 1e-6, "runningMean");
        close(rv2, rv1, 1e-6, 1e-6, "runningVar");
        const b1 = api.batchNormBackward(x, dy, { shape, layout, gamma: g.gamma, saveMean: f1.saveMean, saveInvstd: f1.saveInvstd });
        const out = new Float32Array(n);
        const b2 = await p.batchNormBackward(x, dy, { shape, layout, gamma: g.gamma, saveMean: f1.saveMean, saveInvstd: f1.saveInvstd, out });
        assert.ok(b2.dx === out, "dx written to out");
        close(out, b1.dx, 1e-5, 1e-4, `dx ${layout} ${transport}`, shape, layout);
        close(b2.dgamma, b1.dgamma, 1e-4, 1e-5, "dgamma");
        close(b2.dbeta, b1.dbeta, 1e-4, 1e-5, "dbeta");
      }
    } finally {
      await p.close();
    }
  }
});

test("two shared-memory pools in flight at once, with calling-thread ops between them", async () => {
  // Each pool op holds its staging (worker arenas) across awaits, and they finish in any order;
  // ops on this thread meanwhile take their own temporaries (a wide channels-last tensor: a large
  // scratch), here right when the small op finishes while the big one still runs. Nothing may
  // overlap: every result equals its one-thread value (to the rounding of f32 block sums: a
  // shard of data far from zero picks its shifts from its own first values).
  const a = await pool("shared", 2), b = await api.createPool({ transport: "shared", workers: 1 });
  try {
    const sh1 = [6, 5, 40, 30], sh2 = [64, 8, 128, 128], wide = [16, 16384];
    const x1 = randomArray(sh1.reduce((p, q) => p * q), 51, { offset: 5 }), x2 = randomArray(sh2.reduce((p, q) => p * q), 52);
    const xw = randomArray(wide[0] * wide[1], 53, { offset: -3 });
    const want1 = api.channelStats(x1, { shape: sh1, layout: "NCHW" }), want2 = api.channelStats(x2, { shape: sh2, layout: "NCHW" });
    const wantW = api.channelStats(xw, { shape: wide, layout: "NC" });
    for (let round = 0; round < 4; round++) {
      // a starts first and finishes first (small); b starts second and still runs (big)
      const pa = a.syncPartialStats(splitShards(x1, sh1, [2, 4]), { layout: "NCHW" });
      const pb = b.syncPartialStats([{ x: x2, shape: sh2 }], { layout: "NCHW" });
      const gotW = api.channelStats(xw, { shape: wide, layout: "NC" }); // while both are in flight
      const between = pa.then(() => api.channelStats(xw, { shape: wide, layout: "NC" })); // b still running
      const [ra, rb, gotW2] = await Promise.all([pa, pb, between]);
      for (const [got, want, what] of [[api.finishStats(ra), want1, "pool a"], [api.finishStats(rb), want2, "pool b"], [gotW, wantW, "this thread"], [gotW2, wantW, "this thread, between"]]) {
        close(got.mean, want.mean, 1e-9, 1e-8, `${what} mean (round ${round})`);
        close(got.var, want.var, 1e-9, 1e-7, `${what} var (round ${round})`);
      }
    }
  } finally {
    await b.close();
  }
});

test("below minSplit the op runs on the calling thread (no worker involved)", async () => {
  const p = await api.createPool({ workers: 2, minSplit: 1000 });
  try {
    // A fault armed on every worker would fail any op that reached one.
    p.injectFault(0, { kind: "throw" });
    p.injectFault(1, { kind: "throw" });
    const small = randomArray(2 * 3 * 100, 51);
    assert.equal(p.minSplit, { partialStats: 1000, batchNormTrain: 1000, batchNormBackward: 1000 });
    const s = await p.channelStats(small, { shape: [2, 3, 100], layout: "NCL" }); // 600 < 1000
    assert.is(s.count, 200);
    const big = randomArray(4 * 3 * 100, 52);
    await throwsWith(() => p.channelStats(big, { shape: [4, 3, 100], layout: "NCL" }), "injected fault");
  } finally {
    await p.close();
  }
});

test("the all-reduce unit: partials and sums over any transport (docs/workers.md example)", async () => {
  // Two "machines" each hold a shard; only bytes of Float64Arrays cross between them.
  const { shape, x, dy, C } = batch("NCHW", [3, 4], 4, 12, 61, 1e4);
  const shards = splitShards(x, shape, [3, 4]), dys = splitShards(dy, shape, [3, 4]);
  const wire = (f64) => new Uint8Array(f64.buffer.slice(0)); // what a socket would carry
  const unwire = (bytes) => new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  // 1. each computes its partials; 2. all-reduce (merge); 3. each normalizes with the global stats.
  const sent = shards.map((s) => wire(api.partialStats(s.x, { shape: s.shape, layout: "NCHW" })));
  const global = sent.map(unwire).reduce((a, b) => api.mergePartials(a, b), new Float64Array(3 * C));
  const ys = shards.map((s) => api.batchNormTrain(s.x, { shape: s.shape, layout: "NCHW", globalStats: global }));
  // Backward: all-reduce (Σdy, Σdy·(x−mean)) by summing, then each computes its dx.
  const sums = shards.map((s, i) => unwire(wire(api.backwardPartials(s.x, dys[i].x, { shape: s.shape, layout: "NCHW", saveMean: ys[0].saveMean }))));
  const total = sums.reduce((a, b) => a.map((v, j) => v + b[j]));
  const dxs = shards.map((s, i) => api.batchNormBackward(s.x, dys[i].x, { shape: s.shape, layout: "NCHW", saveMean: ys[0].saveMean, saveInvstd: ys[0].saveInvstd, globalSums: total, count: global[0] }).dx);
  const ref = api.batchNormTrain(x, { shape, layout: "NCHW" });
  const refB = api.batchNormBackward(x, dy, { shape, layout: "NCHW", saveMean: ref.saveMean, saveInvstd: ref.saveInvstd });
  close(concat(ys.map((r) => r.y)), ref.y, 1e-5, 1e-5, "y");
  close(concat(dxs), refB.dx, 1e-5, 1e-4, "dx");
});

test.after(async () => {
  for (const p of Object.values(pools)) await p.close();
});

test.run();
