// Worker pool speed: one big op split across the pool (shared memory, zero-copy tensors) against
// the same op on one thread, measured interleaved in one process (ratios, not absolute times,
// are the point on a shared machine). Also the sizes where splitting starts to pay (the pool's
// minSplit default). Outputs are checked against the single-threaded result before timing.
//
//   node bench/workers.mjs [--workers 2] [--values 8388608] [--reps 30] [--layout NCHW] [--json FILE]
//
// Target: statistics on ≥ 8M values with 2 workers ≥ 1.7× one thread.
import * as api from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { Worker } from "node:worker_threads";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { workers: "2", values: String(8 << 20), reps: "30", layout: "NCHW", json: "" });
const workers = +opts.workers;
const values = +opts.values;
const reps = +opts.reps;
const layout = opts.layout;
const C = 32;
const shapeFor = (n) => (layout === "NHWC" ? [n / C / 1024, 32, 32, C] : [n / C / 1024, C, 32, 32]);

// minSplit 0: the pool splits whatever it is given (this bench decides what pays). solo: a pool
// of one worker, given the whole tensor as one shard ("one worker", messaging included).
const pool = await api.createPool({ workers, minSplit: 0 });
const solo = await api.createPool({ workers: 1 });
if (pool.transport !== "shared") throw new Error(`expected the shared transport, got ${pool.transport}`);

const maxRel = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-6)); return m; };

const best = (a) => Math.min(...a);

/**
 * Timings (ms) of each function: rounds of BLOCK consecutive calls per function, the functions
 * taking turns (so drift on a shared machine hits all alike), n calls each after a warm-up round.
 * Consecutive calls are how a loop calls an op; the first of a block pays for waking idle threads.
 */
const BLOCK = 5;
async function race(fns, n) {
  for (const f of fns) for (let i = 0; i < BLOCK; i++) await f();
  const t = fns.map(() => []);
  for (let r = 0; r < Math.ceil(n / BLOCK); r++) {
    for (let k = 0; k < fns.length; k++) {
      for (let i = 0; i < BLOCK; i++) { const t0 = performance.now(); await fns[k](); t[k].push(performance.now() - t0); }
    }
  }
  return t;
}

function ops(n) {
  const shape = shapeFor(n);
  const x = api.tensor(shape, layout, randomArray(n, 7, { offset: 100, scale: 3 }));
  const dy = api.tensor(shape, layout, randomArray(n, 8));
  const y = api.tensor(shape, layout);
  const gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.25);
  const saved = api.batchNormTrain(x, { gamma, beta, out: y });
  const bw = { gamma, saveMean: saved.saveMean, saveInvstd: saved.saveInvstd, out: y };
  return {
    free: () => { x.free(); dy.free(); y.free(); },
    solo: () => solo.syncPartialStats([{ x }]),
    list: {
      stats: [4, () => api.partialStats(x), () => pool.partialStats(x)],
      bn_train: [12, () => api.batchNormTrain(x, { gamma, beta, out: y }), () => pool.batchNormTrain(x, { gamma, beta, out: y })],
      bn_backward: [20, () => api.batchNormBackward(x, dy, bw), () => pool.batchNormBackward(x, dy, bw)],
    },
  };
}

// Correctness first: the split result equals the single-threaded one.
const check = ops(1 << 20);
{
  const s1 = api.finishStats(check.list.stats[1]()), s2 = api.finishStats(await check.list.stats[2]());
  const e = Math.max(maxRel(s2.mean, s1.mean), maxRel(s2.var, s1.var));
  if (e > 1e-6) throw new Error(`split statistics differ from one thread: max rel ${e}`);
}
check.free();

/**
 * How many cores two threads really get right now: two workers each run a fixed compute loop,
 * alone and together; 2 × alone / together is ≈ 2 on an idle 2-core machine, ≈ 1 when another
 * process holds a core (then no split can pay, and this bench measures the machine, not the pool).
 */
async function parallelCapacity() {
  const src = `require("node:worker_threads").parentPort.on("message", (n) => { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); require("node:worker_threads").parentPort.postMessage(s); });`;
  const ws = [0, 1].map(() => new Worker(src, { eval: true }));
  const run = (w, n) => new Promise((r) => { w.once("message", r); w.postMessage(n); });
  await Promise.all(ws.map((w) => run(w, 1e6)));
  let alone = Infinity, both = Infinity;
  for (let r = 0; r < 3; r++) {
    let t = performance.now(); await run(ws[0], 3e7); alone = Math.min(alone, performance.now() - t);
    t = performance.now(); await Promise.all(ws.map((w) => run(w, 3e7))); both = Math.min(both, performance.now() - t);
  }
  await Promise.all(ws.map((w) => w.terminate()));
  return (2 * alone) / both;
}
const capacity = await parallelCapacity();

console.log(`simdnorm worker pool: ${workers} workers (${pool.transport} memory) vs one thread, ${layout}, C=${C}, median of ${reps}`);
console.log(`node ${process.version}, ${os.cpus()[0].model} × ${os.cpus().length}, load average ${os.loadavg().map((v) => v.toFixed(2)).join(" ")}, parallel capacity of 2 threads now: ${capacity.toFixed(2)} cores`);

const results = { crossover: [], big: {} };
console.log("\nwhere splitting pays (median ms; speed-up of the pool over one thread):");
console.log("values        stats: one thread   one worker   pool   speed-up   bn_train: one thread   pool   speed-up");
for (let n = 1 << 16; n <= 1 << 22; n *= 4) {
  const o = ops(n);
  const [a, b, c] = await race([o.list.stats[1], o.solo, o.list.stats[2]], Math.max(reps, 40));
  const [d, e] = await race([o.list.bn_train[1], o.list.bn_train[2]], Math.max(reps, 40));
  const r = { values: n, one: median(a), solo: median(b), pool: median(c), trainOne: median(d), trainPool: median(e) };
  results.crossover.push(r);
  console.log(`${String(n).padEnd(12)} ${r.one.toFixed(3).padStart(18)} ${r.solo.toFixed(3).padStart(12)} ${r.pool.toFixed(3).padStart(6)} ${(r.one / r.pool).toFixed(2).padStart(9)}× ${r.trainOne.toFixed(3).padStart(22)} ${r.trainPool.toFixed(3).padStart(6)} ${(r.trainOne / r.trainPool).toFixed(2).padStart(9)}×`);
  o.free();
}

console.log(`\n${(values / (1 << 20)).toFixed(0)}M values (${(values * 4 / 1e6).toFixed(0)} MB), ms median (best):`);
console.log("op            one thread        one worker        pool              GB/s (pool)   speed-up vs thread / vs worker");
const big = ops(values);
for (const [name, [bpv, f1, f2]] of Object.entries(big.list)) {
  const fns = name === "stats" ? [f1, big.solo, f2] : [f1, f2];
  const t = await race(fns, reps);
  const [a, c] = [t[0], t[t.length - 1]], b = name === "stats" ? t[1] : null;
  const r = { one: median(a), oneBest: best(a), pool: median(c), poolBest: best(c), solo: b && median(b), soloBest: b && best(b) };
  r.speedup = r.one / r.pool; r.speedupBest = r.oneBest / r.poolBest;
  if (b) { r.vsWorker = r.solo / r.pool; r.vsWorkerBest = r.soloBest / r.poolBest; }
  results.big[name] = r;
  const cell = (m, bst) => (m == null ? "—" : `${m.toFixed(3)} (${bst.toFixed(3)})`).padEnd(18);
  console.log(`${name.padEnd(13)} ${cell(r.one, r.oneBest)}${cell(r.solo, r.soloBest)}${cell(r.pool, r.poolBest)}${((bpv * values) / r.pool / 1e6).toFixed(1).padStart(8)}      ${r.speedup.toFixed(2)}× (${r.speedupBest.toFixed(2)}×)${b ? ` / ${r.vsWorker.toFixed(2)}× (${r.vsWorkerBest.toFixed(2)}×)` : ""}`);
}
big.free();
const st = results.big.stats;
const verdict = (v) => `${v.toFixed(2)}× ${v >= 1.7 ? "met" : "MISSED"}`;
console.log(`\nstats on ${values} values with ${workers} workers, target ≥ 1.7×: vs one thread ${verdict(st.speedup)}, vs one worker ${verdict(st.vsWorker)} (medians; best-of: ${st.speedupBest.toFixed(2)}×, ${st.vsWorkerBest.toFixed(2)}×)`);
if (capacity < 1.8) console.log(`two threads got only ${capacity.toFixed(2)} cores' worth of compute: other work shares the machine, and the ratios above say more about it than about the pool`);
await pool.close();
await solo.close();
const jf = opts.json;
if (jf) writeFileSync(jf, JSON.stringify({ workers, layout, values, reps, node: process.version, cpu: os.cpus()[0].model, loadavg: os.loadavg(), capacity, results }, null, 2));
