// The runtime matrix's Cloudflare worker: run.mjs bundles it as wrangler would (esbuild with the
// conditions workerd, worker, browser), keeps the .wasm imports as wasm modules of the worker,
// and runs `workerd test`, which calls test(). Also runs the README's Cloudflare Workers example
// (readme-example.js: the code block, as written) through its fetch handler.
// Prints `RESULT {json}`; throws when a check failed.
import * as api from "simdnorm";
import wasmModule from "simdnorm/wasm";
import cases from "./cases.json";
import example from "./readme-example.js";
import { runChecks } from "./checks.mjs";

async function readmeExample() {
  const rows = 3, C = 64;
  const x = Float32Array.from({ length: rows * C }, (_, i) => 100 + (i % C) * 0.5 + Math.floor(i / C));
  const res = await example.fetch(new Request("http://example/", { method: "POST", body: x.buffer }));
  const y = new Float32Array(await res.arrayBuffer());
  if (y.length !== rows * C) return { ok: false, message: `${y.length} values back, expected ${rows * C}` };
  for (let r = 0; r < rows; r++) {
    const row = y.subarray(r * C, (r + 1) * C);
    const mean = row.reduce((a, b) => a + b, 0) / C, v = row.reduce((a, b) => a + b * b, 0) / C - mean * mean;
    if (Math.abs(mean) > 1e-4 || Math.abs(v - 1) > 1e-3) return { ok: false, message: `row ${r}: mean ${mean}, var ${v}` };
  }
  return { ok: true };
}

export default {
  async test() {
    const results = await runChecks(api, cases, { wasmBytes: wasmModule, noThreads: true });
    try {
      const r = await readmeExample();
      results.push({ name: "README: the Cloudflare Workers example answers a request with normalized rows", ...r });
    } catch (e) {
      results.push({ name: "README: the Cloudflare Workers example answers a request with normalized rows", ok: false, message: String(e && e.stack || e) });
    }
    console.log("RESULT " + JSON.stringify({ runtime: "workerd", mode: "checks", format: "esm", results }));
    const bad = results.filter((r) => !r.ok);
    if (bad.length) throw new Error(`${bad.length} checks failed: ${bad[0].name}: ${bad[0].message}`);
  },
};
