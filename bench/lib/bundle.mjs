// The library of a source tree bundled with its runtime exposed (rt(): the wasm kernels), for
// scripts that time kernels inside or beside op calls. The public bundle does not expose the
// kernels, so this builds one of ROOT/js/ (esbuild) into a temporary directory, the wasm of
// ROOT/build/ read from disk at load time (run `node build.mjs` in ROOT first).
import * as esbuild from "esbuild";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** ROOT's js/index.ts and rt, as a module (each call a module of its own: two trees can be loaded side by side). */
export async function bundleOf(root) {
  const dir = mkdtempSync(join(tmpdir(), "simdnorm-bundle-"));
  writeFileSync(join(dir, "entry.ts"), `export * from ${JSON.stringify(join(root, "js/index.ts"))};\nexport { rt } from ${JSON.stringify(join(root, "js/core/runtime.ts"))};\n`);
  // .wasm imports: the bytes read from build/ at load time (the published bundles embed them).
  const wasmFromDisk = { name: "wasm-from-disk", setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, (a) => ({ path: join(a.resolveDir, a.path), namespace: "wasm-from-disk" }));
    b.onLoad({ filter: /.*/, namespace: "wasm-from-disk" }, (a) => ({ loader: "js", contents: `import { readFileSync } from "node:fs";\nconst b = readFileSync(${JSON.stringify(a.path)});\nexport default () => new Uint8Array(b.buffer, b.byteOffset, b.length);\n` }));
  } };
  // The worker pool's module (js/workers/chunk.ts, imported by createPool) is left out: an external
  // import() of a file that does not exist, which fails only if a script calls createPool.
  const pool = { name: "no-pool", setup(b) { b.onResolve({ filter: /^\.\/chunk$/ }, () => ({ path: "./no-pool.js", external: true })); } };
  try {
    await esbuild.build({ entryPoints: [join(dir, "entry.ts")], outfile: join(dir, "bundle.mjs"), bundle: true, format: "esm", platform: "node", target: "es2020", loader: { ".txt": "text" }, logLevel: "warning", plugins: [wasmFromDisk, pool] });
    return await import(pathToFileURL(join(dir, "bundle.mjs")).href);
  } finally {
    rmSync(dir, { recursive: true, force: true }); // also when the bundle fails to build or load
  }
}
