// The worker pool's implementation lives in dist/simdnorm-pool.js, which createPool loads: no
// bundle holds it, each pool runs on the runtime of the bundle that made it (the ESM and the
// CommonJS bundle in one process each get their own, with their own WorkerPoolError class), and
// `new WorkerPool()` before any createPool says what to do.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as esm from "../dist/node.js";
import { splitShards } from "./sync-golden.mjs";
import { randomArray } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "../dist");
const cjs = createRequire(import.meta.url)("../dist/index.cjs");

test("new WorkerPool() before the pool's module is loaded names createPool", async () => {
  const err = await throwsWith(() => new esm.WorkerPool("message", 1, {}, null));
  assert.ok(/createPool\(\)/.test(err.message), err.message);
});

test("no bundle holds the pool's implementation; the pool's module holds no runtime", () => {
  for (const f of ["node.js", "index.js", "index.cjs", "browser.js", "workerd.js", "edge-light.js"]) {
    const src = readFileSync(join(dist, f), "utf8");
    assert.not.ok(/\bPoolImpl=class|function shardPlan\(|\bThreads=class/.test(src), `${f} holds pool code`);
  }
  const chunk = readFileSync(join(dist, "simdnorm-pool.js"), "utf8");
  assert.ok(/\bPoolImpl=class/.test(chunk) && /function shardPlan\(/.test(chunk), "the pool's module holds the implementation");
  assert.not.ok(/function batchNormTrain\(|\bScope=class|function resolveGeometry\(/.test(chunk), "the pool's module bundles no runtime");
});

test("the ESM and the CommonJS bundle in one process: each pool runs on its own bundle's runtime", async () => {
  const C = 3, shape = [5, C, 4, 4], layout = "NCHW";
  const x = randomArray(5 * C * 16, 91, { offset: 2 });
  const shards = splitShards(x, shape, [2, 3]);
  const pools = [await esm.createPool({ workers: 2, transport: "message" }), await cjs.createPool({ workers: 2, transport: "message" })];
  try {
    for (const [api, pool] of [[esm, pools[0]], [cjs, pools[1]]]) {
      assert.ok(pool instanceof api.WorkerPool, "a WorkerPool of the bundle that made it");
      const p = await pool.syncPartialStats(shards, { layout });
      close(api.finishStats(p).mean, api.channelStats(x, { shape, layout }).mean, 1e-9, 1e-7, "mean");
      pool.injectFault(1, { kind: "throw" });
      const err = await throwsWith(() => pool.syncPartialStats(shards, { layout }));
      assert.ok(err instanceof api.WorkerPoolError, `the bundle's own WorkerPoolError, got ${err && err.name}`);
    }
    assert.is.not(esm.WorkerPoolError, cjs.WorkerPoolError);
    assert.is.not(esm.memoryStats, cjs.memoryStats);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
});

test.run();
