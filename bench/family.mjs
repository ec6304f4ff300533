// Instance, group and layer norm, forward and backward: simdnorm (zero-copy tensors in wasm
// memory) against the plain-JS peer (bench/peers/js.mjs: f64 accumulators, per-channel constants
// hoisted, memory walked contiguously), and a Float32Array copy of the same bytes as a rough memory ceiling.
//
// Bytes counted: forward 8 per value (read x, write y), backward 12 per value (read x and dy,
// write dx): what the op must move at least, whatever passes it makes.
// Before timing, every system is checked against the float64 reference on a reduced shape of the
// same layout and C, and simdnorm against plain JS on the full shape.
//
//   node bench/family.mjs [--reps 15]
import * as api from "../dist/index.js";
import { refInstanceNorm, refGroupNorm, refLayerNorm, randomArray, compare, geometry } from "../test/reference.mjs";
import { readFileSync } from "node:fs";
import os from "node:os";
import { parseArgs, median } from "./lib/cli.mjs";
import { JS_OPS } from "./peers/js.mjs";
import { geometry as peerGeometry } from "./peers/common.mjs";

const { opts } = parseArgs(process.argv.slice(2), { reps: "15" });
const reps = +opts.reps;
const EPS = 1e-5, GROUPS = 32;

// ---- cases ---------------------------------------------------------------------------------

const OPS = {
  instance: { api: [api.instanceNorm, api.instanceNormBackward], ref: refInstanceNorm },
  group: { api: [api.groupNorm, api.groupNormBackward], ref: refGroupNorm },
  layer: { api: [api.layerNorm, api.layerNormBackward], ref: refLayerNorm },
};
const CASES = [
  ["instance", "NCHW", [8, 64, 56, 56]], ["instance", "NHWC", [8, 56, 56, 64]],
  ["group", "NCHW", [8, 64, 56, 56]], ["group", "NHWC", [8, 56, 56, 64]],
  ["layer", "NCHW", [8, 64, 56, 56]], ["layer", "NHWC", [8, 56, 56, 64]], ["layer", "NLC", [8, 196, 768]],
];

/** The plain-JS pair (bench/peers/js.mjs) for an op on a geometry: forward(x) → stats; backward(x, dy) with them. */
function jsOp(op, shape, layout) {
  const g = peerGeometry(shape, layout), name = `${op}_norm`, groups = GROUPS, fwd = JS_OPS[name](g), bwd = JS_OPS[`${name}_backward`](g);
  let st;
  return {
    fwd: (x, gamma, beta) => (st = fwd({ x, gamma, beta, eps: EPS, groups })),
    bwd: (x, dy, gamma) => bwd({ x, dy, gamma, mean: st.mean, invstd: st.invstd, groups }),
  };
}

function expectClose(got, exp, atol, rtol, what) {
  const r = compare(got, exp, atol, rtol);
  if (r) throw new Error(`${what}: index ${r.index} got ${r.got}, expected ${r.expected} (${r.count} off): not timing a wrong result`);
}

/** groups for group norm; absent (undefined) for instance and layer norm, which refuse it. */
const groupsOf = (op) => (op === "group" ? GROUPS : undefined);

/** Both systems against the float64 reference on a small shape of the same layout and C. */
function verifySmall(op, layout, shape) {
  const small = layout === "NLC" ? [2, 13, shape[2]] : layout === "NCHW" ? [2, shape[1], 5, 7] : [2, 5, 7, shape[3]];
  const g = geometry(small, layout), n = g.N * g.C * g.S;
  const x = randomArray(n, 3), dy = randomArray(n, 4), gamma = randomArray(g.C, 5, { offset: 1 }), beta = randomArray(g.C, 6);
  const e = OPS[op].ref(x, dy, small, layout, { gamma, beta, eps: EPS, groups: GROUPS });
  const [fwd, bwd] = OPS[op].api, o = { shape: small, layout, gamma, beta, groups: groupsOf(op) };
  const r = fwd(x, o), b = bwd(x, dy, { ...o, mean: r.mean, invstd: r.invstd });
  const j = jsOp(op, small, layout), jr = j.fwd(x, gamma, beta), jb = j.bwd(x, dy, gamma);
  for (const [name, got] of [["simdnorm", { ...r, ...b }], ["js", { y: jr.y, ...jb }]]) {
    expectClose(got.y, e.y, 3e-4, 1e-4, `${name} ${op} ${layout} y`);
    expectClose(got.dx, e.dx, 1e-3, 1e-3, `${name} ${op} ${layout} dx`);
    expectClose(got.dgamma, e.dgamma, 1e-3, 1e-4, `${name} ${op} ${layout} dgamma`);
    expectClose(got.dbeta, e.dbeta, 1e-3, 1e-4, `${name} ${op} ${layout} dbeta`);
  }
}

await api.init();
const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
const rows = [];
const t0 = performance.now();
for (const [op, layout, shape] of CASES) {
  verifySmall(op, layout, shape);
  const g = geometry(shape, layout), n = g.N * g.C * g.S;
  const xs = randomArray(n, 1), dys = randomArray(n, 2), gamma = randomArray(g.C, 3, { offset: 1 }), beta = randomArray(g.C, 4);
  const x = api.tensor(shape, layout, xs), dy = api.tensor(shape, layout, dys), y = api.tensor(shape, layout), dx = api.tensor(shape, layout);
  const [fwd, bwd] = OPS[op].api, o = { gamma, beta, groups: groupsOf(op) };
  const st = fwd(x, { ...o, out: y });
  const j = jsOp(op, shape, layout), copyDst = new Float32Array(n);
  // Full-size agreement, simdnorm vs plain JS.
  const jr = j.fwd(xs, gamma, beta);
  expectClose(y.data, jr.y, 1e-3, 1e-3, `simdnorm vs js ${op} ${layout} y`);
  const jb = j.bwd(xs, dys, gamma), sb = bwd(x, dy, { ...o, mean: st.mean, invstd: st.invstd, out: dx });
  expectClose(dx.data, jb.dx, 2e-3, 2e-3, `simdnorm vs js ${op} ${layout} dx`);
  expectClose(sb.dgamma, jb.dgamma, 0.05, 1e-3, `simdnorm vs js ${op} ${layout} dgamma`);
  const systems = {
    "simdnorm fwd": [8, () => fwd(x, { ...o, out: y })],
    "simdnorm bwd": [12, () => bwd(x, dy, { ...o, mean: st.mean, invstd: st.invstd, out: dx })],
    "js fwd": [8, () => j.fwd(xs, gamma, beta)],
    "js bwd": [12, () => j.bwd(xs, dys, gamma)],
    copy: [8, () => copyDst.set(xs)],
  };
  const times = Object.fromEntries(Object.keys(systems).map((k) => [k, []]));
  for (const [, f] of Object.values(systems)) for (let i = 0; i < 2; i++) f();
  for (let r = 0; r < reps; r++) for (const [k, [, f]] of Object.entries(systems)) { const a = performance.now(); f(); times[k].push(performance.now() - a); }
  const res = Object.fromEntries(Object.entries(systems).map(([k, [bpv]]) => { const ms = median(times[k]); return [k, { ms, gbps: (bpv * n) / ms / 1e6 }]; }));
  rows.push({ op, layout, shape, res });
  for (const t of [x, dy, y, dx]) t.free();
  process.stderr.write(`  ${op} ${layout} done\r`);
}

console.log(`simdnorm ${version} family kernels: median of ${reps}, node ${process.version} (V8 ${process.versions.v8}), ${os.cpus()[0].model}, ${os.cpus().length} cores, ${os.platform()}-${os.arch()}`);
console.log(`bytes counted: forward 8/value (read x, write y), backward 12/value (read x, dy, write dx); copy = Float32Array.set of x (8/value). groups = ${GROUPS}.`);
const head = ["op", "layout", "shape", "fwd ms", "fwd GB/s", "js fwd ms", "× js", "bwd ms", "bwd GB/s", "js bwd ms", "× js", "copy GB/s"];
const table = rows.map(({ op, layout, shape, res: r }) => [
  op, layout, shape.join("×"),
  r["simdnorm fwd"].ms.toFixed(2), r["simdnorm fwd"].gbps.toFixed(1), r["js fwd"].ms.toFixed(2), (r["js fwd"].ms / r["simdnorm fwd"].ms).toFixed(1),
  r["simdnorm bwd"].ms.toFixed(2), r["simdnorm bwd"].gbps.toFixed(1), r["js bwd"].ms.toFixed(2), (r["js bwd"].ms / r["simdnorm bwd"].ms).toFixed(1),
  r.copy.gbps.toFixed(1),
]);
const w = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
console.log(head.map((h, i) => h.padStart(w[i])).join("  "));
for (const row of table) console.log(row.map((c, i) => c.padStart(w[i])).join("  "));
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
