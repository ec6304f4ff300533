// The runtime matrix's Cloudflare worker: run.mjs bundles it as wrangler would (esbuild with the
// conditions workerd, worker, browser), keeps the .wasm imports as wasm modules of the worker,
// and runs `workerd test`, which calls test(). Prints `RESULT {json}`; throws when a check failed.
import * as api from "simdnorm";
import wasmModule from "simdnorm/wasm";
import cases from "./cases.json";
import { runChecks } from "./checks.mjs";

export default {
  async test() {
    const results = await runChecks(api, cases, { wasmBytes: wasmModule, noThreads: true });
    console.log("RESULT " + JSON.stringify({ runtime: "workerd", mode: "checks", format: "esm", results }));
    const bad = results.filter((r) => !r.ok);
    if (bad.length) throw new Error(`${bad.length} checks failed: ${bad[0].name}: ${bad[0].message}`);
  },
};
