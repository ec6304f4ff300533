// The runtime matrix's Cloudflare worker: run.mjs bundles it as wrangler would (esbuild with the
// conditions workerd, worker, browser), keeps the .wasm imports as wasm modules of the worker,
// and runs `workerd test`, which calls test(). Also runs the README's Cloudflare Workers example
// (readme-example.js: the code block, as written) through its fetch handler.
// Prints `RESULT {json}`; throws when a check failed.
import * as api from "simdnorm";
import wasmModule from "simdnorm/wasm";
import cases from "./cases.json";
import example from "./readme-example.js";
import { runChecks, checkRowsExample } from "./checks.mjs";


export default {
  async test() {
    const results = await runChecks(api, cases, { wasmBytes: wasmModule, noThreads: true });
    try {
      const r = await checkRowsExample((req) => example.fetch(req));
      results.push({ name: "README: the Cloudflare Workers example answers a request with normalized rows", ...r });
    } catch (e) {
      results.push({ name: "README: the Cloudflare Workers example answers a request with normalized rows", ok: false, message: String(e && e.stack || e) });
    }
    console.log("RESULT " + JSON.stringify({ runtime: "workerd", mode: "checks", format: "esm", results }));
    const bad = results.filter((r) => !r.ok);
    if (bad.length) throw new Error(`${bad.length} checks failed: ${bad[0].name}: ${bad[0].message}`);
  },
};
