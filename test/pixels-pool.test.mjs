// Byte images through the worker pool: pool.partialStats / channelStats read the same byte input
// as the single-thread API and give the same result bit for bit (and the exact reference); every
// pool op that takes float32 refuses bytes with an error naming the argument, nothing written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refPixelStats, rng } from "./reference.mjs";

// The shared pool first (before init: the runtime becomes the shared-memory build), then a
// message pool; minSplit 0 so a float tensor of any size would be split across the workers.
const pools = {
  shared: await api.createPool({ transport: "shared", workers: 2, minSplit: 0 }),
  message: await api.createPool({ transport: "message", workers: 2, minSplit: 0 }),
};

const bytes = (n, seed, Kind = Uint8Array) => { const r = rng(seed); return Kind.from({ length: n }, () => Math.floor(r.u() * 256)); };
const same = (got, want, what) => assert.equal(Array.from(got), Array.from(want), what);

for (const [transport, pool] of Object.entries(pools)) {
  test(`${transport}: pool.partialStats / channelStats of byte images equal the single-thread results and the exact reference`, async () => {
    const W = 17, H = 5;
    const cases = [
      ["RGBA buffer of 3 images", bytes(3 * W * H * 4, 1), { width: W, height: H }, 4],
      ["RGB Uint8ClampedArray", bytes(W * H * 3, 2, Uint8ClampedArray), { width: W, height: H, channels: 3 }, 3],
      ["ImageData-like", { data: bytes(W * H * 4, 3, Uint8ClampedArray), width: W, height: H }, {}, 4],
      ["array of 2 RGB images", [bytes(W * H * 3, 4), bytes(W * H * 3, 5)], { width: W, height: H, channels: 3 }, 3],
      ["1×1 RGBA", bytes(4, 6), { width: 1, height: 1 }, 4],
    ];
    for (const [what, px, o, C] of cases) {
      same(await pool.partialStats(px, o), api.partialStats(px, o), `${what}: partials`);
      const got = await pool.channelStats(px, o), want = api.channelStats(px, o);
      for (const k of ["mean", "var", "unbiasedVar"]) same(got[k], want[k], `${what}: ${k}`);
      const flat = Array.isArray(px) ? Uint8Array.from(px.flatMap((a) => Array.from(a))) : px.data ?? px;
      const ref = refPixelStats(flat, C);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(got.mean[c] - ref.mean[c]) <= 1e-12 * ref.mean[c], `${what}: mean[${c}]`);
        assert.ok(Math.abs(got.var[c] - ref.var[c]) <= 1e-12 * ref.var[c] + 1e-12, `${what}: var[${c}]`);
      }
    }
  });

  test(`${transport}: a view of wasm memory is read in place; all-255 bytes past the accumulators' flush points stay exact`, async () => {
    const W = 1031, H = 3, n = W * H; // > 2 × 1024 pixels: several u16 flushes, and a scalar tail
    const t = api.tensor([1, n], "NC"); // n·4 bytes of wasm memory
    const view = new Uint8Array(api.wasmMemory().buffer, t.ptr, n * 4).fill(255);
    const st = await pool.channelStats(view, { width: W, height: H });
    same(st.mean, [255, 255, 255], "mean");
    same(st.var, [0, 0, 0], "var");
    t.free();
  });

  test(`${transport}: bad byte input rejects with the single-thread error; the pool keeps working`, async () => {
    const px = bytes(61, 7);
    let want = "";
    try { api.channelStats(px, { width: 5, height: 3 }); } catch (e) { want = e.message; }
    assert.match(want, /61 bytes/);
    try { await pool.channelStats(px, { width: 5, height: 3 }); assert.unreachable("accepted a wrong length"); } catch (e) { assert.is(e.message, want); }
    try { await pool.partialStats(bytes(60, 8), { width: 5, height: 3, channels: 5 }); assert.unreachable("accepted channels 5"); } catch (e) { assert.match(e.message, /channels must be 3 \(RGB\) or 4 \(RGBA\), got 5/); }
    const st = await pool.channelStats(bytes(60, 9), { width: 5, height: 3 });
    assert.is(st.count, 15);
  });

  test(`${transport}: float ops given bytes reject naming the argument and pointing to fromPixels; nothing written`, async () => {
    const px = bytes(2 * 4 * 4 * 3, 10), x = new Float32Array(px.length), dy = new Float32Array(px.length);
    const rm = new Float32Array([1, 2, 3]), rv = new Float32Array([4, 5, 6]), out = new Float32Array(px.length).fill(7);
    const train = { shape: [2, 3, 4, 4], layout: "NCHW", runningMean: rm, runningVar: rv, out };
    const calls = [
      ["x", "batchNormTrain", () => pool.batchNormTrain(px, train)],
      ["x", "batchNormTrain", () => pool.batchNormTrain([px], train)],
      // Its kind comes from the intrinsics, not from a `constructor` the caller may have replaced.
      ["x", "batchNormTrain", () => pool.batchNormTrain(Object.defineProperty(bytes(96, 11), "constructor", { value: undefined }), train)],
      ["x", "batchNormBackward", () => pool.batchNormBackward(px, dy, { shape: [2, 3, 4, 4], layout: "NCHW", saveMean: rm, saveInvstd: rv, out })],
      ["dy", "batchNormBackward", () => pool.batchNormBackward(x, px, { shape: [2, 3, 4, 4], layout: "NCHW", saveMean: rm, saveInvstd: rv, out })],
      ["shards\\[1\\]\\.x", "syncPartialStats", () => pool.syncPartialStats([{ x, shape: [2, 3, 4, 4] }, { x: px, shape: [2, 3, 4, 4] }], { layout: "NCHW" })],
      ["shards\\[0\\]\\.x", "syncBatchNormTrain", () => pool.syncBatchNormTrain([{ x: { data: new Uint8ClampedArray(64), width: 4, height: 4 }, shape: [1, 4, 4, 4], out }], { layout: "NCHW", runningMean: rm, runningVar: rv })],
      ["shards\\[0\\]\\.dy", "syncBatchNormBackward", () => pool.syncBatchNormBackward([{ x, dy: px, shape: [2, 3, 4, 4], out }], { layout: "NCHW", saveMean: rm, saveInvstd: rv })],
    ];
    for (const [arg, op, call] of calls) {
      try { await call(); assert.unreachable(`${op} accepted bytes`); } catch (e) {
        assert.match(e.message, new RegExp(`^${arg} is .*byte image.*: pool\\.${op} takes float32 values .*fromPixels\\(\\)`), e.message);
      }
    }
    same(rm, [1, 2, 3], "runningMean untouched");
    same(rv, [4, 5, 6], "runningVar untouched");
    assert.ok(out.every((v) => v === 7), "out untouched");
  });
}

test("close the pools", async () => { await pools.shared.close(); await pools.message.close(); });

test.run();
