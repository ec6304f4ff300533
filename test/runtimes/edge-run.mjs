// Runs the bundled Vercel Edge function (edge.js, built by run.mjs from edge-entry.mjs) in
// Vercel's Edge Runtime VM, the sandbox `next dev` and the `edge-runtime` CLI run edge code in:
// Web APIs only, no Node globals; wasm compilation from bytes refused, as on Vercel. The .wasm files the bundle
// imports with `?module` (edge-wasm.json: global name → file) are compiled here, outside the
// sandbox, and bound as globals of its context, as Next.js does. Prints `RESULT {json}`.
//   node edge-run.mjs /path/to/@edge-runtime/vm
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [vmDir] = process.argv.slice(2);
const { EdgeVM } = await import(pathToFileURL(`${vmDir}/dist/index.js`).href);
const bindings = JSON.parse(readFileSync("edge-wasm.json", "utf8"));
const modules = Object.fromEntries(Object.entries(bindings).map(([name, file]) => [name, new WebAssembly.Module(readFileSync(file))]));
// Wasm code generation off, as on Vercel ("Dynamic WASM compilation is not available in the Edge
// Runtime"; EdgeVM's own default allows it): only the modules bound here can be instantiated.
const vm = new EdgeVM({ codeGeneration: { strings: false, wasm: false }, extend: (context) => Object.assign(context, modules) });
if (typeof vm.context.process !== "undefined" || typeof vm.context.require !== "undefined") throw new Error("the Edge VM exposes Node globals");
vm.evaluate(readFileSync("edge.js", "utf8"));
const out = await vm.context.__simdnormResult;
if (out.error) throw new Error(out.error);
console.log("RESULT " + JSON.stringify(out));
