// fromPixels and byte statistics on the shared-memory runtime (the threads build, what a process
// runs once createPool has started before init): the same results as the float64 reference.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refFromPixels, refPixelStats, rng } from "./reference.mjs";

const pool = await api.createPool({ transport: "shared", workers: 1 });

test("the runtime's memory is shared; fromPixels and byte statistics match the reference", () => {
  assert.ok(api.wasmMemory().buffer instanceof SharedArrayBuffer, "shared-memory runtime");
  const r = rng(5), W = 37, H = 11, px = Uint8Array.from({ length: 2 * W * H * 4 }, () => Math.floor(r.u() * 256));
  for (const layout of ["NCHW", "NHWC"]) {
    const t = api.fromPixels(px, { width: W, height: H, layout, preset: "imagenet" });
    const want = refFromPixels(px, 2, H, W, 4, layout, api.PIXEL_PRESETS.imagenet);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - want[i]));
    assert.ok(worst < 2e-6, `${layout}: max error ${worst}`);
    t.free();
  }
  const st = api.channelStats(px, { width: W, height: H });
  assert.equal(Array.from(st.mean), refPixelStats(px, 4).mean);
});

test("close the pool", () => pool.close());

test.run();
