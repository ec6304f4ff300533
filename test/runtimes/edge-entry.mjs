// The runtime matrix's Vercel Edge function: run.mjs bundles it as Next.js does for the edge
// runtime (esbuild with the conditions edge-light, worker, browser; a `.wasm?module` import
// becomes a WebAssembly.Module the host compiled and binds as a global, as Next.js's edge sandbox
// does) into one script, which edge-run.mjs evaluates in Vercel's Edge Runtime VM
// (@edge-runtime/vm: a V8 context with Web APIs only and wasm code generation from bytes
// refused). Also runs the README's Vercel Edge example (readme-example-vercel.js: the code block,
// as written) through its POST handler. Leaves its result in globalThis.__simdnormResult.
import * as api from "simdnorm";
import cases from "./cases.json";
import { POST } from "./readme-example-vercel.js";
import { runChecks, checkRowsExample } from "./checks.mjs";

// The smallest valid wasm module: compiling it from bytes must be refused here, as on Vercel.
const EMPTY_MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);


async function main() {
  const results = [];
  const control = "control: compiling wasm from bytes is refused in this runtime (so the default entry could not run here)";
  try {
    new WebAssembly.Module(EMPTY_MODULE);
    results.push({ name: control, ok: false, message: "new WebAssembly.Module(bytes) succeeded" });
  } catch (e) {
    results.push({ name: control, ok: /disallowed/i.test(String(e && e.message)), message: String(e && e.message) });
  }
  results.push(...(await runChecks(api, cases, { noThreads: true })));
  const name = "README: the Vercel Edge example answers a request with normalized rows";
  try {
    results.push({ name, ...(await checkRowsExample(POST)) });
  } catch (e) {
    results.push({ name, ok: false, message: String((e && e.stack) || e) });
  }
  return { runtime: `vercel-edge ${typeof EdgeRuntime === "string" ? EdgeRuntime : "?"}`, mode: "checks", format: "script", results };
}

globalThis.__simdnormResult = main().catch((e) => ({ error: String((e && e.stack) || e) }));
