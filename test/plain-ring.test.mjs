// The ring of remembered plain per-channel arrays (js/core/typed.ts rememberPlain) across init()
// and garbage collection. Its own file: the first test needs a process where init() has not run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as api from "../dist/index.js";

const C = 16;
const x = new Float32Array(4 * C).map((_, i) => Math.sin(i)), dy = new Float32Array(4 * C).map((_, i) => Math.cos(i));
const opts = { shape: [4, C], layout: "NC" };

// Before init() no array is known to lie outside wasm memory: a view of the memory that init() is
// then given must still be refused as an output (and not written), however it was seen before.
const memory = new WebAssembly.Memory({ initial: 64, maximum: 16384, shared: true });
const view = new Float32Array(memory.buffer, 1 << 20, C);
const early = new Float32Array(C); // a small plain array seen before init as well
let before = "";
try { api.layerNormBackward(x, dy, { ...opts, mean: new Float32Array(4), invstd: new Float32Array(4).fill(1), dgammaOut: view, dbetaOut: early }); } catch (e) { before = e.message; }
await api.init({ wasm: readFileSync(new URL("../build/simdnorm-threads.wasm", import.meta.url)), memory });

test("an array classified before init() is classified again after it (a view of the memory init() is given is refused)", () => {
  assert.match(before, "not initialized");
  assert.ok(view.buffer === api.wasmMemory().buffer);
  const f = api.layerNorm(x, opts);
  view.fill(7);
  assert.throws(() => api.layerNormBackward(x, dy, { ...opts, mean: f.mean, invstd: f.invstd, dgammaOut: view }), /dgammaOut is a view of wasm memory/);
  assert.ok(view.every((v) => v === 7), "nothing written");
  const r = api.layerNormBackward(x, dy, { ...opts, mean: f.mean, invstd: f.invstd, dbetaOut: early });
  assert.ok(r.dbeta === early);
});

test("a small view of a large buffer is not kept reachable by the ring", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  let weights = new Float32Array(1 << 22); // 16 MB of "weights", gamma and beta views into it
  const ref = new WeakRef(weights.buffer);
  weights.fill(1, 0, C);
  for (let i = 0; i < 3; i++) api.layerNorm(x, { ...opts, gamma: weights.subarray(0, C), beta: weights.subarray(C, 2 * C) });
  weights = null;
  for (let i = 0; i < 4 && ref.deref(); i++) { await new Promise((r) => setTimeout(r, 0)); gc(); }
  assert.is(ref.deref(), undefined, "the weights' buffer is still reachable after GC");
});

test.run();
