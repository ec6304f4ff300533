// init(): embedded wasm by default; bytes, a compiled Module or a URL to override; memoized; a
// failed init can be retried; a clear message when SIMD is missing. Each case runs in a fresh
// process (init state is per process).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";

const dist = new URL("../dist/index.js", import.meta.url).href;
const wasmPath = new URL("../build/simdnorm.wasm", import.meta.url);

function run(body, env = {}) {
  const src = `import * as sn from ${JSON.stringify(dist)};\nconst check = () => { const y = sn.batchNormInfer(new Float32Array([1, 2, 3, 4]), { shape: [2, 2], layout: "NC", runningMean: [2, 3], runningVar: [1, 1], eps: 0 }); if (y[0] !== -1 || y[3] !== 1) throw new Error("wrong result " + y); };\n${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", src], { encoding: "utf8", env: { ...process.env, ...env } });
  assert.ok(r.status === 0, `child failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

test("the embedded wasm needs no path; init() is memoized", () => {
  run(`const p1 = sn.init(), p2 = sn.init(); await p1; await p2; check(); await sn.init(); check();`);
});

test("init({ wasm }) takes bytes or a compiled WebAssembly.Module", () => {
  run(`import { readFileSync } from "node:fs"; await sn.init({ wasm: readFileSync(${JSON.stringify(wasmPath.pathname)}) }); check();`);
  run(`import { readFileSync } from "node:fs"; const m = await WebAssembly.compile(readFileSync(${JSON.stringify(wasmPath.pathname)})); await sn.init({ wasm: m }); check();`);
});

test("init({ wasm }) takes a Module or bytes made in another realm (a vm context, Next.js's edge sandbox)", () => {
  // Objects of another realm fail \`instanceof\` against this realm's constructors.
  const bytes = `readFileSync(${JSON.stringify(wasmPath.pathname)})`;
  run(`import { readFileSync } from "node:fs"; import vm from "node:vm"; const m = vm.runInNewContext("new WebAssembly.Module(b)", { b: ${bytes} }); if (m instanceof WebAssembly.Module) throw new Error("same realm"); await sn.init({ wasm: m }); check();`);
  run(`import { readFileSync } from "node:fs"; import vm from "node:vm"; const b = vm.runInNewContext("new Uint8Array(n).buffer", { n: ${bytes}.length }); new Uint8Array(b).set(${bytes}); if (b instanceof ArrayBuffer) throw new Error("same realm"); await sn.init({ wasm: b }); check();`);
});

test("init({ wasm }) refuses look-alikes by name: a forged tag, an object on Module's prototype", () => {
  const want = "init: wasm must be bytes, a WebAssembly.Module or a URL";
  for (const fake of ['{ [Symbol.toStringTag]: "ArrayBuffer" }', '{ [Symbol.toStringTag]: "WebAssembly.Module" }', "Object.create(WebAssembly.Module.prototype)"]) {
    const out = run(`try { await sn.init({ wasm: ${fake} }); console.log("resolved"); } catch (e) { console.log(e.message); }`);
    assert.ok(out.startsWith(want), `${fake}: ${out}`);
  }
});

test("init({ wasm: url }) fetches it", async () => {
  const bytes = readFileSync(wasmPath);
  const server = createServer((req, res) => {
    if (req.url === "/simdnorm.wasm") { res.writeHead(200, { "content-type": "application/wasm" }); res.end(bytes); }
    else { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    // spawnSync would block this process's server: use an async child.
    const { spawn } = await import("node:child_process");
    const code = (body) => new Promise((resolve, reject) => {
      const src = `import * as sn from ${JSON.stringify(dist)};\n${body}`;
      const c = spawn(process.execPath, ["--input-type=module", "-e", src]);
      let err = ""; c.stderr.on("data", (d) => (err += d)); c.stdout.on("data", (d) => (err += d));
      c.on("exit", (s) => (s === 0 ? resolve() : reject(new Error(err))));
    });
    await code(`await sn.init({ wasm: new URL(${JSON.stringify(base + "/simdnorm.wasm")}) }); if (!sn.isInitialized()) throw new Error("not initialized");`);
    await code(`try { await sn.init({ wasm: ${JSON.stringify(base + "/missing.wasm")} }); throw new Error("no throw"); } catch (e) { if (!/HTTP 404/.test(e.message)) throw e; }`);
  } finally {
    server.close();
  }
});

test("init({ warmup }) runs the kernels at init and gives their memory back; the default runs none", () => {
  // 65,536 values per kernel need more than the initial memory; the default init touches none of it.
  const probe = (opts) => JSON.parse(run(`await sn.init(${opts}); const m = sn.memoryStats(); check(); console.log(JSON.stringify(m));`));
  const cold = probe(""), warm = probe("{ warmup: true }"), some = probe("{ warmup: 100000 }");
  assert.is(warm.allocatedBytes, 0, "the warm-up's block is released");
  assert.is(some.allocatedBytes, 0, "the warm-up's block is released (a number of values)");
  assert.ok(warm.memoryBytes > cold.memoryBytes, `warmup: true grew memory (${warm.memoryBytes} vs ${cold.memoryBytes} bytes)`);
  assert.ok(some.memoryBytes > warm.memoryBytes, `warmup: 100000 uses more than warmup: true (${some.memoryBytes} vs ${warm.memoryBytes})`);
});

test("a failed init can be retried", () => {
  run(`try { await sn.init({ wasm: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) }); throw new Error("no throw"); } catch (e) { if (e.message === "no throw") throw e; }
  assert.ok(!sn.isInitialized(), "initialized after a failure");
  await sn.init(); check();`);
});

test("ops before init say what to do", () => {
  run(`try { sn.channelStats(new Float32Array(4), { shape: [2, 2], layout: "NC" }); throw new Error("no throw"); } catch (e) { if (!/call \`await init\\(\\)\` first/.test(e.message)) throw e; }`);
});

test("no WebAssembly SIMD: the error names the engines needed", () => {
  const out = run(`WebAssembly.validate = () => false;
  try { await sn.init(); throw new Error("no throw"); } catch (e) { console.log(e.message); }`);
  assert.ok(out.includes("WebAssembly SIMD is not supported here") && out.includes("Node ≥ 16.4, Chrome 91, Firefox 89, Safari 16.4"), out);
});
test.run();
