// The checks the runtime matrix (run.mjs) runs in every runtime: a smoke test of the public API,
// every golden case (test/golden, through golden-case.mjs: the same runCase as golden.test.mjs)
// and, where the runtime has threads, the pool's golden shard cases. No Node imports: the same
// module runs in Node, Deno, Bun and workerd. Each check is one test: { name, ok, message }.
import { decodeCase, runCase } from "../golden-case.mjs";
import { GOLDEN_OPS } from "../golden-ops.mjs";
import { isShardCase, runShardCase } from "../sync-golden.mjs";
import { refBnTrain, randomArray, compare } from "../reference.mjs";

async function check(results, name, fn) {
  try {
    const r = await fn();
    results.push(r && r.ok === false ? { name, ok: false, message: r.message } : { name, ok: true });
  } catch (e) {
    results.push({ name, ok: false, message: String((e && e.stack) || e).split("\n").slice(0, 3).join(" | ") });
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * Smoke test + golden cases on `api` (the imported package). rawCases: [{ file, json }] with
 * json the parsed case file. opts.noThreads: expect createPool to reject saying so (edge).
 * opts.wasmBytes: the bytes of `simdnorm/wasm`, checked when given.
 */
export async function runChecks(api, rawCases, opts = {}) {
  const results = [];
  await check(results, "smoke: SIMD supported, init() resolves", async () => {
    assert(api.simdSupported() === true, "simdSupported() is not true");
    await api.init();
    assert(api.isInitialized(), "isInitialized() is false after init()");
  });
  await check(results, "smoke: batchNormTrain NCHW matches the float64 reference", () => {
    const shape = [2, 3, 5, 7], n = 2 * 3 * 5 * 7;
    const x = randomArray(n, 7, { offset: 3, scale: 2 });
    const gamma = Float32Array.from([1, 0.5, 2]), beta = Float32Array.from([0, 1, -1]);
    const runningMean = new Float32Array(3), runningVar = Float32Array.from([1, 1, 1]);
    const want = refBnTrain(x, shape, "NCHW", { gamma, beta, eps: 1e-5, momentum: 0.1, runningMean: runningMean.slice(), runningVar: runningVar.slice() });
    const got = api.batchNormTrain(x, { shape, layout: "NCHW", gamma, beta, runningMean, runningVar, momentum: 0.1, eps: 1e-5 });
    const y = got.y && typeof got.y.toArray === "function" ? got.y.toArray() : got.y;
    for (const [k, g, w] of [["y", y, want.y], ["runningMean", runningMean, want.runningMean], ["runningVar", runningVar, want.runningVar]]) {
      const bad = compare(g, w, 1e-5, 1e-4);
      if (bad) return { ok: false, message: `${k}[${bad.index}] = ${bad.got}, expected ${bad.expected}` };
    }
  });
  await check(results, "smoke: a tensor in wasm memory is used in place and freed", () => {
    const t = api.tensor([4, 2], "NC", [1, 2, 3, 4, 5, 6, 7, 8]);
    const s = api.channelStats(t);
    assert(Array.from(s.mean).join() === "4,5" && Array.from(s.var).join() === "5,5", `stats of the tensor: mean ${Array.from(s.mean)}, var ${Array.from(s.var)}`);
    t.free();
  });
  await check(results, "smoke: fromPixels and byte statistics (RGBA, ImageNet preset, NCHW)", () => {
    const px = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) & 255);
    const t = api.fromPixels(px, { width: 5, height: 3, preset: "imagenet" });
    const want = (px[4 * 7 + 1] / 255 - 0.456) / 0.224, got = t.data[15 + 7];
    assert(t.shape.join() === "1,3,3,5" && Math.abs(got - want) <= 1e-6, `shape ${t.shape}, green of pixel 7: ${got} vs ${want}`);
    t.free();
    const s = api.channelStats(px, { width: 5, height: 3 });
    let r = 0; for (let i = 0; i < px.length; i += 4) r += px[i];
    assert(s.count === 15 && s.mean[0] === r / 15, `byte statistics: count ${s.count}, red mean ${s.mean[0]} vs ${r / 15}`);
  });
  await check(results, "smoke: a bad argument throws an Error naming it", () => {
    try {
      api.batchNormInfer(new Float32Array(12), { shape: [4, 3], layout: "NC", gamma: new Float32Array(4), beta: new Float32Array(3), runningMean: new Float32Array(3), runningVar: new Float32Array(3) });
    } catch (e) {
      assert(e instanceof Error && /gamma/.test(e.message), `threw ${e && e.message}`);
      return;
    }
    throw new Error("did not throw");
  });
  if (opts.wasmBytes) {
    await check(results, "smoke: simdnorm/wasm is the SIMD module with the kernels", () => {
      const m = opts.wasmBytes instanceof WebAssembly.Module ? opts.wasmBytes : new WebAssembly.Module(opts.wasmBytes);
      const names = WebAssembly.Module.exports(m).map((e) => e.name);
      assert(names.includes("heap_base") && names.includes("memory"), `exports: ${names.slice(0, 8).join(", ")}…`);
    });
  }
  if (opts.noThreads) {
    await check(results, "smoke: createPool rejects saying the runtime has no threads", async () => {
      let err;
      try { await api.createPool({ workers: 2 }); } catch (e) { err = e; }
      assert(err instanceof Error && /no threads/.test(err.message), `createPool ${err ? `threw "${err.message}"` : "resolved"}`);
    });
  }
  for (const { file, json } of rawCases) {
    const c = decodeCase(structuredClone(json), file);
    if (!GOLDEN_OPS[c.op]) continue;
    await check(results, `golden ${c.name || file}`, () => runCase(api, c));
  }
  return results;
}

/**
 * The worker pool (runtimes with threads): createPool BEFORE init (so "auto" can pick the
 * shared-memory runtime), then every golden shard case on it. Returns { results, transport }.
 */
export async function runPoolChecks(api, rawCases) {
  const results = [];
  let pool, transport = null;
  await check(results, "pool: createPool({ workers: 2 }) starts", async () => {
    pool = await api.createPool({ workers: 2, timeout: 60000 });
    transport = pool.transport;
  });
  if (pool) {
    for (const { file, json } of rawCases) {
      const c = decodeCase(structuredClone(json), file);
      if (!isShardCase(c)) continue;
      await check(results, `pool golden ${c.name || file}`, () => runShardCase(api, pool, c));
    }
    await check(results, "pool: close()", () => pool.close());
  }
  return { results, transport };
}

/**
 * The README's edge examples: POST 3 rows of 64 values through `handle` (Request → Response) and
 * check that every row comes back normalized (mean 0, variance 1). Returns { ok, message }.
 */
export async function checkRowsExample(handle) {
  const rows = 3, C = 64;
  const x = Float32Array.from({ length: rows * C }, (_, i) => 100 + (i % C) * 0.5 + Math.floor(i / C));
  const res = await handle(new Request("http://example/", { method: "POST", body: x.buffer }));
  const y = new Float32Array(await res.arrayBuffer());
  if (y.length !== rows * C) return { ok: false, message: `${y.length} values back, expected ${rows * C}` };
  for (let r = 0; r < rows; r++) {
    const row = y.subarray(r * C, (r + 1) * C);
    const mean = row.reduce((a, b) => a + b, 0) / C, v = row.reduce((a, b) => a + b * b, 0) / C - mean * mean;
    if (Math.abs(mean) > 1e-4 || Math.abs(v - 1) > 1e-3) return { ok: false, message: `row ${r}: mean ${mean}, var ${v}` };
  }
  return { ok: true };
}
