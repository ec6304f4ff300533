// Addresses at and above 2 GiB: every op on tensors, copies, outputs and scratch placed above
// 2 GiB and again just below 4 GiB (the wasm32 limit), compared with the float64 reference; a
// live neighbour is never written; after everything is freed the module still computes right.
// Runs in a child process (the memory grows to ~4 GiB of address space; only touched pages
// count, and fresh memory is not zero-filled again).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

if (process.argv[2] === "--child") await child();
else {
  test("ops above 2 GiB and near 4 GiB equal the reference; neighbours untouched; growth past 4 GiB refused clearly", () => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child"], { encoding: "utf8", timeout: 300000 });
    if (r.status !== 0) throw new Error(`child failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /checked above 2 GiB: \d+ ops/);
    assert.match(r.stdout, /checked near 4 GiB: \d+ ops/);
    assert.match(r.stdout, /refused: out of wasm memory/);
  });
  test.run();
}

async function child() {
  const api = await import("../dist/index.js");
  const ref = await import("./reference.mjs");
  const { close } = await import("./helpers.mjs");
  await api.init();
  const GiB = 2 ** 30;

  /** Every op in three layouts on tensors and plain arrays; returns the number of checks. */
  function checkAll(tag, minPtr) {
    let n = 0;
    for (const [shape, layout] of [[[3, 5, 2, 9], "NCHW"], [[2, 3, 3, 5], "NHWC"], [[17, 6], "NC"], [[2, 4, 1100], "NCL"]]) {
      const g = ref.geometry(shape, layout), size = shape.reduce((a, b) => a * b, 1), C = g.C;
      const x = ref.randomArray(size, 11, { offset: 3, scale: 2 }), dy = ref.randomArray(size, 12);
      const gamma = ref.randomArray(C, 13), beta = ref.randomArray(C, 14);
      const xt = api.tensor(shape, layout, x), dyt = api.tensor(shape, layout, dy), out = api.tensor(shape, layout);
      if (xt.ptr < minPtr || out.ptr < minPtr) throw new Error(`${tag}: tensor at ${xt.ptr}, expected ≥ ${minPtr}`);
      const where = `${tag} ${layout}`;
      const st = ref.refStats(x, shape, layout);
      for (const src of [xt, x]) {
        const s = api.channelStats(src, { shape, layout });
        close(s.mean, st.mean, 1e-5, 1e-5, `${where} mean`); close(s.var, st.var, 1e-5, 1e-5, `${where} var`); n++;
      }
      const p = { gamma, beta, eps: 1e-5, momentum: 0.1, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), dy };
      const rt = ref.refBnTrain(x, shape, layout, p);
      const tr = api.batchNormTrain(xt, { gamma, beta, runningMean: p.runningMean, runningVar: p.runningVar });
      close(tr.y, rt.y, 2e-4, 2e-4, `${where} train y`); close(p.runningVar, rt.runningVar, 1e-5, 1e-5, `${where} running var`); n++;
      if (tr.y.ptr < minPtr) throw new Error(`${tag}: output tensor below ${minPtr}`);
      tr.y.free();
      const bw = api.batchNormBackward(x, dyt, { shape, layout, gamma, saveMean: tr.saveMean, saveInvstd: tr.saveInvstd, out });
      close(out, rt.dx, 2e-4, 2e-4, `${where} backward dx`); close(bw.dgamma, rt.dgamma, 2e-3, 2e-4, `${where} dgamma`); n++;
      const inf = { gamma, beta, eps: 1e-5, runningMean: st.mean, runningVar: st.var };
      api.batchNormInfer(x, { shape, layout, ...inf, out: out.data });
      close(out, ref.refBnInfer(x, shape, layout, inf), 2e-4, 2e-4, `${where} infer (view out)`); n++;
      const fam = [["layerNorm", ref.refLayerNorm, {}]];
      if (g.S > 1) fam.push(["instanceNorm", ref.refInstanceNorm, {}]);
      if (C % 3 === 0 || C % 2 === 0) fam.push(["groupNorm", ref.refGroupNorm, { groups: C % 3 === 0 ? 3 : 2 }]);
      for (const [op, rf, extra] of fam) {
        const e = rf(x, dy, shape, layout, { gamma, beta, eps: 1e-5, ...extra });
        const f = api[op](xt, { gamma, beta, ...extra });
        close(f.y, e.y, 2e-4, 2e-4, `${where} ${op} y`);
        const b = api[op + "Backward"](x, dy, { shape, layout, gamma, mean: f.mean, invstd: f.invstd, ...extra });
        close(b.dx, e.dx, 5e-4, 5e-4, `${where} ${op} dx`); n += 2;
        f.y.free();
      }
      xt.free(); dyt.free(); out.free();
    }
    return n;
  }

  const neighbour = api.tensor([1, 256], "NC", ref.randomArray(256, 99));
  const keep = neighbour.toArray();
  // Fill memory up to 2 GiB: everything allocated next (tensors, copies, outputs, the scratch
  // block of the first op call) lands above it.
  const low = api.tensor([1, (2 * GiB - neighbour.ptr) / 4], "NC");
  const mid = api.tensor([1, Math.floor((GiB * 1.9) / 4)], "NC");
  console.log(`checked near 4 GiB: ${checkAll("near 4 GiB", 3.9 * GiB)} ops (memory ${api.memoryStats().memoryBytes} bytes)`);
  try { api.tensor([1, 2 ** 28], "NC"); throw new Error("a 1 GiB tensor beyond 4 GiB was allocated"); } catch (e) {
    if (!/out of wasm memory/.test(e.message)) throw e;
    console.log(`refused: ${e.message.slice(0, 60)}`);
  }
  mid.free();
  console.log(`checked above 2 GiB: ${checkAll("above 2 GiB", 2 * GiB)} ops`);
  if (neighbour.toArray().some((v, i) => !Object.is(v, keep[i]))) throw new Error("the neighbour tensor was written");
  low.free();
  console.log(`checked after freeing: ${checkAll("after freeing", 0)} ops`);
  if (api.memoryStats().allocatedBytes !== 256 * 4) throw new Error(`allocated ${api.memoryStats().allocatedBytes} bytes after freeing`);
}
