// Seeded property fuzz against the float64 reference: random ops, layouts and shapes (C and S
// from 1 to 70), offsets up to 1e6, scales from 1e-6 to 1e6, inputs as tensors, plain arrays or
// unaligned views of wasm memory, outputs new, given or in place. ~1000 cases by default;
// `npm run fuzz` (or `node test/fuzz.test.mjs --cases 20000 --seed 7`) runs a longer one.
// A failure prints the case's seed: `node test/fuzz.test.mjs --only SEED` replays it.
import { test } from "uvu";
import * as api from "../dist/index.js";
import * as ref from "./reference.mjs";
import { close, shapeFor } from "./helpers.mjs";

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const CASES = arg("--cases", 1000), SEED = arg("--seed", 20261201), ONLY = arg("--only", -1);
await api.init();

const LAYOUTS = ["NC", "NCL", "NCHW", "NCDHW", "NLC", "NHWC", "NDHWC"];
const OPS = ["channelStats", "batchNormTrain", "batchNormInfer", "batchNormBackward", "batchNormBackwardEval", "instanceNorm", "groupNorm", "layerNorm",
  "instanceNormBackward", "groupNormBackward", "layerNormBackward"];
const FAMILY = { instanceNorm: ref.refInstanceNorm, groupNorm: ref.refGroupNorm, layerNorm: ref.refLayerNorm };

/** One case from its seed: everything random is drawn from this generator. */
function makeCase(seed) {
  const r = ref.rng(seed), int = (a, b) => a + Math.floor(r.u() * (b - a + 1)), pick = (a) => a[int(0, a.length - 1)];
  const logU = (lo, hi) => Math.exp(Math.log(lo) + r.u() * (Math.log(hi) - Math.log(lo)));
  const op = pick(OPS), layout = pick(LAYOUTS);
  // Sizes near SIMD edges half the time, anywhere in 1…70 otherwise.
  const edge = () => pick([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70]);
  const C = r.u() < 0.5 ? edge() : int(1, 70), S = layout === "NC" ? 1 : r.u() < 0.5 ? edge() : int(1, 70);
  let N = int(1, 4);
  if (op === "batchNormTrain" && N * S < 2) N = 2;
  const shape = shapeFor(layout, N, C, S);
  const offset = r.u() < 0.3 ? 0 : (r.u() < 0.5 ? -1 : 1) * logU(1e-3, 1e6), scale = logU(1e-6, 1e6);
  const size = N * C * S;
  const x = ref.randomArray(size, seed ^ 0x5bd1e995, { offset, scale });
  const dy = ref.randomArray(size, seed ^ 0x2545f491, { scale: logU(1e-3, 1e3) });
  const gamma = r.u() < 0.3 ? undefined : ref.randomArray(C, seed + 1, { offset: 1, scale: 0.5 });
  const beta = gamma && r.u() < 0.8 ? ref.randomArray(C, seed + 2) : undefined;
  const divisors = []; for (let g = 1; g <= C; g++) if (C % g === 0) divisors.push(g);
  return { seed, op, layout, shape, N, C, S, x, dy, gamma, beta, eps: pick([1e-5, 1e-3, 0.1]), groups: pick(divisors),
    input: pick(["plain", "tensor", "view"]), output: pick(["new", "given", "inplace"]), misalign: int(1, 3), momentum: r.u() };
}

/**
 * x, dy and out as the case asks. Every wasm block is allocated before any view of it is taken
 * (an allocation may grow memory and detach older views); views sit `mis` floats past a
 * 16-byte boundary (unaligned).
 */
function bind(c, keep) {
  const { shape, layout } = c, n = c.x.length;
  const block = () => keep[keep.push(api.tensor([1, n + 4], "NC")) - 1];
  const tensors = c.input === "tensor" ? [api.tensor(shape, layout, c.x), api.tensor(shape, layout, c.dy)] : [];
  keep.push(...tensors);
  const blocks = c.input === "view" ? [block(), block()] : [];
  const outBlock = c.output === "given" && c.input !== "plain" ? block() : null;
  const view = (t, mis, v) => { const a = t.data.subarray(mis, mis + n); if (v) a.set(v); return a; };
  const pick = (i, v, mis) => c.input === "plain" ? Float32Array.from(v) : c.input === "tensor" ? tensors[i] : view(blocks[i], mis, v);
  const x = pick(0, c.x, c.misalign), dy = pick(1, c.dy, 4 - c.misalign);
  let out;
  if (c.output === "inplace") out = x;
  else if (c.output === "given") out = outBlock ? view(outBlock, (c.misalign + 1) % 4) : new Float32Array(n);
  const geo = c.input === "tensor" ? {} : { shape, layout };
  return { x, dy, out, geo, read: (v) => (typeof v.toArray === "function" ? v.toArray() : Float32Array.from(v)) };
}

const maxAbs = (a) => Array.prototype.reduce.call(a, (m, v) => Math.max(m, Math.abs(v)), 1e-30);
/**
 * Output tolerance: f32 precision of the largest expected value plus |γ| + |β|: near zero
 * (|mean|·invstd ≤ 1) the kernels compute x·scale + shift, where |x·scale| ≤ |y − β| + |γ|, so
 * the sum cancels to about 2⁻²⁴ of that; 1e-4 relative on top.
 */
const tolOf = (e, gamma, beta) => 2e-5 * (maxAbs(e) + maxAbs(gamma ?? [1]) + (beta ? maxAbs(beta) : 0));

function runCase(c) {
  const keep = [];
  try {
    const { x, dy, out, geo, read } = bind(c, keep);
    const { shape, layout, gamma, beta, eps, C } = c, what = `seed ${c.seed} ${c.op} ${layout} ${JSON.stringify(shape)} ${c.input}/${c.output}`;
    const xs = Float32Array.from(c.x), big = xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const st = ref.refStats(xs, shape, layout);
    const sd = st.var.map(Math.sqrt).reduce((m, v) => Math.max(m, v), 0);
    if (c.op === "channelStats") {
      const s = api.channelStats(x, geo);
      close(s.mean, st.mean, 1e-6 * big, 1e-6, `${what} mean`, shape, layout);
      close(s.var, st.var, 1e-5 * big * sd + 1e-30, 2e-4, `${what} var`, shape, layout);
    } else if (c.op === "batchNormTrain") {
      const p = { gamma, beta, eps, momentum: c.momentum, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) };
      const e = ref.refBnTrain(xs, shape, layout, p);
      const r = api.batchNormTrain(x, { ...geo, ...p, out });
      close(read(r.y), e.y, tolOf(e.y, gamma, beta), 1e-4, `${what} y`, shape, layout);
      close(p.runningMean, e.runningMean, 1e-6 * big + 1e-30, 1e-5, `${what} running mean`);
      close(p.runningVar, e.runningVar, 1e-5 * big * sd + 1e-6, 2e-4, `${what} running var`);
      if (r.y !== out && typeof r.y.free === "function") r.y.free();
    } else if (c.op === "batchNormInfer") {
      const p = { gamma, beta, eps, runningMean: st.mean, runningVar: st.var };
      const y = api.batchNormInfer(x, { ...geo, ...p, out });
      const e = ref.refBnInfer(xs, shape, layout, p);
      close(read(y), e, tolOf(e, gamma, beta), 1e-4, `${what} y`, shape, layout);
      if (y !== out && typeof y.free === "function") y.free();
    } else if (c.op === "batchNormBackward" || c.op === "batchNormBackwardEval") {
      const dys = Float32Array.from(c.dy);
      const train = c.op === "batchNormBackward";
      const fw = ref.refBnTrain(xs, shape, layout, { eps, momentum: 0.1, runningMean: new Float64Array(C), runningVar: new Float64Array(C) });
      const p = train ? { gamma, saveMean: Float64Array.from(fw.saveMean), saveInvstd: Float32Array.from(fw.saveInvstd) } : { gamma, eps, runningMean: st.mean, runningVar: st.var };
      const e = train ? ref.refBnBackward(xs, dys, shape, layout, { ...p, saveInvstd: Float64Array.from(p.saveInvstd) }) : ref.refBnBackwardEval(xs, dys, shape, layout, p);
      const o = out === x ? dy : out; // backward in place on dy (x must stay for the reference)
      const r = api[c.op](x, dy, { ...geo, ...p, out: o });
      // dx cancels (exactly 0 for two values per channel): its error scales with γ·invstd·|dy|.
      const inv = train ? p.saveInvstd : st.var.map((v) => 1 / Math.sqrt(v + eps));
      const scaleDx = maxAbs(c.dy) * maxAbs(gamma ?? [1]) * maxAbs(inv);
      close(read(r.dx), e.dx, 1e-5 * scaleDx + 2e-5 * maxAbs(e.dx), 1e-3, `${what} dx`, shape, layout);
      close(r.dbeta, e.dbeta, 1e-4 * e.dbeta.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-30) + 1e-6 * c.dy.reduce((m, v) => m + Math.abs(v), 0), 1e-4, `${what} dbeta`);
      if (r.dx !== o && typeof r.dx.free === "function") r.dx.free();
    } else if (c.op.endsWith("Backward")) {
      const fwd = c.op.slice(0, -"Backward".length);
      if (fwd === "instanceNorm" && c.S === 1) return;
      const dys = Float32Array.from(c.dy);
      const e = FAMILY[fwd](xs, dys, shape, layout, { gamma, beta, eps, groups: c.groups });
      const o = out === x ? dy : out;
      const r = api[c.op](x, dy, { ...geo, gamma, mean: e.mean, invstd: Float32Array.from(e.invstd), groups: ownGroups(c), out: o });
      const scaleDx = maxAbs(c.dy) * maxAbs(gamma ?? [1]) * maxAbs(e.invstd);
      close(read(r.dx), e.dx, 1e-5 * scaleDx + 2e-5 * maxAbs(e.dx), 1e-3, `${what} dx`, shape, layout);
      if (r.dx !== o && typeof r.dx.free === "function") r.dx.free();
    } else {
      if (c.op === "instanceNorm" && c.S === 1) return;
      const e = FAMILY[c.op](xs, null, shape, layout, { gamma, beta, eps, groups: c.groups });
      const r = api[c.op](x, { ...geo, gamma, beta, eps, groups: ownGroups(c), out });
      close(read(r.y), e.y, tolOf(e.y, gamma, beta), 1e-4, `${what} y`, shape, layout);
      if (r.y !== out && typeof r.y.free === "function") r.y.free();
    }
  } finally {
    for (const t of keep) t.free();
  }
}

/** groups for group norm; undefined (absent) for the ops that refuse it. */
const ownGroups = (c) => (c.op.startsWith("groupNorm") ? c.groups : undefined);

test(`${ONLY >= 0 ? "case " + ONLY : CASES + " random cases"} against the float64 reference (seed ${SEED})`, () => {
  const base = api.memoryStats().allocatedBytes;
  if (ONLY >= 0) { runCase(makeCase(ONLY)); return; }
  const r = ref.rng(SEED);
  for (let i = 0; i < CASES; i++) runCase(makeCase(Math.floor(r.u() * 2 ** 31)));
  if (api.memoryStats().allocatedBytes !== base) throw new Error(`${api.memoryStats().allocatedBytes - base} bytes left allocated`);
});

test.run();
