// Batch norm against the float64 reference: SIMD-edge sweeps in every layout, layout
// equivalence, chunked/sharded statistics, large offsets, finite differences, unaligned views.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refStats, refBnTrain, refBnInfer, refBnBackward, refBnBackwardEval, randomArray, geometry } from "./reference.mjs";
import { LAYOUTS, EDGE, shapeFor, toChannelsLast, close } from "./helpers.mjs";

await api.init();

function params(C, seed) {
  const gamma = randomArray(C, seed, { offset: 1, scale: 0.3 }), beta = randomArray(C, seed + 1, { scale: 0.5 });
  const runningMean = randomArray(C, seed + 2, { scale: 0.2 }), runningVar = Float32Array.from(randomArray(C, seed + 3), (v) => 0.5 + Math.abs(v));
  return { gamma, beta, runningMean, runningVar };
}

function checkAll(layout, N, C, S, seed, { offset = 0 } = {}) {
  const shape = shapeFor(layout, N, C, layout === "NC" ? 1 : S);
  const g = geometry(shape, layout);
  if (g.N * g.S < 2) return; // training needs two values per channel
  const x = randomArray(g.N * g.C * g.S, seed, { offset, scale: 1 + (seed % 3) });
  const dy = randomArray(x.length, seed + 7);
  const p = params(C, seed);
  const eps = 1e-5;
  const tol = offset ? 1e-3 : 2e-4;
  const st = api.channelStats(x, { shape, layout });
  const rs = refStats(x, shape, layout);
  close(st.mean, rs.mean, tol * Math.max(1, offset * 1e-3), 1e-5, "mean", shape, layout);
  close(st.var, rs.var, tol, 1e-4, "var", shape, layout);

  const rm = p.runningMean.slice(), rv = p.runningVar.slice();
  const r = api.batchNormTrain(x, { shape, layout, gamma: p.gamma, beta: p.beta, runningMean: rm, runningVar: rv, eps });
  const e = refBnTrain(x, shape, layout, { ...p, eps, momentum: 0.1, dy });
  close(r.y, e.y, tol, 1e-4, "train y", shape, layout);
  close(r.saveMean, e.saveMean, tol * Math.max(1, offset * 1e-3), 1e-5, "saveMean", shape, layout);
  close(r.saveInvstd, e.saveInvstd, tol, 1e-4, "saveInvstd", shape, layout);
  close(rm, e.runningMean, tol * Math.max(1, offset * 1e-3), 1e-5, "runningMean", shape, layout);
  close(rv, e.runningVar, tol, 1e-4, "runningVar", shape, layout);

  const b = api.batchNormBackward(x, dy, { shape, layout, gamma: p.gamma, saveMean: e.saveMean, saveInvstd: e.saveInvstd });
  const m = g.N * g.S;
  close(b.dx, e.dx, tol * 2, 1e-4, "dx", shape, layout);
  close(b.dgamma, e.dgamma, 1e-4 * Math.sqrt(m) + tol, 1e-4, "dgamma", shape, layout);
  close(b.dbeta, e.dbeta, 1e-4 * Math.sqrt(m), 1e-4, "dbeta", shape, layout);

  const y = api.batchNormInfer(x, { shape, layout, ...p, eps });
  close(y, refBnInfer(x, shape, layout, { ...p, eps }), tol, 1e-4, "infer y", shape, layout);
  const be = api.batchNormBackwardEval(x, dy, { shape, layout, ...p, eps });
  const ee = refBnBackwardEval(x, dy, shape, layout, { ...p, eps });
  close(be.dx, ee.dx, tol, 1e-4, "eval dx", shape, layout);
  close(be.dgamma, ee.dgamma, 1e-4 * Math.sqrt(m) * (1 + offset), 1e-4, "eval dgamma", shape, layout);
}

for (const layout of ["NCL", "NLC"]) {
  test(`${layout}: every C × S around the SIMD edges, N = 1…3`, () => {
    for (const C of EDGE) for (const S of EDGE) checkAll(layout, 1 + ((C + S) % 3), C, S, C * 100 + S);
  });
}
for (const layout of ["NC", "NCHW", "NCDHW", "NHWC", "NDHWC"]) {
  test(`${layout}: C and S around the SIMD edges, N = 1…3`, () => {
    for (const C of EDGE) checkAll(layout, 1 + (C % 3), C, EDGE[(C * 7) % EDGE.length], C);
    for (const S of EDGE) checkAll(layout, 1 + (S % 3), EDGE[(S * 5) % EDGE.length], S, 1000 + S);
    for (const N of [1, 2, 3]) checkAll(layout, N, 3, 5, 77 + N);
  });
}

test("wide and odd C: lane pattern L = C with scalar tail columns, O(C) scratch", () => {
  checkAll("NC", 2, 99999, 1, 21);    // L = C, two rows (super-row patterns were 1.6 M lanes)
  checkAll("NLC", 1, 1023, 3, 22);    // tails of 15 (statistics) and 7 (normalize, dx) columns
  checkAll("NHWC", 1, 1025, 9, 23);   // tail of one column
  checkAll("NC", 260, 1030, 1, 24);   // a second 256-row block; tail of 6: 4-wide step, then scalars
  checkAll("NLC", 2, 1028, 20, 25, { offset: 1e4 }); // blocks redone around their means
  checkAll("NLC", 3, 65, 40, 26);     // lcm(65, 16) = 1040 > 1024: L = 65
  checkAll("NC", 20, 250, 1, 27);     // a pattern of 1000 lanes (4 rows per super-row)
  checkAll("NCHW", 3, 73, 13, 28);    // pseudo-channels: 949 columns, L = 949
  for (const C of [63, 66, 100, 129, 255, 1040]) checkAll("NLC", 2, C, 37, 30 + C);
  checkAll("NLC", 1, 1031, 1025, 31);   // > 1 Mi values: streamed variants (sweeps touched first, one row at a time)
  checkAll("NHWC", 1, 12, 1103, 29);  // C = 12 (12-value period in registers): 275 super-rows, 3 rows of tail
  checkAll("NLC", 2, 6, 1001, 30, { offset: 1e4 }); // C = 6, far from zero
});

test("short channels-first rows past the caches: sample tiles read in memory order, then by channel", () => {
  for (const [N, C, S, offset] of [[451, 48, 49, 0], [23, 1030, 45, 1e4]]) { // > 1 Mi values; tiles of 83 (BLOCK / S) and 5 (1 MiB) samples
    const shape = [N, C, 1, S], x = randomArray(N * C * S, N + C, { offset });
    const st = api.channelStats(x, { shape, layout: "NCHW" }), rs = refStats(x, shape, "NCHW");
    close(st.mean, rs.mean, 1e-4 * (1 + offset * 1e-3), 1e-5, "mean", shape, "NCHW");
    close(st.var, rs.var, 2e-4, 1e-4, "var", shape, "NCHW");
  }
});

test("rows longer than one 4096-value block, and many channels-last blocks", () => {
  checkAll("NCHW", 2, 3, 5250, 5);   // two blocks per (n, c) row
  checkAll("NCL", 1, 2, 8193, 6);    // block tail of one value
  checkAll("NHWC", 2, 3, 2500, 7);   // C = 3: pattern of 16·3 lanes, 5000 rows
  checkAll("NLC", 3, 65, 200, 8);    // C = 65: pattern of 260 lanes
  checkAll("NDHWC", 1, 1024, 9, 9);  // wide rows
  checkAll("NHWC", 2, 96, 9, 15);    // 96- and 128-value rows: quads for normalize at 96, rows streamed
  checkAll("NLC", 3, 128, 7, 16);    // one at a time for dx (and for normalize at 128)
  checkAll("NCHW", 25, 3, 200, 10);  // short rows, channel order: blocks of 20 rows, then 5
  checkAll("NCL", 7, 2, 1000, 12);   // blocks of 4 rows of 1000 (tails of 8 and 3 values)
  checkAll("NCL", 9, 3, 1000, 13, { offset: 1e4 }); // every first block fails the check: rows redone
});

test("large offsets (1e4, 1e6) stay exact", () => {
  for (const layout of LAYOUTS) checkAll(layout, 2, 5, 37, 11, { offset: 1e4 });
  checkAll("NHWC", 1, 3, 5, 14, { offset: 1e4 }); // 5 rows of 3: all in the channels-last tail, nothing merged before it
  // At 1e6 float32 data is quantized to 1/16: compare statistics of the stored values.
  for (const layout of ["NCHW", "NHWC", "NC"]) {
    const shape = shapeFor(layout, 4, 3, 50);
    const x = randomArray(shape.reduce((a, b) => a * b), 3, { offset: 1e6, scale: 10 });
    const st = api.channelStats(x, { shape, layout });
    const rs = refStats(x, shape, layout);
    close(st.mean, rs.mean, 1e-6 * 1e6 * 1e-3, 0, "mean at 1e6", shape, layout);
    close(st.var, rs.var, 1e-3, 1e-5, "var at 1e6", shape, layout);
    const r = api.batchNormTrain(x, { shape, layout });
    close(r.y, refBnTrain(x, shape, layout, { eps: 1e-5, momentum: 0.1, runningMean: new Float32Array(3), runningVar: new Float32Array(3) }).y, 2e-4, 1e-4, "y at 1e6", shape, layout);
  }
});

test("an outlier as the first value of a channel", () => {
  for (const layout of ["NCHW", "NHWC", "NCL", "NC"]) {
    const shape = shapeFor(layout, 3, 4, 33);
    const g = geometry(shape, layout);
    const x = randomArray(g.N * g.C * g.S, 21);
    x[0] = 1e5; // first value of channel 0
    const st = api.channelStats(x, { shape, layout });
    const rs = refStats(x, shape, layout);
    close(st.mean, rs.mean, 1e-3, 1e-6, "mean", shape, layout);
    close(st.var, rs.var, 1e-2, 1e-6, "var", shape, layout);
  }
});

test("channels-last statistics when the data jumps far from zero mid-tensor, and NaN in a middle block", () => {
  // NHWC with C = 64: blocks of 256 rows. Rows 0–999 sit near zero, rows 1000– at 1e4 (channel
  // 5 only at 1e4 from row 1700): blocks summed around shift 0 are pending when a block fails the
  // cancellation check, are merged, the failing block is redone around its means and the later
  // blocks are shifted again. The result must match float64 as closely as a clean tensor does.
  const C = 64, R = 3000, shape = [R, 1, 1, C], layout = "NHWC";
  const x = randomArray(R * C, 31);
  for (let r = 1000; r < R; r++) for (let c = 0; c < C; c++) if (c !== 5 || r >= 1700) x[r * C + c] += 1e4;
  const st = api.channelStats(x, { shape, layout }), rs = refStats(x, shape, layout);
  close(st.mean, rs.mean, 1e-6, 1e-7, "mean after a jump", shape, layout); // f32 lanes: ~3e-8 relative
  close(st.var, rs.var, 1e-4, 1e-6, "var after a jump", shape, layout);
  // Near zero again after the first block: the later blocks go back to the shift-free path and
  // still agree with the chunked result (same partials merged in another order).
  const y = randomArray(R * C, 32);
  for (let c = 0; c < C; c++) y[c] = 1e5; // an outlier in the first row fails block 0
  const sy = api.channelStats(y, { shape, layout }), ry = refStats(y, shape, layout);
  close(sy.mean, ry.mean, 1e-4, 1e-7, "mean after an outlier", shape, layout); // std ≈ 1800: 4e-5 is f32 rounding
  close(sy.var, ry.var, 1e-3, 1e-6, "var after an outlier", shape, layout);
  // NaN in channel 9 of a middle block: channel 9 is NaN, every other channel exact.
  const z = randomArray(R * C, 33);
  z[1300 * C + 9] = NaN;
  const sz = api.channelStats(z, { shape, layout }), rz = refStats(z, shape, layout);
  assert.ok(Number.isNaN(sz.mean[9]) && Number.isNaN(sz.var[9]), "NaN did not reach channel 9");
  const keep = (a) => Array.from(a).filter((_, c) => c !== 9);
  close(keep(sz.mean), keep(rz.mean), 1e-6, 1e-7, "mean beside NaN", shape, layout);
  close(keep(sz.var), keep(rz.var), 1e-5, 1e-6, "var beside NaN", shape, layout);
});

test("NCHW equals transposed NHWC", () => {
  for (const [N, C, S] of [[2, 3, 49], [1, 8, 16], [3, 5, 7], [2, 64, 9]]) {
    const x = randomArray(N * C * S, N * C + S), dy = randomArray(N * C * S, 99);
    const xl = toChannelsLast(x, N, C, S), dyl = toChannelsLast(dy, N, C, S);
    const cf = api.batchNormTrain(x, { shape: [N, C, 1, S], layout: "NCHW" });
    const cl = api.batchNormTrain(xl, { shape: [N, 1, S, C], layout: "NHWC" });
    close(toChannelsLast(cf.y, N, C, S), cl.y.slice(), 1e-5, 1e-5, "y");
    close(cf.saveMean, cl.saveMean, 1e-6, 1e-6, "mean");
    const bf = api.batchNormBackward(x, dy, { shape: [N, C, 1, S], layout: "NCHW", saveMean: cf.saveMean, saveInvstd: cf.saveInvstd });
    const bl = api.batchNormBackward(xl, dyl, { shape: [N, 1, S, C], layout: "NHWC", saveMean: cf.saveMean, saveInvstd: cf.saveInvstd });
    close(toChannelsLast(bf.dx, N, C, S), bl.dx, 1e-5, 1e-5, "dx");
    close(bf.dgamma, bl.dgamma, 1e-4, 1e-5, "dgamma");
  }
});

test("chunked and sharded statistics equal one-shot", () => {
  for (const layout of ["NCHW", "NHWC", "NC", "NCL"]) {
    const N = 7, C = 5, S = 11;
    const shape = shapeFor(layout, N, C, S), per = shape.slice(1).reduce((a, b) => a * b);
    const x = randomArray(N * per, 31, { offset: 100 });
    const one = api.channelStats(x, { shape, layout });
    const acc = new api.StatsAccumulator(C);
    let n0 = 0;
    for (const n of [1, 2, 4]) { acc.update(x.subarray(n0 * per, (n0 + n) * per), { shape: [n, ...shape.slice(1)], layout }); n0 += n; }
    const ch = acc.result();
    close(ch.mean, one.mean, 1e-9, 1e-7, "chunked mean"); // equal to float32 precision: merge order differs
    close(ch.var, one.var, 1e-12, 1e-6, "chunked var");
    // Shards built independently with unequal counts, merged in another order.
    const parts = [[0, 3], [3, 4], [4, 7]].map(([a, b]) => api.partialStats(x.subarray(a * per, b * per), { shape: [b - a, ...shape.slice(1)], layout }));
    const merged = api.StatsAccumulator.fromPartials(parts[2]).merge(parts[0]).merge(api.StatsAccumulator.fromPartials(parts[1])).result();
    close(merged.mean, one.mean, 1e-9, 1e-7, "sharded mean");
    close(merged.var, one.var, 1e-12, 1e-6, "sharded var");
    const want = geometry(shape, layout).N * geometry(shape, layout).S;
    assert.ok(merged.count === want, `count ${merged.count}, expected ${want}`);
  }
});

test("backward equals finite differences of the training forward", () => {
  for (const layout of ["NCHW", "NHWC", "NC"]) {
    const shape = shapeFor(layout, 2, 3, 5);
    const g = geometry(shape, layout);
    const x64 = Float64Array.from(randomArray(g.N * g.C * g.S, 41));
    const w = Float64Array.from(randomArray(x64.length, 42)); // loss = Σ w·y  ⇒ dy = w
    const gamma = Float64Array.from([1.5, 0.7, -1.1]), beta = Float64Array.from([0.1, -0.2, 0.3]);
    const loss = (xx) => { const y = refBnTrain(xx, shape, layout, { gamma, beta, eps: 1e-5, momentum: 0.1, runningMean: [0, 0, 0], runningVar: [1, 1, 1] }).y; let s = 0; for (let i = 0; i < y.length; i++) s += w[i] * y[i]; return s; };
    const x = Float32Array.from(x64);
    const f = api.batchNormTrain(x, { shape, layout, gamma, beta });
    const b = api.batchNormBackward(x, Float32Array.from(w), { shape, layout, gamma, saveMean: f.saveMean, saveInvstd: f.saveInvstd });
    const h = 1e-5;
    for (let i = 0; i < x64.length; i++) {
      const xp = x64.slice(), xm = x64.slice(); xp[i] += h; xm[i] -= h;
      const fd = (loss(xp) - loss(xm)) / (2 * h);
      assert.ok(Math.abs(fd - b.dx[i]) <= 2e-3 + 2e-3 * Math.abs(fd), `${layout} dx[${i}] = ${b.dx[i]}, finite difference ${fd}`);
    }
    // dgamma, dbeta by finite differences on the parameters.
    for (let c = 0; c < 3; c++) {
      const lp = (gg, bb) => { const y = refBnTrain(x64, shape, layout, { gamma: gg, beta: bb, eps: 1e-5, momentum: 0.1, runningMean: [0, 0, 0], runningVar: [1, 1, 1] }).y; let s = 0; for (let i = 0; i < y.length; i++) s += w[i] * y[i]; return s; };
      const gp = gamma.slice(), gm = gamma.slice(); gp[c] += h; gm[c] -= h;
      const bp = beta.slice(), bm = beta.slice(); bp[c] += h; bm[c] -= h;
      const fdg = (lp(gp, beta) - lp(gm, beta)) / (2 * h), fdb = (lp(gamma, bp) - lp(gamma, bm)) / (2 * h);
      assert.ok(Math.abs(fdg - b.dgamma[c]) <= 2e-3 + 2e-3 * Math.abs(fdg), `${layout} dgamma[${c}] = ${b.dgamma[c]}, finite difference ${fdg}`);
      assert.ok(Math.abs(fdb - b.dbeta[c]) <= 2e-3 + 2e-3 * Math.abs(fdb), `${layout} dbeta[${c}] = ${b.dbeta[c]}, finite difference ${fdb}`);
    }
  }
});

test("input views whose byteOffset is not a multiple of 16 (plain and in wasm memory)", () => {
  const N = 2, C = 3, S = 21, n = N * C * S;
  const x = randomArray(n, 51);
  const e = refBnTrain(x, [N, C, S], "NCL", { eps: 1e-5, momentum: 0.1, runningMean: [0, 0, 0], runningVar: [1, 1, 1] });
  for (const off of [1, 2, 3, 5]) {
    const big = new Float32Array(n + 8); big.set(x, off);
    const view = big.subarray(off, off + n);
    close(api.batchNormTrain(view, { shape: [N, C, S], layout: "NCL" }).y, e.y, 2e-4, 1e-4, `plain view at +${off * 4} bytes`);
    const t = api.tensor([1, 1, n + 8], "NCL");
    t.data.set(x, off);
    const wview = t.data.subarray(off, off + n);
    const out = api.tensor([N, C, S], "NCL");
    api.batchNormTrain(wview, { shape: [N, C, S], layout: "NCL", out });
    close(out.data, e.y, 2e-4, 1e-4, `wasm view at +${off * 4} bytes`);
    t.free(); out.free();
  }
});

test("zero-copy tensors: outputs are tensors, caller-provided outputs are written in place", () => {
  const shape = [2, 4, 3, 3], layout = "NCHW";
  const x = randomArray(72, 61), dy = randomArray(72, 62);
  const tx = api.tensor(shape, layout, x), tdy = api.tensor(shape, layout, dy);
  const r = api.batchNormTrain(tx, {});
  assert.ok(r.y instanceof api.Tensor, "y of a tensor input must be a Tensor");
  const e = refBnTrain(x, shape, layout, { eps: 1e-5, momentum: 0.1, runningMean: [0, 0, 0, 0], runningVar: [1, 1, 1, 1], dy });
  close(r.y.data, e.y, 2e-4, 1e-4, "tensor y");
  const dx = api.tensor(shape, layout);
  const b = api.batchNormBackward(tx, tdy, { saveMean: r.saveMean, saveInvstd: r.saveInvstd, out: dx });
  assert.ok(b.dx === dx, "dx must be the caller's tensor");
  close(dx.data, e.dx, 4e-4, 1e-4, "tensor dx");
  // In place: y written over x.
  const y2 = api.batchNormInfer(tx, { runningMean: e.saveMean, runningVar: e.var, out: tx, eps: 1e-5 });
  assert.ok(y2 === tx, "in-place output must be x");
  close(tx.data, e.y, 3e-4, 1e-4, "in-place y");
  for (const t of [tx, tdy, dx, r.y]) t.free();
});

test("tensors beyond the cache take the fused per-channel kernels and agree with the two-phase path", () => {
  // 2 × 4 × 1025 × 1024 values = 32.03 MiB: above the fusing threshold (32 MiB).
  const shape = [2, 4, 1025, 1024], layout = "NCHW", n = 2 * 4 * 1025 * 1024, C = 4, S = 1025 * 1024;
  const x = api.tensor(shape, layout), dy = api.tensor(shape, layout);
  const xd = x.data; for (let i = 0; i < n; i++) xd[i] = Math.sin(i * 0.37) * 2 + 3 * (Math.floor(i / S) % C) + 100;
  const dd = dy.data; for (let i = 0; i < n; i++) dd[i] = Math.cos(i * 0.11);
  const gamma = [1.5, -0.5, 2, 1], beta = [0, 1, -1, 0.5];
  const rm = new Float32Array(C), rv = new Float32Array(C).fill(1);
  const fused = api.batchNormTrain(x, { gamma, beta, runningMean: rm, runningVar: rv });
  const global = api.partialStats(x);
  const two = api.batchNormTrain(x, { gamma, beta, globalStats: global });
  close(fused.saveMean, two.saveMean, 1e-6, 1e-7, "saveMean");
  close(fused.saveInvstd, two.saveInvstd, 1e-7, 1e-6, "saveInvstd");
  close(fused.y.data, two.y.data, 2e-6, 1e-6, "y (fused vs two-phase)");
  // Per-channel f64 statistics, plain loops (x.data again: the calls above grew the memory).
  const xd2 = x.data;
  for (let c = 0; c < C; c++) {
    let s = 0; for (let b = 0; b < 2; b++) for (let i = 0; i < S; i++) s += xd2[(b * C + c) * S + i];
    const m = s / (2 * S); let q = 0;
    for (let b = 0; b < 2; b++) for (let i = 0; i < S; i++) { const d = xd2[(b * C + c) * S + i] - m; q += d * d; }
    assert.ok(Math.abs(fused.saveMean[c] - m) <= 1e-5 * Math.abs(m), `mean[${c}] ${fused.saveMean[c]} vs ${m}`);
    assert.ok(Math.abs(fused.var[c] - q / (2 * S)) <= 1e-5 * (q / (2 * S)), `var[${c}] ${fused.var[c]} vs ${q / (2 * S)}`);
  }
  const o = { gamma, saveMean: fused.saveMean, saveInvstd: fused.saveInvstd };
  const bf = api.batchNormBackward(x, dy, o);
  const sums = api.backwardPartials(x, dy, { saveMean: fused.saveMean });
  const bt = api.batchNormBackward(x, dy, { ...o, globalSums: sums, count: 2 * S });
  close(bf.dx.data, bt.dx.data, 1e-6, 1e-5, "dx (fused vs two-phase)");
  close(bf.dgamma, bt.dgamma, 1e-2, 1e-5, "dgamma");
  close(bf.dbeta, bt.dbeta, 1e-2, 1e-5, "dbeta");
  for (const t of [x, dy, fused.y, two.y, bf.dx, bt.dx]) t.free();
});
test.run();
