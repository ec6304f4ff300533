// Worker pool speed: one big op split across the pool (shared memory, zero-copy tensors) against
// the same op on one thread, measured interleaved in one process (ratios, not absolute times,
// are the point on a shared machine). Also the sizes where splitting starts to pay (the pool's
// minSplit default). Outputs are checked against the single-threaded result before timing.
//
//   node bench/workers.mjs [--workers 2] [--values 8388608] [--reps 30] [--layout NCHW] [--json FILE]
//
// Target (issue 5): statistics on ≥ 8M values with 2 workers ≥ 1.7× one thread.
import * as api from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { writeFileSync } from "node:fs";
import os from "node:os";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const workers = +arg("workers", 2);
const values = +arg("values", 8 << 20);
const reps = +arg("reps", 30);
const layout = arg("layout", "NCHW");
const C = 32;
const shapeFor = (n) => (layout === "NHWC" ? [n / C / 1024, 32, 32, C] : [n / C / 1024, C, 32, 32]);

// minSplit 0: the pool splits whatever it is given (this bench decides what pays).
const pool = await api.createPool({ workers, minSplit: 0 });
if (pool.transport !== "shared") throw new Error(`expected the shared transport, got ${pool.transport}`);

const med = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
const maxRel = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + 1e-6)); return m; };

/** Interleaved timings of single-threaded f1 and pooled f2: { one, pool } arrays of ms. */
async function race(f1, f2, n) {
  for (let i = 0; i < 3; i++) { f1(); await f2(); }
  const one = [], pl = [];
  for (let r = 0; r < n; r++) {
    let t = performance.now(); f1(); one.push(performance.now() - t);
    t = performance.now(); await f2(); pl.push(performance.now() - t);
  }
  return { one, pool: pl };
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

console.log(`simdnorm worker pool: ${workers} workers (${pool.transport} memory) vs one thread, ${layout}, C=${C}, median of ${reps}`);
console.log(`node ${process.version}, ${os.cpus()[0].model} × ${os.cpus().length}, load average ${os.loadavg().map((v) => v.toFixed(2)).join(" ")}`);

const results = { crossover: [], big: {} };
console.log("\nwhere splitting pays (stats):");
console.log("values        one thread ms   pool ms   speed-up");
for (let n = 1 << 16; n <= 1 << 22; n *= 4) {
  const o = ops(n);
  const t = await race(o.list.stats[1], o.list.stats[2], Math.max(reps, 40));
  const r = { values: n, one: med(t.one), pool: med(t.pool) };
  results.crossover.push(r);
  console.log(`${String(n).padEnd(12)} ${r.one.toFixed(3).padStart(13)} ${r.pool.toFixed(3).padStart(9)}   ${(r.one / r.pool).toFixed(2)}×`);
  o.free();
}

console.log(`\n${(values / (1 << 20)).toFixed(0)}M values (${(values * 4 / 1e6).toFixed(0)} MB):`);
console.log("op            one thread ms   GB/s    pool ms   GB/s   speed-up");
const big = ops(values);
for (const [name, [bpv, f1, f2]] of Object.entries(big.list)) {
  const t = await race(f1, f2, reps);
  const one = med(t.one), pl = med(t.pool);
  results.big[name] = { one, pool: pl, speedup: one / pl };
  const gb = (ms) => ((bpv * values) / ms / 1e6).toFixed(1);
  console.log(`${name.padEnd(12)} ${one.toFixed(3).padStart(14)} ${gb(one).padStart(6)} ${pl.toFixed(3).padStart(10)} ${gb(pl).padStart(6)}   ${(one / pl).toFixed(2)}×`);
}
big.free();
const s = results.big.stats.speedup;
console.log(`\nstats on ${values} values: ${s.toFixed(2)}× with ${workers} workers — target ≥ 1.7×: ${s >= 1.7 ? "met" : "MISSED"}${os.loadavg()[0] > 0.5 ? " (the machine is not idle: see load average)" : ""}`);
await pool.close();
const jf = arg("json");
if (jf) writeFileSync(jf, JSON.stringify({ workers, layout, values, reps, node: process.version, cpu: os.cpus()[0].model, loadavg: os.loadavg(), results }, null, 2));
