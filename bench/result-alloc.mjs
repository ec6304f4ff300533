// What a fresh result array costs inside an op call, and what the ways of making one cost: the
// row backwards at C values (one row, zero-copy Tensors, `out` given) with their gradients
//   given    — into arrays the caller keeps (dgammaOut / dbetaOut: no allocation),
//   fresh    — as the op's own fresh results (one off-heap backing store a call),
//   new      — into `new Float32Array(C)` arrays the caller makes each call,
//   pooled   — into views of a kept 1 MiB ArrayBuffer handed out in turn (a Buffer-pool scheme),
// and the allocations alone (no op), all batch by batch interleaved in one process, CPU time
// (GC helper threads included). `node --trace-gc` shows the scavenges the off-heap stores
// trigger ("external memory pressure").
//
//   node bench/result-alloc.mjs [--cs 16,256,2048] [--rounds 30] [--calls 2000]
import * as A from "../dist/index.js";
import { randomArray } from "../test/reference.mjs";
import { parseArgs, median } from "./lib/cli.mjs";

const { opts } = parseArgs(process.argv.slice(2), { cs: "16,256,2048", rounds: "30", calls: "2000" });
const ROUNDS = +opts.rounds, CALLS = +opts.calls;
await A.init({ warmup: true });

/** A Buffer-pool scheme for Float32Arrays: views of one kept ArrayBuffer, a new one when it is used up. */
function pool(bytes) {
  let buf = new ArrayBuffer(bytes), at = 0;
  return (n) => {
    if (at + 4 * n > bytes) { buf = new ArrayBuffer(bytes); at = 0; }
    const v = new Float32Array(buf, at, n);
    at += 4 * n;
    return v;
  };
}

function cases(C) {
  const r = A.tensor([1, C], "NC", randomArray(C, 1)), dy = A.tensor([1, C], "NC", randomArray(C, 2)), out = A.tensor([1, C], "NC");
  const gamma = new Float32Array(C).fill(1.5), beta = new Float32Array(C).fill(0.1);
  const ln = A.layerNorm(r, { gamma, beta }), rms = A.rmsNorm(r, { gamma });
  const dg = new Float32Array(C), db = new Float32Array(C), take = pool(1 << 20);
  const lnb = (dgammaOut, dbetaOut) => A.layerNormBackward(r, dy, { gamma, beta, mean: ln.mean, invstd: ln.invstd, out, dgammaOut, dbetaOut });
  const rmsb = (dgammaOut) => A.rmsNormBackward(r, dy, { gamma, invRms: rms.invRms, out, dgammaOut });
  return [
    ["layerNormBackward", "given", () => lnb(dg, db)],
    ["layerNormBackward", "fresh", () => lnb(undefined, undefined)],
    ["layerNormBackward", "new", () => lnb(new Float32Array(C), new Float32Array(C))],
    ["layerNormBackward", "pooled", () => lnb(take(C), take(C))],
    ["rmsNormBackward", "given", () => rmsb(dg)],
    ["rmsNormBackward", "fresh", () => rmsb(undefined)],
    ["rmsNormBackward", "new", () => rmsb(new Float32Array(C))],
    ["rmsNormBackward", "pooled", () => rmsb(take(C))],
    ["alone", "new Float32Array(C)", () => new Float32Array(C)],
    ["alone", "new Float32Array(C) × 2", () => { new Float32Array(C); return new Float32Array(C); }],
    ["alone", "one ArrayBuffer(8·C), two views", () => { const b = new ArrayBuffer(8 * C); new Float32Array(b, 0, C); return new Float32Array(b, 4 * C, C); }],
    ["alone", "pooled view", () => take(C)],
  ];
}

/** µs a call (CPU time of the process). */
function batch(fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / CALLS;
}

console.log(`fresh result arrays, CPU µs a call (median of ${ROUNDS} batches of ${CALLS}; Node ${process.versions.node}):`);
console.log("| C | op | gradients | µs |\n|---|---|---|---|");
for (const C of opts.cs.split(",").map(Number)) {
  const list = cases(C), t = list.map(() => []);
  for (const [, , f] of list) for (let i = 0; i < 200; i++) f();
  for (let r = 0; r < ROUNDS; r++) {
    list.forEach(([, , f], i) => t[i].push(batch(f)));
  }
  list.forEach(([op, how], i) => console.log(`| ${C} | ${op} | ${how} | ${median(t[i]).toFixed(2)} |`));
}
