// Where an op call's time goes, against its ceiling: each op's zero-copy call (Tensors, `out`
// given, as bench/matrix.mjs calls it) timed in batches, then the same calls with every wasm
// kernel wrapped in a timer, so each kernel's time *inside the call* (median of its calls) is set
// against the call's. The call splits into
//   JS          call − every kernel (validation, scope, per-channel work in JS),
//   per-channel the parameter kernels (bn_params_*, gn_params_*, vec_finite_f32),
//   set-up      each channels-last data kernel's fixed cost (lane pattern, folds), measured as
//               the same kernel on one super-row (pattern_len(C) / C rows) after the op's calls,
//   data        the data kernels less their set-up, each also as a fraction of its share of the
//               ceiling (statistics read 4 B/value, normalize and the backward sums move 8, dx 12),
// and the ceiling is bench/ceiling's SIMD copy of x into y on the same memory, scaled to the op's
// bytes (8 B/value inference, 12 training forward / instance / group norm, 20 the backwards),
// timed in turn with the calls. The public bundle does not expose the kernels: this one is built
// from js/ (bench/lib/bundle.mjs, the wasm of build/ read from disk): run `node build.mjs` first, and `node --no-liftoff` on a loaded machine (a kernel V8 has not yet
// tiered up runs 2–3× slower).
//
//   node --no-liftoff bench/breakdown.mjs [--sizes 65536,1048576] [--cs 3,64,256]
//     [--layouts NHWC] [--ops bn_infer,…] [--cells NHWC:1,1,85,768;NCHW:1,768,1,85] [--batches 15]
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleOf } from "./lib/bundle.mjs";
import { parseArgs, quantile } from "./lib/cli.mjs";
import { randomArray } from "../test/reference.mjs";
import { loadCeilingOn } from "./ceiling/index.mjs";

const { opts } = parseArgs(process.argv.slice(2), { sizes: "65536,1048576", cs: "3,64,256", layouts: "NHWC", cells: "", ops: "", batches: "15" });
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sn = await bundleOf(root);
await sn.init({ warmup: true });
const ceiling = await loadCeilingOn(sn.wasmMemory());

const K = sn.rt().kernels, plain = {}, times = {}, lastArgs = {};
for (const k of Object.keys(K)) if (typeof K[k] === "function") plain[k] = K[k];
/** Every kernel call timed into times[name], its arguments kept (on), or the kernels as they were (off). */
function timed(on) {
  for (const k of Object.keys(plain)) {
    K[k] = on ? (...a) => { const t0 = performance.now(); const r = plain[k](...a); (times[k] ??= []).push(performance.now() - t0); lastArgs[k] = a; return r; } : plain[k];
  }
}
/** Data kernels and the bytes a value they must move (the rest are per-channel work). */
const DATA = [[/^bn_stats_/, 4], [/^bn_normalize_/, 8], [/^bn_backward_reduce_/, 8], [/^bn_backward_dx_/, 12], [/^bn_fused_train/, 12], [/^bn_fused_backward/, 20], [/^act_normalize_/, 8], [/^gn_forward_short/, 12]];
const dataBytes = (k) => DATA.find(([re]) => re.test(k))?.[1];
const BATCHES = +opts.batches;
const us = (ms) => (ms * 1000).toFixed(1);

/** op → [bytes a value, run(t)], the calls of bench/matrix.mjs. */
const OPS = {
  bn_infer: [8, (t) => () => sn.batchNormInfer(t.x, { gamma: t.gamma, beta: t.beta, runningMean: t.rm0, runningVar: t.rv0, out: t.y })],
  bn_train: [12, (t) => () => sn.batchNormTrain(t.x, { gamma: t.gamma, beta: t.beta, runningMean: t.rm, runningVar: t.rv, out: t.y })],
  bn_backward: [20, (t) => () => sn.batchNormBackward(t.x, t.dy, { gamma: t.gamma, saveMean: t.bn.saveMean, saveInvstd: t.bn.saveInvstd, out: t.y })],
  instance_norm: [12, (t) => () => sn.instanceNorm(t.x, { gamma: t.gamma, beta: t.beta, out: t.y, meanOut: t.im, invstdOut: t.ii })],
  instance_backward: [20, (t) => () => sn.instanceNormBackward(t.x, t.dy, { gamma: t.gamma, mean: t.inst.mean, invstd: t.inst.invstd, out: t.y })],
  group_norm: [12, (t) => () => sn.groupNorm(t.x, { gamma: t.gamma, beta: t.beta, groups: t.G, out: t.y, meanOut: t.gm, invstdOut: t.gi })],
  group_backward: [20, (t) => () => sn.groupNormBackward(t.x, t.dy, { gamma: t.gamma, groups: t.G, mean: t.grp.mean, invstd: t.grp.invstd, out: t.y })],
};
const ops = opts.ops ? opts.ops.split(",") : Object.keys(OPS);
for (const o of ops) if (!OPS[o]) throw new Error(`unknown op ${o}: one of ${Object.keys(OPS)}`);

/** Cells: --cells as given, else the matrix's batch-1 shapes of every size × C × layout. */
const cells = opts.cells ? opts.cells.split(";").map((c) => { const [layout, dims] = c.split(":"); return [layout, dims.split(",").map(Number)]; })
  : opts.sizes.split(",").map(Number).flatMap((V) => opts.cs.split(",").map(Number).flatMap((C) => opts.layouts.split(",").map((l) => [l, l === "NHWC" ? [1, 1, Math.round(V / C), C] : [1, C, 1, Math.round(V / C)]])));

/** Calls f for ms milliseconds (at least 3 calls): V8 tiers wasm and JS up in the background. */
const warm = (f, ms = 200) => { const t0 = performance.now(); for (let i = 0; i < 3 || performance.now() - t0 < ms; i++) f(); };
/** ms per call of f and of g, samples of ≥ 0.3 ms alternated, lower quartile of each. */
function pair(f, g) {
  const kf = Math.max(1, Math.ceil(0.3 / sampleOnce(f))), kg = Math.max(1, Math.ceil(0.3 / sampleOnce(g))), a = [], b = [];
  for (let r = 0; r < BATCHES; r++) { a.push(sample(f, kf)); b.push(sample(g, kg)); }
  return [quantile(a, 0.25), quantile(b, 0.25)];
}
function sample(f, k) { const t0 = performance.now(); for (let i = 0; i < k; i++) f(); return (performance.now() - t0) / k; }
const sampleOnce = (f) => Math.max(sample(f, 1), 1e-4);

for (const [layout, shape] of cells) {
  const C = layout.endsWith("C") ? shape[shape.length - 1] : shape[1], V = shape.reduce((a, b) => a * b);
  const x = sn.tensor(shape, layout, randomArray(V, 1, { offset: 0.5, scale: 1.5 })), dy = sn.tensor(shape, layout, randomArray(V, 2)), y = sn.tensor(shape, layout);
  const gamma = new Float32Array(C).fill(1.1), beta = new Float32Array(C).fill(0.1);
  const G = C % 32 === 0 ? 32 : [16, 8, 4, 2].find((g) => g < C && C % g === 0) ?? 1;
  const t = { x, dy, y, gamma, beta, G, rm0: new Float32Array(C), rv0: new Float32Array(C).fill(1), rm: new Float32Array(C), rv: new Float32Array(C).fill(1) };
  t.bn = sn.batchNormTrain(x, { gamma, beta, out: y });
  t.inst = sn.instanceNorm(x, { out: y }); t.grp = sn.groupNorm(x, { groups: G, out: y });
  t.im = new Float32Array(t.inst.mean.length); t.ii = new Float32Array(t.inst.mean.length);
  t.gm = new Float32Array(t.grp.mean.length); t.gi = new Float32Array(t.grp.mean.length);
  console.log(`\n${layout} (${shape}) C=${C}, ${V} values: µs per call (lower quartile), ceiling = copy of x scaled to the op's bytes`);
  for (const name of ops) {
    const [bpv, make] = OPS[name], f = make(t), copy = () => ceiling.copyAt(V, x.ptr, y.ptr);
    warm(f); warm(copy);
    const [call, copyMs] = pair(f, copy), ceil = copyMs * bpv / 8;
    for (const k of Object.keys(times)) delete times[k];
    timed(true);
    for (let i = 0, n = Math.max(20, Math.round(3 / call)); i < n; i++) f();
    const calls = Math.max(20, Math.round(3 / call));
    timed(false);
    // Per call: a kernel's median call time × its calls per op call (pattern_len is a helper, not a kernel run).
    const parts = Object.entries(times).filter(([k]) => k !== "pattern_len").map(([k, v]) => [k, quantile(v, 0.5) * (v.length / calls), v.length / calls]);
    const data = parts.filter(([k]) => dataBytes(k)), perChannel = parts.filter(([k]) => !dataBytes(k));
    // Set-up: each channels-last data kernel again with R = one super-row (its first two arguments are R, C).
    const setup = Object.fromEntries(data.filter(([k]) => k.endsWith("_cl")).map(([k, , per]) => {
      const a = [...lastArgs[k]], L = plain.pattern_len(a[1]);
      a[0] = Math.max(1, L / a[1]);
      const g = () => plain[k](...a);
      warm(g, 30);
      return [k, quantile(Array.from({ length: 41 }, () => sample(g, 5)), 0.25) * per];
    }));
    const sum = (a) => a.reduce((s, [, v]) => s + v, 0), kernels = sum(parts), su = Object.values(setup).reduce((a, b) => a + b, 0);
    const lines = data.map(([k, v]) => {
      const ideal = ceil * dataBytes(k) / bpv, own = v - (setup[k] ?? 0);
      return `${k} ${us(own)}${setup[k] !== undefined ? ` (+${us(setup[k])} set-up)` : ""} = ${(ideal / own).toFixed(2)}× its ${us(ideal)}`;
    });
    console.log(`  ${name.padEnd(17)} call ${us(call).padStart(7)} vs ceiling ${us(ceil)} (${Math.round(100 * ceil / call)} %) | JS ${us(call - kernels)}, per-channel ${us(sum(perChannel))}, set-up ${us(su)}, data ${us(sum(data) - su)}: ${lines.join(", ")}`);
  }
  x.free(); dy.free(); y.free();
}
