// Instance, group and layer norm against the float64 reference: SIMD-edge sweeps in every
// layout, NCHW == transposed NHWC, offsets of 1e4, block/flush boundaries, finite differences,
// zero-copy and in-place use, and bad input (clear message, nothing modified).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refInstanceNorm, refGroupNorm, refLayerNorm, randomArray, geometry } from "./reference.mjs";
import { LAYOUTS, EDGE, shapeFor, toChannelsLast, close, throwsWith, throwsUntouched } from "./helpers.mjs";

await api.init();

const divisors = (C) => { const d = []; for (let i = 1; i <= C; i++) if (C % i === 0) d.push(i); return d; };

/** Calls op with its last argument (options) less `groups`, which only group norm takes (the others refuse it). */
const sansGroups = (op) => (...args) => { const { groups, ...o } = args.pop(); return op(...args, o); };

/** The three ops behind one interface; `groups` only reaches group norm. */
const OPS = {
  instance: { fwd: sansGroups(api.instanceNorm), bwd: sansGroups(api.instanceNormBackward), ref: refInstanceNorm, fits: (g) => g.S > 1 },
  group: { fwd: api.groupNorm, bwd: api.groupNormBackward, ref: refGroupNorm, fits: () => true },
  layer: { fwd: sansGroups(api.layerNorm), bwd: sansGroups(api.layerNormBackward), ref: refLayerNorm, fits: () => true },
};

/**
 * Forward and backward of one op on one shape against the reference. The backward gets the
 * forward's own Float32Array statistics, or with `exactStats` the reference's f64 ones.
 */
function check(op, layout, N, C, S, seed, { offset = 0, groups, exactStats = false } = {}) {
  const shape = shapeFor(layout, N, C, layout === "NC" ? 1 : S);
  const g = geometry(shape, layout);
  if (!OPS[op].fits(g)) return;
  if (groups === undefined) { const d = divisors(C); groups = d[seed % d.length]; }
  const x = randomArray(g.N * g.C * g.S, seed, { offset, scale: 1 + (seed % 3) });
  const dy = randomArray(x.length, seed + 7);
  const gamma = randomArray(C, seed + 1, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 2, { scale: 0.5 });
  const eps = 1e-5, tol = offset ? 1e-3 : 2e-4;
  const e = OPS[op].ref(x, dy, shape, layout, { gamma, beta, eps, groups });
  const r = OPS[op].fwd(x, { shape, layout, gamma, beta, eps, groups });
  const what = `${op} norm${op === "group" ? ` (groups ${groups})` : ""}`;
  close(r.y, e.y, tol, 1e-4, `${what} y`, shape, layout);
  close(r.mean, e.mean, 1e-5 * (1 + offset), 1e-6, `${what} mean`, shape, layout);
  close(r.invstd, e.invstd, tol, 1e-4, `${what} invstd`, shape, layout);
  const stats = exactStats ? { mean: e.mean, invstd: e.invstd } : { mean: r.mean, invstd: r.invstd };
  const b = OPS[op].bwd(x, dy, { shape, layout, gamma, groups, ...stats });
  const m = Math.sqrt(x.length / C), inv = Math.max(...e.invstd);
  // A backward from f32 means sees x − μ shifted by the rounding δ of each mean: dgamma moves
  // by δ·invstd·Σdy (PyTorch's f32 save_mean has the same limit). Bound it from the actual δ.
  let shifted = 0;
  if (!exactStats && offset) {
    const dmax = Math.max(...Array.from(r.mean, (v, k) => Math.abs(v - e.mean[k])));
    const absDy = OPS[op].ref(x, dy.map(Math.abs), shape, layout, { eps, groups }).dbeta;
    shifted = dmax * inv * Math.max(...absDy);
  }
  close(b.dx, e.dx, 4 * tol * inv, 1e-3, `${what} dx`, shape, layout);
  close(b.dgamma, e.dgamma, 1e-4 * m + tol + shifted, 1e-4, `${what} dgamma`, shape, layout);
  close(b.dbeta, e.dbeta, 1e-4 * m, 1e-4, `${what} dbeta`, shape, layout);
}

for (const op of Object.keys(OPS)) {
  for (const layout of ["NCL", "NLC"]) {
    test(`${op} norm ${layout}: every C × S around the SIMD edges, N = 1…3`, () => {
      for (const C of EDGE) for (const S of EDGE) check(op, layout, 1 + ((C + S) % 3), C, S, C * 100 + S);
    });
  }
  test(`${op} norm NC, NCHW, NCDHW, NHWC, NDHWC: C and S around the SIMD edges, N = 1…3`, () => {
    for (const layout of ["NC", "NCHW", "NCDHW", "NHWC", "NDHWC"]) {
      for (const C of EDGE) check(op, layout, 1 + (C % 3), C, EDGE[(C * 7) % EDGE.length], C);
      for (const S of EDGE) check(op, layout, 1 + (S % 3), EDGE[(S * 5) % EDGE.length], S, 1000 + S);
      for (const N of [1, 2, 3]) check(op, layout, N, 6, 5, 77 + N);
    }
  });
}

test("group norm: every divisor of C as groups (1 … C), both layouts", () => {
  for (const layout of ["NCHW", "NHWC", "NC"]) {
    for (const C of [12, 16, 15]) for (const groups of divisors(C)) check("group", layout, 2, C, 7, C + groups, { groups });
  }
});

test("long rows and many rows: 4096-value blocks, f32 partial-sum flushes, pseudo-channel limits", () => {
  check("layer", "NLC", 1, 4100, 3, 1);     // rows of C > 4096: two blocks per row
  check("layer", "NLC", 2, 70, 9, 2);       // 140 rows: column sums flushed every 64 rows
  check("layer", "NCL", 1, 65, 4097, 3);    // cf: two column tiles (4096 + 1), flush after 64 rows
  check("layer", "NCHW", 2, 3, 5000, 4);    // cf stats on a wide (C, S) block
  check("instance", "NCL", 1, 2, 8193, 5);  // two 4096-blocks per (n, c) and a tail of one
  check("instance", "NCL", 1, 8000, 9, 6);  // N·C·S > 65536 pseudo-channels: cf kernels at S = 9
  check("group", "NHWC", 2, 6, 2500, 7, { groups: 3 });
  check("group", "NCL", 2, 64, 200, 8, { groups: 32 });
});

test("instance and group norm channels-last with wide and odd C (L = C, scalar tail columns)", () => {
  check("instance", "NHWC", 2, 1025, 3, 21);
  check("group", "NLC", 1, 1023, 4, 22, { groups: 3 });
  check("group", "NHWC", 2, 1030, 5, 23, { groups: 5, offset: 1e4 });
  check("instance", "NLC", 1, 99, 20, 24);    // lcm(99, 16) = 1584 > 1024: L = 99
  check("group", "NCL", 1, 93, 11, 25, { groups: 31 }); // normalize on pseudo-channels: 1023 columns, L = 1023
});

test("large offsets (1e4) stay exact, with the forward's f32 statistics and with exact f64 ones", () => {
  for (const layout of LAYOUTS) {
    for (const op of Object.keys(OPS)) {
      check(op, layout, 2, 6, 37, 11, { offset: 1e4, exactStats: true });
      check(op, layout, 2, 6, 37, 12, { offset: 1e4 });
    }
  }
});

test("NCHW equals transposed NHWC (y, statistics, dx, dgamma, dbeta)", () => {
  for (const [N, C, S, groups] of [[2, 3, 49, 3], [1, 8, 16, 2], [3, 5, 7, 5], [2, 64, 9, 16], [2, 12, 5, 1]]) {
    const x = randomArray(N * C * S, N * C + S), dy = randomArray(N * C * S, 99);
    const xl = toChannelsLast(x, N, C, S), dyl = toChannelsLast(dy, N, C, S);
    const gamma = randomArray(C, 5, { offset: 1 }), beta = randomArray(C, 6);
    const cfOpts = { shape: [N, C, 1, S], layout: "NCHW", gamma, beta, groups };
    const clOpts = { shape: [N, 1, S, C], layout: "NHWC", gamma, beta, groups };
    for (const op of Object.keys(OPS)) {
      const cf = OPS[op].fwd(x, cfOpts), cl = OPS[op].fwd(xl, clOpts);
      close(toChannelsLast(cf.y, N, C, S), cl.y, 1e-5, 1e-5, `${op} y`);
      close(cf.mean, cl.mean, 1e-6, 1e-6, `${op} mean`);
      close(cf.invstd, cl.invstd, 1e-6, 1e-5, `${op} invstd`);
      const bf = OPS[op].bwd(x, dy, { ...cfOpts, mean: cf.mean, invstd: cf.invstd });
      const bl = OPS[op].bwd(xl, dyl, { ...clOpts, mean: cf.mean, invstd: cf.invstd });
      close(toChannelsLast(bf.dx, N, C, S), bl.dx, 1e-5, 1e-4, `${op} dx`);
      close(bf.dgamma, bl.dgamma, 1e-4, 1e-5, `${op} dgamma`);
      close(bf.dbeta, bl.dbeta, 1e-4, 1e-5, `${op} dbeta`);
    }
  }
});

test("backward equals finite differences of the forward (x, gamma, beta)", () => {
  const cases = [["instance", "NCHW", 4], ["instance", "NLC", 4], ["group", "NCL", 2], ["group", "NHWC", 2], ["layer", "NLC", 1], ["layer", "NCHW", 1]];
  for (const [op, layout, groups] of cases) {
    const shape = shapeFor(layout, 2, 4, 3);
    const x64 = Float64Array.from(randomArray(24, 41));
    const w = Float64Array.from(randomArray(24, 42)); // loss = Σ w·y  ⇒ dy = w
    const gamma = Float64Array.from([1.5, 0.7, -1.1, 0.9]), beta = Float64Array.from([0.1, -0.2, 0.3, 0]);
    const loss = (xx, gg = gamma, bb = beta) => {
      const y = OPS[op].ref(xx, null, shape, layout, { gamma: gg, beta: bb, eps: 1e-5, groups }).y;
      let s = 0; for (let i = 0; i < y.length; i++) s += w[i] * y[i];
      return s;
    };
    const x = Float32Array.from(x64);
    const f = OPS[op].fwd(x, { shape, layout, gamma, beta, groups });
    const b = OPS[op].bwd(x, Float32Array.from(w), { shape, layout, gamma, groups, mean: f.mean, invstd: f.invstd });
    const h = 1e-5;
    const near = (got, fd, what) => { assert.ok(Math.abs(fd - got) <= 2e-3 + 2e-3 * Math.abs(fd), `${op} ${layout} ${what} = ${got}, finite difference ${fd}`); };
    for (let i = 0; i < x64.length; i++) {
      const xp = x64.slice(), xm = x64.slice(); xp[i] += h; xm[i] -= h;
      near(b.dx[i], (loss(xp) - loss(xm)) / (2 * h), `dx[${i}]`);
    }
    for (let c = 0; c < 4; c++) {
      const gp = gamma.slice(), gm = gamma.slice(); gp[c] += h; gm[c] -= h;
      const bp = beta.slice(), bm = beta.slice(); bp[c] += h; bm[c] -= h;
      near(b.dgamma[c], (loss(x64, gp) - loss(x64, gm)) / (2 * h), `dgamma[${c}]`);
      near(b.dbeta[c], (loss(x64, gamma, bp) - loss(x64, gamma, bm)) / (2 * h), `dbeta[${c}]`);
    }
  }
});

test("without gamma/beta: identity affine; eps is used", () => {
  const shape = [2, 4, 9], layout = "NCL", x = randomArray(72, 3);
  for (const op of Object.keys(OPS)) {
    for (const eps of [1e-5, 0.5]) {
      const r = OPS[op].fwd(x, { shape, layout, groups: 2, eps });
      close(r.y, OPS[op].ref(x, null, shape, layout, { eps, groups: 2 }).y, 2e-4, 1e-4, `${op} y, eps ${eps}`);
    }
  }
});

test("tensors: zero-copy, y is a Tensor, out in place (y over x, dx over dy), no leak", () => {
  const shape = [2, 6, 3, 3], layout = "NCHW", n = 108;
  const x = randomArray(n, 61), dy = randomArray(n, 62);
  const before = api.memoryStats().allocatedBytes;
  for (const op of Object.keys(OPS)) {
    const e = OPS[op].ref(x, dy, shape, layout, { eps: 1e-5, groups: 3 });
    const tx = api.tensor(shape, layout, x), tdy = api.tensor(shape, layout, dy);
    const r = OPS[op].fwd(tx, { groups: 3 });
    assert.ok(r.y instanceof api.Tensor, `${op}: y of a tensor input must be a Tensor`);
    close(r.y.data, e.y, 2e-4, 1e-4, `${op} tensor y`);
    const b = OPS[op].bwd(tx, tdy, { groups: 3, mean: r.mean, invstd: r.invstd, out: tdy });
    assert.ok(b.dx === tdy, `${op}: dx must be the caller's tensor`);
    close(tdy.data, e.dx, 1e-3, 1e-3, `${op} dx written over dy`);
    const y2 = OPS[op].fwd(tx, { groups: 3, out: tx });
    assert.ok(y2.y === tx, `${op}: in-place output must be x`);
    close(tx.data, e.y, 2e-4, 1e-4, `${op} y written over x`);
    // A plain Float32Array as out, and as x at the same time (copied in, then written back).
    const xs = x.slice();
    assert.ok(OPS[op].fwd(xs, { shape, layout, groups: 3, out: xs }).y === xs, `${op}: out must be returned`);
    close(xs, e.y, 2e-4, 1e-4, `${op} plain in place`);
    for (const t of [tx, tdy, r.y]) t.free();
  }
  const after = api.memoryStats().allocatedBytes;
  assert.ok(after === before, `allocated bytes ${before} → ${after}: something leaked`);
});

// Bad input: every call below must throw a message naming the problem and modify nothing.
const bad = { shape: [2, 3, 4, 4], layout: "NCHW" };
const fresh = () => ({
  x: randomArray(96, 1), dy: randomArray(96, 2), out: new Float32Array(96).fill(7),
  gamma: Float32Array.of(1, 2, 3), beta: Float32Array.of(0, 1, 2),
  mean: new Float32Array(6).fill(0.5), invstd: new Float32Array(6).fill(2),
});
const rejects = (fn, ...fragments) => throwsUntouched(fresh, fn, ...fragments);

test("bad input: groups", () => {
  rejects((a) => api.groupNorm(a.x, { ...bad, groups: 2, out: a.out }), "3 channels cannot be split into 2 groups");
  rejects((a) => api.groupNormBackward(a.x, a.dy, { ...bad, groups: 2, mean: a.mean, invstd: a.invstd, out: a.out }), "3 channels cannot be split into 2 groups");
  rejects((a) => api.groupNorm(a.x, { ...bad }), "groups is required");
  for (const groups of [0, 1.5, -3, "3", NaN]) rejects((a) => api.groupNorm(a.x, { ...bad, groups }), "groups must be a positive integer, got");
});

test("bad input: lengths, types, eps, statistics", () => {
  for (const op of Object.keys(OPS)) {
    const f = OPS[op].fwd, b = OPS[op].bwd, o = { ...bad, groups: 3 };
    const K = op === "layer" ? 32 : 6, unit = { instance: "(sample, channel)", group: "(sample, group)", layer: "(sample, position)" }[op];
    rejects((a) => f(a.x, { ...o, gamma: Float32Array.of(1, 2, 3, 4), out: a.out }), "gamma has 4 values, the tensor has 3 channels");
    rejects((a) => f(a.x, { ...o, beta: [1, 2] }), "beta has 2 values, the tensor has 3 channels");
    rejects((a) => f(a.x, { ...o, gamma: "abc" }), "gamma must be a Float32Array, Float64Array or number[]");
    rejects((a) => f(a.x.subarray(1), o), "x holds 95 values, the shape [2,3,4,4] needs 96");
    rejects((a) => f(Array.from(a.x), o), "x must be a Float32Array or a simdnorm Tensor, got an Array");
    rejects((a) => f(a.x, { ...o, out: new Float32Array(10) }), "out holds 10 values", "needs 96");
    rejects((a) => f(a.x, { ...o, layout: "NCWH" }), 'unknown layout "NCWH"');
    for (const eps of [-1, NaN, "1e-5"]) rejects((a) => f(a.x, { ...o, eps, out: a.out }), "eps must be a finite number ≥ 0");
    const mean = (a) => (op === "layer" ? new Float32Array(32) : a.mean), invstd = (a) => (op === "layer" ? new Float32Array(32).fill(1) : a.invstd);
    rejects((a) => b(a.x, a.dy, { ...o, mean: a.mean.subarray(1), invstd: invstd(a), out: a.out }), `mean has 5 values, the tensor has ${K} ${unit} statistics`);
    rejects((a) => b(a.x, a.dy, { ...o, mean: mean(a), invstd: [1], out: a.out }), `invstd has 1 values, the tensor has ${K} ${unit} statistics`);
    rejects((a) => b(a.x, a.dy, { ...o, invstd: invstd(a) }), "mean must be a Float32Array, Float64Array or number[]");
    rejects((a) => b(a.x, a.dy.subarray(1), { ...o, mean: mean(a), invstd: invstd(a), out: a.out }), "dy holds 95 values", "needs 96");
    rejects((a) => b(a.x, Array.from(a.dy), { ...o, mean: mean(a), invstd: invstd(a), out: a.out }), "dy must be a Float32Array or a simdnorm Tensor");
    rejects((a) => b(a.x, a.dy, { ...o, mean: mean(a), invstd: invstd(a), gamma: [1], out: a.out }), "gamma has 1 values, the tensor has 3 channels");
  }
});

test("bad input: instance norm needs a spatial axis; freed tensors", () => {
  rejects((a) => api.instanceNorm(a.x, { shape: [32, 3], layout: "NC" }), "instance norm needs more than one spatial position", "[32,3]");
  const t = api.tensor([2, 3, 4], "NCL");
  t.free();
  throwsWith(() => api.layerNorm(t, {}), "x is a freed tensor");
});

test.run();
