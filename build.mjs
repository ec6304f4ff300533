// Build: AssemblyScript → wasm (release, SIMD; fails if no v128 instruction), then esbuild
// bundles js/ with the wasm embedded (ESM for Node and browsers), then tsc emits .d.ts.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, existsSync, rmSync, renameSync, copyFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { pruneTypes } from "./build-types.mjs";

const root = dirname(fileURLToPath(import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const step = (msg) => console.log(`[build] ${msg}`);

function asc(target) {
  execFileSync(bin("asc"), ["assembly/index.ts", "--target", target], { cwd: root, stdio: "inherit" });
}

/** True when the code section holds a 0xFD-prefixed SIMD opcode (walks the binary's sections). */
function hasV128(bytes) {
  let i = 8;
  const leb = () => { let r = 0, s = 0, b; do { b = bytes[i++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
  while (i < bytes.length) {
    const id = bytes[i++]; const size = leb(); const end = i + size;
    if (id === 10) { for (let j = i; j < end; j++) if (bytes[j] === 0xfd) return true; }
    i = end;
  }
  return false;
}

mkdirSync(join(root, "build"), { recursive: true });
step("asc release (SIMD)");
asc("release");
const wasm = readFileSync(join(root, "build/simdnorm.wasm"));
if (!hasV128(wasm) || !readFileSync(join(root, "build/simdnorm.wat"), "utf8").includes("v128")) {
  console.error("[build] build/simdnorm.wasm has no v128 instructions: SIMD is not enabled (asconfig.json options.enable)");
  process.exit(1);
}
step(`build/simdnorm.wasm ${wasm.length} bytes`);
step("asc threads (SIMD + shared memory)");
asc("threads");

// .wasm imports become base64 text with a lazy decoder (js/core/base64.ts): nothing is decoded at
// import time, and a module the user never needs (the threads build) is never decoded.
const lazyWasm = { name: "lazy-wasm", setup(b) {
  b.onResolve({ filter: /\.wasm$/ }, (a) => ({ path: join(a.resolveDir, a.path), namespace: "lazy-wasm" }));
  b.onLoad({ filter: /.*/, namespace: "lazy-wasm" }, (a) => ({
    contents: `import { decodeBase64 } from ${JSON.stringify(join(root, "js/core/base64.ts"))};\n` +
      `const b64 = ${JSON.stringify(readFileSync(a.path).toString("base64"))};\nlet bytes;\n` +
      `export default function wasmBytes() { return bytes ??= decodeBase64(b64); }\n`,
    loader: "js", resolveDir: root,
  }));
} };
const common = { bundle: true, format: "esm", target: "es2020", loader: { ".txt": "text" }, logLevel: "warning", legalComments: "none" };
// The published bundles: whitespace and syntax minified, identifiers kept. Every function and class
// keeps its own name (public classes, stack traces, the layers' error messages) at no run-time cost;
// esbuild's keepNames did the same with one defineProperty call per function (~250) that cost
// ~2.4 ms of each cold start's CPU and kept a user's bundler from dropping unused parts.
const minify = { minifyWhitespace: true, minifySyntax: true };
// The worker pool's script (js/workers/worker.ts): one IIFE for Node worker_threads and Web
// Workers, without wasm (the pool posts its compiled module), embedded as text in the bundles.
const noWasm = { name: "no-wasm", setup(b) {
  b.onResolve({ filter: /\.wasm$/ }, (a) => ({ path: a.path, namespace: "no-wasm" }));
  b.onLoad({ filter: /.*/, namespace: "no-wasm" }, () => ({ contents: "export default () => new Uint8Array(0);", loader: "js" }));
} };
step("esbuild build/simdnorm-worker.txt (worker pool script)");
await esbuild.build({ ...common, entryPoints: [join(root, "js/workers/worker.ts")], outfile: join(root, "build/simdnorm-worker.txt"), format: "iife", platform: "neutral", minify: true, external: ["node:worker_threads"], plugins: [noWasm] });
// The worker pool's module, dist/simdnorm-pool.js (js/workers/chunk.ts): the pool's implementation,
// the threads build and the worker script. The ESM, CommonJS and browser bundles import it (dynamic
// import(), relative to the bundle) only when createPool runs: every import of simdnorm would
// otherwise parse ~120 KB it rarely uses (docs/performance.md, cold start). It holds none of the
// runtime: a pool gets the functions of the bundle that made it (js/workers/link.ts), so one module
// serves every bundle; the build fails if one of the chunk's modules imports js/core or js/ops
// (`../core/…`, `../ops/…`: every module of the chunk is in js/workers). The lazy-wasm plugin
// still bundles js/core/base64.ts, the stateless decoder of the embedded threads build.
const POOL_CHUNK = "./simdnorm-pool.js";
rmSync(join(root, "dist/index.js.map"), { force: true }); // no source map is published (earlier builds made one)
const poolChunk = { name: "pool-chunk", setup(b) {
  b.onResolve({ filter: /^\.\/chunk$/ }, (a) => (a.importer === join(root, "js/workers/load.ts") ? { path: POOL_CHUNK, external: true } : undefined));
} };
const runtimeOutside = { name: "runtime-outside", setup(b) {
  b.onResolve({ filter: /^\.\.\/(core|ops)\// }, (a) => ({ errors: [{ text: `${a.importer} imports ${a.path}: the pool's module takes the runtime from the bundle that loads it (js/workers/link.ts), it must not bundle a copy` }] }));
} };
// Node (export condition `node`, under `import`): dist/node.js reads the wasm from dist/simdnorm.wasm
// next to it instead of parsing ~55 K characters of base64 at every import (docs/performance.md,
// cold start). Bundled for Node by a bundler that does not copy that file, the read fails and the
// bundle falls back to dist/simdnorm-wasm.js (the base64, imported only then; the bundler follows
// that import()), so no setup breaks that worked with the self-contained dist/index.js.
const WASM_CHUNK = "./simdnorm-wasm.js";
const nodeWasm = { name: "node-wasm", setup(b) {
  b.onResolve({ filter: /(^|\/)simdnorm\.wasm$/ }, () => ({ path: "plain", namespace: "node-wasm" }));
  b.onLoad({ filter: /.*/, namespace: "node-wasm" }, () => ({
    // process.getBuiltinModule (Node >= 20.16, Bun): a static `import … from "node:fs"` makes Node
    // build an ES module namespace of fs's ~100 exports at every import of the bundle.
    contents: "export default async function wasmBytes() {\n" +
      "  let read;\n" +
      '  try {\n    const fs = globalThis.process?.getBuiltinModule?.("fs") ?? (await import("node:fs"));\n' +
      '    return fs.readFileSync(new URL("./simdnorm.wasm", import.meta.url));\n  } catch (e) { read = e; }\n' +
      `  try { return (await import(${JSON.stringify(WASM_CHUNK)})).default(); }\n` +
      "  catch (e) { throw new Error(`init: cannot load the wasm: reading simdnorm.wasm next to the bundle failed (${read && read.message}), " +
      `importing ${WASM_CHUNK} failed (\${e && e.message}); pass the bytes of simdnorm/wasm as init({ wasm })\`); }\n}\n`,
    loader: "js",
  }));
  b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, external: true }));
  b.onResolve({ filter: /simdnorm-wasm\.js$/ }, (a) => ({ path: a.path, external: true }));
} };
step("esbuild dist/index.js (bundlers, Deno), dist/node.js (Node, Bun), dist/browser.js (browsers, workers), dist/simdnorm-pool.js, dist/simdnorm-wasm.js");
await esbuild.build({ ...common, entryPoints: [join(root, "js/index.ts")], outfile: join(root, "dist/index.js"), platform: "neutral", ...minify, plugins: [lazyWasm, poolChunk] });
await esbuild.build({ ...common, entryPoints: [join(root, "js/index.ts")], outfile: join(root, "dist/browser.js"), platform: "browser", ...minify, plugins: [lazyWasm, poolChunk] });
await esbuild.build({ ...common, entryPoints: [join(root, "js/index.ts")], outfile: join(root, "dist/node.js"), platform: "neutral", ...minify, plugins: [nodeWasm, poolChunk] });
await esbuild.build({ ...common, stdin: { contents: `export { default } from "./build/simdnorm.wasm";\n`, resolveDir: root }, outfile: join(root, "dist", WASM_CHUNK), platform: "neutral", ...minify, plugins: [lazyWasm] });
await esbuild.build({ ...common, entryPoints: [join(root, "js/workers/chunk.ts")], outfile: join(root, "dist", POOL_CHUNK), platform: "neutral", ...minify, plugins: [runtimeOutside, lazyWasm] });

// The kernel table alone (no wasm, no runtime) for bench/kernel-ab.mjs and the kernel-table test.
await esbuild.build({ ...common, entryPoints: [join(root, "js/core/kernel-table.ts")], outfile: join(root, "build/kernel-table.mjs"), platform: "neutral" });

// CommonJS (require("simdnorm")): the same bundle as dist/index.js, init() still async; it loads
// the ESM dist/simdnorm-pool.js through import() too (CommonJS may import ESM that way).
step("esbuild dist/index.cjs (CommonJS)");
await esbuild.build({ ...common, entryPoints: [join(root, "js/index.ts")], outfile: join(root, "dist/index.cjs"), format: "cjs", platform: "neutral", ...minify, plugins: [lazyWasm, poolChunk] });

// Edge runtimes (workerd / Cloudflare Workers, Vercel Edge) cannot compile wasm from bytes: the
// .wasm ships as a file (dist/simdnorm.wasm, also the `simdnorm/wasm` export) and the edge
// bundles import it, so the runtime (or the deploy bundler) compiles it and hands over a
// WebAssembly.Module. The runtime's default `wasmBytes()` then returns that Module (init() takes
// Modules as they are). No threads there: no threads build, no worker script in these bundles.
copyFileSync(join(root, "build/simdnorm.wasm"), join(root, "dist/simdnorm.wasm"));
const edgeWasm = (specifier) => ({ name: "edge-wasm", setup(b) {
  b.onResolve({ filter: /^\.\/simdnorm\.wasm(\?module)?$/ }, (a) => (a.importer.startsWith("edge-wasm:") || a.namespace === "edge-wasm" ? { path: a.path, external: true } : undefined));
  b.onResolve({ filter: /simdnorm(-threads)?\.wasm$/ }, (a) => ({ path: a.path.endsWith("-threads.wasm") ? "threads" : "plain", namespace: "edge-wasm" }));
  b.onResolve({ filter: /simdnorm-worker\.txt$/ }, () => ({ path: "worker", namespace: "edge-wasm" }));
  b.onLoad({ filter: /.*/, namespace: "edge-wasm" }, (a) => ({
    contents: a.path === "plain" ? `import module from ${JSON.stringify(specifier)};\nexport default function wasmModule() { return module; }\n`
      : a.path === "threads" ? 'export default function threadsWasm() { throw new Error("the edge entry of simdnorm has no threads build: this runtime has no threads"); }\n'
      : 'export default "";\n',
    loader: "js",
  }));
} });
step("esbuild dist/workerd.js (workerd, worker) and dist/edge-light.js (Vercel Edge)");
await esbuild.build({ ...common, entryPoints: [join(root, "js/entry-edge.ts")], outfile: join(root, "dist/workerd.js"), platform: "neutral", ...minify, plugins: [edgeWasm("./simdnorm.wasm")] });
await esbuild.build({ ...common, entryPoints: [join(root, "js/entry-edge.ts")], outfile: join(root, "dist/edge-light.js"), platform: "neutral", ...minify, plugins: [edgeWasm("./simdnorm.wasm?module")] });

// Declarations: tsc emits extensionless relative imports ("./runtime"), which TypeScript's
// node16/nodenext resolution rejects (TS2834). Rewrite every relative specifier to the file it
// names (.js, or /index.js for a folder), then make a CommonJS twin of the tree (.d.cts with
// .cjs specifiers) for the `require` condition, so neither side masquerades as the other.
step("tsc declarations (+ .js specifiers, + .d.cts twins)");
rmSync(join(root, "dist/types"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
step(`dropped ${pruneTypes(join(root, "dist/types"))} declarations the public API does not reach`);
const dtsFiles = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? dtsFiles(join(dir, e.name)) : e.name.endsWith(".d.ts") ? [join(dir, e.name)] : []);
const relSpec = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*)\2/g;
for (const f of dtsFiles(join(root, "dist/types"))) {
  const fix = (ext) => (_m, pre, q, spec) => {
    const base = join(dirname(f), spec.replace(/\.js$/, ""));
    const target = existsSync(base + ".d.ts") ? spec.replace(/\.js$/, "") + ext : existsSync(join(base, "index.d.ts")) ? spec.replace(/\/$/, "") + "/index" + ext : null;
    if (!target) throw new Error(`[build] ${f}: cannot resolve the declaration import "${spec}"`);
    return pre + q + target + q;
  };
  const text = readFileSync(f, "utf8");
  writeFileSync(f, text.replace(relSpec, fix(".js")));
  writeFileSync(f.replace(/\.d\.ts$/, ".d.cts"), text.replace(relSpec, fix(".cjs")));
}
writeFileSync(join(root, "dist/index.d.ts"), 'export * from "./types/index.js";\n');
writeFileSync(join(root, "dist/index.d.cts"), 'export * from "./types/index.cjs";\n');
writeFileSync(join(root, "dist/browser.d.ts"), 'export * from "./types/index.js";\n');
step("done");
