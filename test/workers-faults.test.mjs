// Worker faults: a worker that throws, throws uncaught, exits or hangs mid-op makes the call
// reject with an error naming the worker and the op (never a hang); the worker is replaced and
// the next op is right; running statistics stay as they were; close() ends every worker.
// No timing asserts: "bounded" is the pool's timeout (short here), the rest is events.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as api from "../dist/index.js";
import { splitShards, concat } from "./sync-golden.mjs";
import { randomArray } from "./reference.mjs";
import { close, throwsWith } from "./helpers.mjs";

const C = 4, shape = [6, C, 3, 5], layout = "NCHW";
const x = randomArray(6 * C * 15, 71, { offset: 3 }), dy = randomArray(6 * C * 15, 72);
const shards = splitShards(x, shape, [2, 4]);
const bshards = shards.map((s, i) => ({ ...s, dy: splitShards(dy, shape, [2, 4])[i].x }));
const ref = api; // single-threaded reference (same runtime as the pool's owner side)

async function expectFault(promise, { worker, op, phase, reason }) {
  const err = await throwsWith(() => promise);
  assert.ok(err instanceof api.WorkerPoolError, `a WorkerPoolError, got ${err && err.name}: ${err && err.message}`);
  assert.is(err.worker, worker);
  assert.is(err.op, op);
  if (phase) assert.is(err.phase, phase);
  if (reason) assert.is(err.reason, reason);
  assert.ok(err.message.includes(`worker ${worker}`) && err.message.includes(op), `message names worker and op: ${err.message}`);
  return err;
}

for (const transport of ["shared", "message"]) {
  const kinds = [["throw", "failed"], ["uncaught", "threw"], ["exit", "exited"], ["hang", "timeout"]];
  for (const [kind, reason] of kinds) {
    test(`${kind} mid-op (${transport}): rejects naming worker and op, running stats unchanged, worker replaced`, async () => {
      const pool = await api.createPool({ transport, workers: 2, timeout: kind === "hang" ? 2000 : 30_000 });
      try {
        const rm = new Float32Array(C).fill(0.25), rv = new Float32Array(C).fill(2);
        // Phase 2: the statistics were merged already; the fault hits while normalizing.
        pool.injectFault(1, { kind, phase: "normalize" });
        await expectFault(pool.syncBatchNormTrain(shards, { layout, runningMean: rm, runningVar: rv }), { worker: 1, op: "syncBatchNormTrain", phase: "normalize", reason });
        assert.equal(Array.from(rm), [0.25, 0.25, 0.25, 0.25], "runningMean unchanged");
        assert.equal(Array.from(rv), [2, 2, 2, 2], "runningVar unchanged");
        assert.is(pool.workers()[1].starts, 2, "worker 1 replaced");
        assert.is(pool.workers()[0].starts, 1, "worker 0 kept");
        // The pool works again, with the right answer.
        const r = await pool.syncBatchNormTrain(shards, { layout, runningMean: rm, runningVar: rv });
        const rm2 = new Float32Array(C).fill(0.25), rv2 = new Float32Array(C).fill(2);
        const one = ref.batchNormTrain(x, { shape, layout, runningMean: rm2, runningVar: rv2 });
        close(concat(r.ys), one.y, 1e-5, 1e-5, "y after replacement");
        close(rm, rm2, 1e-6, 1e-6, "runningMean after replacement");
        assert.ok(pool.workers().every((w) => w.state === "ready"));
      } finally {
        await pool.close();
      }
    });
  }

  test(`faults in the backward phases and in stats (${transport})`, async () => {
    const pool = await api.createPool({ transport, workers: 2 });
    try {
      const f = ref.batchNormTrain(x, { shape, layout });
      const o = { layout, saveMean: f.saveMean, saveInvstd: f.saveInvstd };
      pool.injectFault(0, { kind: "throw", phase: "sums" });
      await expectFault(pool.syncBatchNormBackward(bshards, o), { worker: 0, op: "syncBatchNormBackward", phase: "sums" });
      pool.injectFault(1, { kind: "exit", phase: "backward" });
      await expectFault(pool.syncBatchNormBackward(bshards, o), { worker: 1, op: "syncBatchNormBackward", phase: "backward", reason: "exited" });
      pool.injectFault(0, { kind: "uncaught", phase: "stats" });
      await expectFault(pool.syncPartialStats(shards, { layout }), { worker: 0, op: "syncPartialStats", phase: "stats" });
      const b = await pool.syncBatchNormBackward(bshards, o);
      const one = ref.batchNormBackward(x, dy, { shape, layout, saveMean: f.saveMean, saveInvstd: f.saveInvstd });
      close(concat(b.dxs), one.dx, 1e-5, 1e-4, "dx after faults");
      assert.equal(pool.workers().map((w) => w.starts), [3, 2]);
    } finally {
      await pool.close();
    }
  });
}

test("a worker that dies while idle is replaced before the next op", async () => {
  const pool = await api.createPool({ workers: 2 });
  try {
    await pool.impl.slots[1].host.terminate(); // as if the thread crashed between ops (the implementation's worker places)
    await new Promise((r) => setTimeout(r, 50));
    const p = await pool.syncPartialStats(shards, { layout });
    close(api.finishStats(p).mean, api.channelStats(x, { shape, layout }).mean, 1e-9, 1e-7, "mean"); // f32 block sums: shards merge in another order
    assert.is(pool.workers()[1].starts, 2);
  } finally {
    await pool.close();
  }
});

test("no memory is left allocated by failed ops (shared transport)", async () => {
  const pool = await api.createPool({ transport: "shared", workers: 2 });
  try {
    await pool.syncPartialStats(shards, { layout });
    const base = api.memoryStats().allocatedBytes;
    for (const kind of ["throw", "exit"]) {
      pool.injectFault(0, { kind, phase: "normalize" });
      await pool.syncBatchNormTrain(shards, { layout }).catch(() => {});
    }
    await pool.syncPartialStats(shards, { layout }); // waits for the replacement to be ready
    assert.is(api.memoryStats().allocatedBytes, base);
  } finally {
    await pool.close();
  }
});

test("close() ends every worker; in-flight and later ops reject", async () => {
  const pool = await api.createPool({ workers: 2, timeout: 60_000 });
  pool.injectFault(0, { kind: "hang" });
  const inFlight = pool.syncPartialStats(shards, { layout });
  const queued = pool.syncPartialStats(shards, { layout });
  await new Promise((r) => setTimeout(r, 100));
  await pool.close();
  await expectFault(inFlight, { worker: 0, op: "syncPartialStats", reason: "closed" });
  await throwsWith(() => queued, "closed");
  await throwsWith(() => pool.syncPartialStats(shards, { layout }), "the worker pool is closed");
  assert.ok(pool.isClosed);
  assert.ok(pool.workers().every((w) => w.state === "closed"));
  await pool.close(); // twice is fine
});

test("an idle pool that was never closed does not keep the Node process alive", async () => {
  const script = `import * as api from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
    const pool = await api.createPool({ workers: 2 });
    const p = await pool.syncPartialStats([{ x: new Float32Array(8), shape: [2, 4] }, { x: new Float32Array(8), shape: [2, 4] }], { layout: "NC" });
    console.log("count", p[0]);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.error, undefined, "the process ended by itself");
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, "count 4");
});

test("pool options are checked", async () => {
  for (const [o, msg] of [[{ workers: 0 }, "workers must be"], [{ transport: "pigeon" }, "transport must be"], [{ timeout: -1 }, "timeout must be"]]) {
    await throwsWith(() => api.createPool(o), msg);
  }
  const p = await api.createPool({ workers: 1 });
  throwsWith(() => p.injectFault(3, { kind: "throw" }), "worker must be");
  await p.close();
});

test.run();
