// Tests of the real API (dist/browser.js) shared by pages and module Web Workers:
//   registerGoldenTests(api)  every golden case (test/golden) the API supports, one test each
//   registerSyncTests(api)    the worker pool: golden params.shards cases on one worker per shard,
//                             sharded == one-shot, faults, whole-tensor split, close()
// The transport the pool must pick follows from where the code runs: shared memory when
// cross-origin isolated (/isolated/ pages and their workers), message passing otherwise.
import { test, assert, includeWorker, run, fatal } from './page-test.mjs';
import { loadGoldenCases } from './golden.mjs';
import { GOLDEN_OPS } from '../../../golden-ops.mjs';
import { checkCase, isShardCase, runShardCase, splitShards, concat } from '../../../sync-golden.mjs';
import { randomArray } from '../../../reference.mjs';

const where = typeof window === 'undefined' ? 'worker' : 'page';

/** A page's whole job: register(api) in the page, the same again in workerUrl, then report. */
export async function runInPageAndWorker(register, api, workerUrl, timeoutMs) {
  try {
    await register(api);
    includeWorker(workerUrl, { name: 'worker', timeoutMs });
    run();
  } catch (err) {
    fatal(err);
  }
}

export async function registerGoldenTests(api) {
  const cases = (await loadGoldenCases()).map((c) => ({ ...c, params: c.params ?? {} }));
  const supported = cases.filter((c) => GOLDEN_OPS[c.op]);
  test(`golden cases loaded in the ${where} (${supported.length} of ${cases.length} supported by the API)`, async () => {
    assert.ok(supported.length >= 40, `${supported.length} supported cases`);
    await api.init();
  });
  for (const c of supported) {
    test(`golden ${c.name}`, async () => {
      const r = await checkCase(c, (k) => GOLDEN_OPS[k.op](api, k));
      if (!r.ok) throw new Error(r.message);
    });
  }
}

function maxAbsDiff(a, b) {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export async function registerSyncTests(api) {
  const isolated = globalThis.crossOriginIsolated === true;
  const expected = isolated ? 'shared' : 'message';
  const shardCases = (await loadGoldenCases()).map((c) => ({ ...c, params: c.params ?? {} })).filter(isShardCase);
  const pools = new Map();
  // The first pool decides this thread's runtime: it must come before any init().
  const pool = async (workers, o = {}) => {
    if (!pools.has(workers)) pools.set(workers, await api.createPool({ workers, ...o }));
    return pools.get(workers);
  };
  const slow = { timeoutMs: 30_000 };

  test(`a pool in the ${where} uses ${expected} (crossOriginIsolated: ${isolated})`, async () => {
    assert.equal(isolated, /^\/isolated\//.test(globalThis.location.pathname), 'isolated exactly under /isolated/');
    const p = await pool(2);
    assert.equal(p.transport, expected, 'transport');
    assert.equal(p.size, 2, 'size');
  }, slow);

  test('there are golden cases with params.shards', () => assert.ok(shardCases.length >= 2, `${shardCases.length} cases`));
  for (const c of shardCases) {
    test(`golden ${c.name} on ${c.params.shards.length} workers`, async () => {
      const r = await runShardCase(api, await pool(c.params.shards.length), c);
      if (!r.ok) throw new Error(r.message);
    }, slow);
  }

  test('uneven shards, one empty, == one-shot; running statistics updated once', async () => {
    const p = await pool(2);
    const sizes = [2, 0, 3], C = 3, shape = [5, 4, 6, C];
    const x = randomArray(5 * 24 * C, 5, { offset: 100, scale: 4 }), dy = randomArray(5 * 24 * C, 6);
    const o = { layout: 'NHWC', gamma: [1.5, 0.5, 2], beta: [0, 1, -1], momentum: 0.2 };
    const rm = new Float32Array(C), rv = new Float32Array(C).fill(1), rm1 = rm.slice(), rv1 = rv.slice();
    const shards = splitShards(x, shape, sizes), dys = splitShards(dy, shape, sizes);
    const r = await p.syncBatchNormTrain(shards, { ...o, runningMean: rm, runningVar: rv });
    const one = api.batchNormTrain(x, { ...o, shape, runningMean: rm1, runningVar: rv1 });
    assert.ok(maxAbsDiff(concat(r.ys), one.y) < 1e-4, `y differs by ${maxAbsDiff(concat(r.ys), one.y)}`);
    assert.ok(maxAbsDiff(rm, rm1) < 1e-5 && maxAbsDiff(rv, rv1) < 1e-5, 'running statistics');
    const b = await p.syncBatchNormBackward(shards.map((s, i) => ({ ...s, dy: dys[i].x })), { layout: 'NHWC', gamma: o.gamma, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
    const ob = api.batchNormBackward(x, dy, { shape, layout: 'NHWC', gamma: o.gamma, saveMean: one.saveMean, saveInvstd: one.saveInvstd });
    assert.ok(maxAbsDiff(concat(b.dxs), ob.dx) < 1e-4, `dx differs by ${maxAbsDiff(concat(b.dxs), ob.dx)}`);
    assert.ok(maxAbsDiff(b.dgamma, ob.dgamma) < 1e-3 && maxAbsDiff(b.dbeta, ob.dbeta) < 1e-3, 'dgamma, dbeta');
  }, slow);

  test('a big tensor split across the pool == one thread (channels-last rows)', async () => {
    const p = await api.createPool({ workers: 2, minSplit: 0 });
    try {
      const shape = [1, 61, 47, 3], n = 61 * 47 * 3;
      const x = randomArray(n, 9, { offset: 128, scale: 40 });
      const a = await p.channelStats(x, { shape, layout: 'NHWC' }), b = api.channelStats(x, { shape, layout: 'NHWC' });
      assert.ok(maxAbsDiff(a.mean, b.mean) < 1e-7 * 128, `mean differs by ${maxAbsDiff(a.mean, b.mean)}`);
      assert.ok(maxAbsDiff(a.var, b.var) < 1e-7 * 1600, `var differs by ${maxAbsDiff(a.var, b.var)}`);
      const y1 = await p.batchNormTrain(x, { shape, layout: 'NHWC' }), y2 = api.batchNormTrain(x, { shape, layout: 'NHWC' });
      assert.ok(maxAbsDiff(y1.y, y2.y) < 1e-5, 'y');
    } finally {
      await p.close();
    }
  }, slow);

  for (const [kind, reason, timeout] of [['throw', 'failed', 30_000], ['uncaught', 'threw', 30_000], ['exit', 'timeout', 2000], ['hang', 'timeout', 2000]]) {
    test(`a worker that ${kind === 'exit' ? 'closes itself' : kind === 'hang' ? 'hangs' : kind === 'throw' ? 'throws' : 'throws uncaught'} mid-op: rejects naming it, running stats unchanged, replaced`, async () => {
      const p = await api.createPool({ workers: 2, timeout });
      try {
        const shape = [4, 3, 5], x = randomArray(60, 12), shards = splitShards(x, shape, [2, 2]);
        const rm = new Float32Array(3).fill(0.5), rv = new Float32Array(3).fill(2);
        p.injectFault(1, { kind, phase: 'normalize' });
        const err = await assert.throws(() => p.syncBatchNormTrain(shards, { layout: 'NCL', runningMean: rm, runningVar: rv }), /worker 1 .*syncBatchNormTrain/);
        assert.equal(err.name, 'WorkerPoolError', 'error class');
        assert.equal(err.reason, reason, 'reason');
        assert.deepEqual(Array.from(rm).concat(Array.from(rv)), [0.5, 0.5, 0.5, 2, 2, 2], 'running statistics unchanged');
        const r = await p.syncBatchNormTrain(shards, { layout: 'NCL' });
        assert.ok(maxAbsDiff(concat(r.ys), api.batchNormTrain(x, { shape, layout: 'NCL' }).y) < 1e-5, 'right answer after the replacement');
        assert.equal(p.workers()[1].starts, 2, 'worker 1 started twice');
      } finally {
        await p.close();
      }
    }, slow);
  }

  test('close() ends the workers; later ops reject', async () => {
    const p = await api.createPool({ workers: 2 });
    await p.close();
    assert.ok(p.workers().every((w) => w.state === 'closed'), 'all closed');
    await assert.throws(() => p.syncPartialStats([{ x: new Float32Array(6), shape: [2, 3] }], { layout: 'NC' }), /closed/);
    for (const q of pools.values()) await q.close();
  }, slow);
}
