// What each runtime of the matrix runs (run.mjs bundles it with checks.mjs into the temporary
// consumer project, leaving `simdnorm` for the runtime itself to resolve from the installed
// tarball): `probe.mjs checks` (smoke + golden), `probe.mjs pool` (worker pool). Also built as
// CommonJS (probe.cjs), where the import becomes require("simdnorm"). Prints one line
// `RESULT {json}`; the exit code is 0 even when checks fail (the runner counts them).
import * as api from "simdnorm";
import { readFileSync } from "node:fs";
import { runChecks, runPoolChecks } from "./checks.mjs";

const g = globalThis;
const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : `node ${process.versions.node}`;
// __CJS__: set by run.mjs when it bundles this file (true for probe.cjs).
const isCjs = __CJS__;
const resolve = (spec) => {
  try {
    return isCjs ? require.resolve(spec) : import.meta.resolve ? String(import.meta.resolve(spec)) : "(import.meta.resolve missing)";
  } catch (e) {
    return `(unresolved: ${e.message})`;
  }
};
async function main() {
  const mode = process.argv[2] || "checks";
  const cases = JSON.parse(readFileSync(new URL("./cases.json", isCjs ? `file://${__filename}` : import.meta.url), "utf8"));
  const out = { runtime, mode, format: isCjs ? "cjs" : "esm", entry: resolve("simdnorm") };
  if (mode === "pool") {
    Object.assign(out, await runPoolChecks(api, cases));
  } else {
    const wasmPath = resolve("simdnorm/wasm").replace(/^file:\/\//, "");
    out.results = await runChecks(api, cases, { wasmBytes: readFileSync(decodeURIComponent(wasmPath)) });
}
console.log("RESULT " + JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
