// dist/node.js, the bundle Node and Bun resolve `import "simdnorm"` to: the same API as
// dist/index.js, the wasm read from dist/simdnorm.wasm (no base64 in the bundle), and where that
// file cannot be read (a bundler that did not copy it) the base64 module dist/simdnorm-wasm.js
// instead. Each case imports its own copy of the bundle: init() state is per module instance.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, mkdtempSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as plain from "../dist/index.js";
import { refBnInfer } from "./reference.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "../dist");

/** A batch-norm inference through one build, checked against the float64 reference. */
async function inferWith(api) {
  await api.init();
  const shape = [2, 3, 5];
  const x = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i) * 3 + 1);
  const o = { shape, layout: "NCL", gamma: [1, 2, 0.5], beta: [0, -1, 0.25], runningMean: [0.1, -0.2, 0.3], runningVar: [1, 2, 0.5], eps: 1e-5 };
  const y = api.batchNormInfer(x, o);
  const want = refBnInfer(x, shape, "NCL", o);
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `y[${i}] = ${y[i]}, expected ${want[i]}`);
  return y;
}

/** dist/node.js and the modules it imports, copied to a fresh folder (optionally without some). */
function copyOfNodeBundle(without = []) {
  const dir = mkdtempSync(join(tmpdir(), "simdnorm-node-entry-"));
  for (const f of ["node.js", "simdnorm.wasm", "simdnorm-wasm.js", "simdnorm-pool.js"]) if (!without.includes(f)) copyFileSync(join(dist, f), join(dir, f));
  return dir;
}

test("dist/node.js exports what dist/index.js exports", async () => {
  const node = await import(pathToFileURL(join(dist, "node.js")).href);
  assert.equal(Object.keys(node).sort(), Object.keys(plain).sort());
});

test("dist/node.js embeds no wasm: no base64 run of more than 1,000 characters", () => {
  const text = readFileSync(join(dist, "node.js"), "utf8");
  assert.not.ok(/[A-Za-z0-9+/=]{1000}/.test(text), "a long base64 run in dist/node.js");
  assert.ok(/[A-Za-z0-9+/=]{50000}/.test(readFileSync(join(dist, "index.js"), "utf8")), "dist/index.js still embeds the wasm");
});

test("dist/node.js reads dist/simdnorm.wasm: results equal dist/index.js's", async () => {
  const dir = copyOfNodeBundle(["simdnorm-wasm.js"]); // the fallback is absent: the read must work
  try {
    const y = await inferWith(await import(pathToFileURL(join(dir, "node.js")).href));
    assert.equal(Array.from(y), Array.from(await inferWith(plain)));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("dist/node.js without dist/simdnorm.wasm next to it falls back to dist/simdnorm-wasm.js", async () => {
  const dir = copyOfNodeBundle(["simdnorm.wasm"]);
  try {
    await inferWith(await import(pathToFileURL(join(dir, "node.js")).href));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("dist/node.js without either: init() rejects, naming the missing module", async () => {
  const dir = copyOfNodeBundle(["simdnorm.wasm", "simdnorm-wasm.js"]);
  try {
    const api = await import(pathToFileURL(join(dir, "node.js")).href);
    let err = null;
    try { await api.init(); } catch (e) { err = e; }
    assert.ok(err && /cannot load the wasm: reading simdnorm\.wasm .* importing \.\/simdnorm-wasm\.js failed/.test(err.message), `init() gave ${err}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();
