#!/usr/bin/env node
// Consumer tests: the package as a user gets it. `npm pack`, then `npm install --offline` of the
// tarball into a fresh temporary project, and there:
//   - ESM import and CommonJS require (node), both running a small op against known values;
//   - tsc type-checks a consumer under "moduleResolution": "nodenext" (an .mts and a .cts file)
//     and "bundler"; each file holds a `@ts-expect-error` on a wrong layout string, so the check
//     also fails when the types degrade to `any`;
//   - esbuild bundles a browser consumer (it must pick dist/browser.js), headless Chromium runs it;
//   - esbuild with Vercel Edge's and wrangler's conditions picks the edge entries;
//   - @arethetypeswrong/cli and publint on the tarball report no problems;
//   - the tarball's contents; the README's package-size table (between its markers) matches the
//     tarball within 3 % (`--write-sizes` rewrites it).
// Prints one line per check and `consumers: N passed, N failed`; exit 1 on any failure.
// No Chromium: the browser check is skipped with a note (a failure under CI=true).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, readFileSync, rmSync, mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { ROOT, pack } from "../runtimes/pack.mjs";
import { chromiumPath, withBrowser, runPage } from "../browser/harness.mjs";
import { startServer } from "../browser/server.mjs";

const ci = process.env.CI === "true";
const checks = [];
const log = console.log;
let passed = 0, failed = 0;

async function check(name, fn) {
  const t = Date.now();
  try {
    const note = await fn();
    if (note === SKIP) { log(`skip ${name}`); return; }
    passed++;
    log(`ok   ${name}${note ? `: ${note}` : ""} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${String(e && e.message || e).replace(/\n/g, "\n     ")}`);
  }
}
const SKIP = Symbol("skip");

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, timeout: 300_000 });
  const out = ((r.stdout || "") + (r.stderr || "")).trim();
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(" ")} exited ${r.status}${r.error ? ` (${r.error.message})` : ""}\n${out.split("\n").slice(-30).join("\n")}`);
  return out;
}
const node = (args, cwd) => run(process.execPath, args, cwd);

for (const f of ["dist/index.js", "dist/node.js", "dist/simdnorm-wasm.js", "dist/index.cjs", "dist/browser.js", "dist/workerd.js", "dist/edge-light.js", "dist/simdnorm.wasm", "dist/index.d.ts", "dist/index.d.cts"]) {
  if (!existsSync(join(ROOT, f))) {
    log(`FAIL consumers: ${f} is missing (build first: npm run build)`);
    log("consumers: 0 passed, 1 failed");
    process.exit(1);
  }
}

const app = mkdtempSync(join(tmpdir(), "simdnorm-consumer-"));
let packed;
await check("npm pack", () => {
  packed = pack();
  return `${packed.files.length} files, ${(packed.size / 1024).toFixed(1)} KiB packed`;
});
if (!packed) { log(`consumers: ${passed} passed, ${failed} failed`); process.exit(1); }

await check("tarball: LICENSE, README, CHANGELOG, every entry and its types; no sources, no source maps", () => {
  const need = ["LICENSE", "README.md", "CHANGELOG.md", "package.json", "dist/index.js", "dist/node.js", "dist/simdnorm-wasm.js", "dist/index.cjs", "dist/browser.js", "dist/simdnorm-pool.js", "dist/workerd.js", "dist/edge-light.js", "dist/simdnorm.wasm", "dist/index.d.ts", "dist/index.d.cts", "dist/types/index.d.ts", "dist/types/index.d.cts"];
  const missing = need.filter((f) => !packed.files.includes(f));
  const extra = packed.files.filter((f) => /^(js|assembly|test|bench|build)\//.test(f) || f.endsWith(".map"));
  if (missing.length || extra.length) throw new Error(`missing: ${missing.join(", ") || "none"}; not for publishing: ${extra.join(", ") || "none"}`);
});

await check("npm install --offline of the tarball into a fresh project", () => {
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", packed.tarball], app);
  if (!existsSync(join(app, "node_modules/simdnorm/dist/index.js"))) throw new Error("node_modules/simdnorm/dist/index.js is missing after install");
});

// The same small op from ESM and CommonJS: known statistics and a known normalized value.
const useIt = (imp) => `${imp}
const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
function main() {
  const s = channelStats(x, { shape: [4, 2], layout: "NC" });
  const r = batchNormTrain(x, { shape: [4, 2], layout: "NC", eps: 0 });
  const y0 = r.y[0];
  if (Array.from(s.mean).join() !== "4,5" || Array.from(s.var).join() !== "5,5" || Math.abs(y0 + 3 / Math.sqrt(5)) > 1e-6)
    throw new Error("wrong values: mean " + Array.from(s.mean) + ", var " + Array.from(s.var) + ", y[0] " + y0);
  console.log("ok", typeof init(), isInitialized());
}
`;
await check("ESM: import { … } from \"simdnorm\" (node)", () => {
  writeFileSync(join(app, "esm.mjs"), useIt('import { init, isInitialized, channelStats, batchNormTrain } from "simdnorm";\nawait init();') + "main();\nconsole.log(import.meta.resolve('simdnorm'));\n");
  const out = node(["esm.mjs"], app);
  if (!/ok object true/.test(out) || !out.includes("node_modules/simdnorm/dist/node.js")) throw new Error(`unexpected output: ${out}`);
  return "dist/node.js";
});
await check("CommonJS: require(\"simdnorm\"), init() still async (node)", () => {
  writeFileSync(join(app, "cjs.cjs"), useIt('const { init, isInitialized, channelStats, batchNormTrain } = require("simdnorm");\nif (!(init() instanceof Promise)) throw new Error("init() is not a Promise");') + "init().then(main).then(() => console.log(require.resolve('simdnorm')));\n");
  const out = node(["cjs.cjs"], app);
  if (!/ok object true/.test(out) || !out.includes("node_modules/simdnorm/dist/index.cjs")) throw new Error(`unexpected output: ${out}`);
  return "dist/index.cjs";
});

await check("esbuild --platform=node bundle of the ESM consumer, run from another folder (no simdnorm.wasm beside it)", async () => {
  mkdirSync(join(app, "node-bundle"), { recursive: true });
  const out = join(app, "node-bundle/app.mjs");
  const r = await esbuild.build({ entryPoints: [join(app, "esm.mjs")], bundle: true, platform: "node", format: "esm", outfile: out, logLevel: "silent", absWorkingDir: app, metafile: true });
  const entry = Object.keys(r.metafile.inputs).find((p) => /node_modules\/simdnorm\/dist\/[^/]+\.js$/.test(p) && !/simdnorm-(pool|wasm)\.js$/.test(p));
  if (!entry?.endsWith("dist/node.js")) throw new Error(`bundled ${entry}, expected dist/node.js`);
  const text = node([out], join(app, "node-bundle"));
  if (!/ok object true/.test(text)) throw new Error(`unexpected output: ${text}`);
  return "dist/node.js, the wasm from dist/simdnorm-wasm.js";
});

// TypeScript consumers. The @ts-expect-error lines make the check fail if the layout type is lost.
const tsUse = (imp) => `${imp}
export async function go(): Promise<number> {
  await init();
  const x = new Float32Array(24);
  const r = batchNormTrain(x, { shape: [2, 3, 4], layout: "NCL", gamma: new Float32Array(3), beta: new Float32Array(3) });
  const s: { mean: Float64Array | Float32Array | number[] } = channelStats(x, { shape: [2, 3, 4], layout: "NLC" });
  // @ts-expect-error "NCWH" is not a Layout
  channelStats(x, { shape: [2, 3, 4], layout: "NCWH" });
  const layout: Layout = "NHWC";
  return r.y.length + s.mean.length + layout.length + Object.keys(LAYOUTS).length;
}
`;
const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
async function tsCheck(dir, compilerOptions, files) {
  mkdirSync(join(app, dir), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(app, dir, f), text);
  writeFileSync(join(app, dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "ES2022", lib: ["ES2022", "DOM"], types: [], ...compilerOptions }, files: Object.keys(files) }, null, 2));
  node([tsc, "-p", join(app, dir)], app);
}
await check("tsc, moduleResolution nodenext: an ES module (.mts) and a CommonJS module (.cts)", () => tsCheck("ts-nodenext", { module: "nodenext", moduleResolution: "nodenext" }, {
  "esm.mts": tsUse('import { init, batchNormTrain, channelStats, LAYOUTS, type Layout } from "simdnorm";'),
  "cjs.cts": tsUse('import { init, batchNormTrain, channelStats, LAYOUTS, type Layout } from "simdnorm";'),
}));
await check("tsc, moduleResolution bundler", () => tsCheck("ts-bundler", { module: "esnext", moduleResolution: "bundler" }, {
  "index.ts": tsUse('import { init, batchNormTrain, channelStats, LAYOUTS, type Layout } from "simdnorm";'),
}));

// Which file does a bundler take with a platform's conditions?
async function bundledEntry(file, opts) {
  const r = await esbuild.build({ entryPoints: [file], bundle: true, write: false, format: "esm", logLevel: "silent", absWorkingDir: app, metafile: true, outdir: join(app, "out"), ...opts });
  // The entry the conditions chose (the pool's module, dist/simdnorm-pool.js, comes along through import()).
  const entry = Object.keys(r.metafile.inputs).find((p) => p.includes("node_modules/simdnorm/") && !p.endsWith("/simdnorm-pool.js"));
  return { entry: entry?.replace(/^.*node_modules\/simdnorm\//, ""), text: r.outputFiles.find((f) => f.path.endsWith(".js")).text };
}
await check("esbuild, Vercel Edge conditions (edge-light, worker, browser): dist/edge-light.js importing ./simdnorm.wasm?module", async () => {
  writeFileSync(join(app, "edge.mjs"), 'import { init } from "simdnorm";\nexport default async () => { await init(); return new Response("ok"); };\n');
  const { entry, text } = await bundledEntry(join(app, "edge.mjs"), { conditions: ["edge-light", "worker", "browser"], external: ["*.wasm?module"] });
  if (entry !== "dist/edge-light.js" || !/from\s*"[^"]*simdnorm\.wasm\?module"/.test(text)) throw new Error(`entry ${entry}; wasm import ${/simdnorm\.wasm[^"]*/.exec(text)?.[0]}`);
});
await check("esbuild, wrangler's conditions (workerd, worker, browser): dist/workerd.js importing ./simdnorm.wasm", async () => {
  const { entry, text } = await bundledEntry(join(app, "edge.mjs"), { conditions: ["workerd", "worker", "browser"], external: ["*.wasm"] });
  if (entry !== "dist/workerd.js" || !/from\s*"[^"]*simdnorm\.wasm"/.test(text)) throw new Error(`entry ${entry}; wasm import ${/simdnorm\.wasm[^"]*/.exec(text)?.[0]}`);
});

await check("esbuild browser bundle, run in headless Chromium", async () => {
  mkdirSync(join(app, "web"), { recursive: true });
  writeFileSync(join(app, "web/main.js"), `import { init, batchNormTrain, channelStats, simdSupported } from "simdnorm";
const failures = [];
let passed = 0;
function t(name, fn) { try { fn(); passed++; } catch (e) { failures.push({ name, message: e.message }); } }
try {
  await init();
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  t("SIMD supported", () => { if (!simdSupported()) throw new Error("simdSupported() false"); });
  t("channelStats", () => { const s = channelStats(x, { shape: [4, 2], layout: "NC" }); if (Array.from(s.mean).join() !== "4,5" || Array.from(s.var).join() !== "5,5") throw new Error("mean " + Array.from(s.mean) + " var " + Array.from(s.var)); });
  t("batchNormTrain", () => { const y = batchNormTrain(x, { shape: [4, 2], layout: "NC", eps: 0 }).y; if (Math.abs(y[7] - 3 / Math.sqrt(5)) > 1e-6) throw new Error("y[7] = " + y[7]); });
  window.__result = { passed, failed: failures.length, failures };
} catch (e) {
  window.__result = { error: String(e && e.stack || e) };
}
`);
  const { entry } = await bundledEntry(join(app, "web/main.js"), { platform: "browser" });
  if (entry !== "dist/browser.js") throw new Error(`esbuild (platform browser) bundled ${entry}, expected dist/browser.js`);
  await esbuild.build({ entryPoints: [join(app, "web/main.js")], bundle: true, format: "esm", platform: "browser", minify: true, outfile: join(app, "web/bundle.js"), logLevel: "silent", absWorkingDir: app });
  writeFileSync(join(app, "web/index.html"), '<!doctype html><meta charset="utf-8"><script type="module" src="./bundle.js"></script>\n');
  if (!chromiumPath()) {
    if (ci) throw new Error("Chromium not found: CI=true requires it (.ci/install-chromium.sh)");
    return SKIP;
  }
  const server = await startServer({ root: app, dirs: ["web"] });
  try {
    let r;
    await withBrowser(async (browser) => { r = await runPage(browser, `${server.url}/plain/web/index.html`, { timeoutMs: 60_000 }); });
    if (r.failed || r.passed !== 3) throw new Error(`${r.passed} passed, ${r.failed} failed: ${r.failures.map((f) => `${f.name}: ${f.message}`).join("; ")}`);
    return `bundle ${(readFileSync(join(app, "web/bundle.js")).length / 1024).toFixed(1)} KiB from dist/browser.js; 3 page checks pass`;
  } finally {
    await server.close();
  }
});

await check("@arethetypeswrong/cli on the tarball: no problems", () => {
  // simdnorm/wasm is the raw .wasm file (an asset, no types to check): excluded.
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/@arethetypeswrong/cli/dist/index.js"), packed.tarball, "--format", "json", "--exclude-entrypoints", "wasm"], { cwd: app, encoding: "utf8", maxBuffer: 64 << 20 });
  const json = JSON.parse(r.stdout);
  const problems = json.analysis?.problems ?? [];
  if (r.status !== 0 || problems.length) throw new Error(`exit ${r.status}, problems: ${JSON.stringify(problems).slice(0, 2000)}`);
  return `entrypoints ${Object.keys(json.analysis.entrypoints).join(", ")}; resolutions node10, node16-cjs, node16-esm, bundler`;
});
await check("publint --strict on the tarball: all good", () => {
  const out = node([join(ROOT, "node_modules/publint/src/cli.js"), "run", packed.tarball, "--strict"], app);
  if (!/All good!/.test(out)) throw new Error(out);
});

await check("README: tarball and gzipped sizes", () => {
  const gz = (f) => gzipSync(readFileSync(join(ROOT, f)), { level: 9 }).length;
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const size = (f) => readFileSync(join(ROOT, f)).length;
  const rows = [
    ["npm tarball (`npm pack`)", kib(packed.size), `${kib(packed.unpackedSize)} unpacked, ${packed.files.length} files`],
    ...[["dist/node.js", "Node, Bun (ESM; reads dist/simdnorm.wasm)"], ["dist/index.js", "Deno, bundlers (ESM; the wasm embedded)"], ["dist/index.cjs", "require()"], ["dist/browser.js", "browsers"], ["dist/simdnorm-pool.js", "the worker pool's implementation, threads build and worker script, imported by `createPool`"], ["dist/simdnorm-wasm.js", "the wasm as base64, imported by dist/node.js only where dist/simdnorm.wasm cannot be read"], ["dist/workerd.js", "Cloudflare Workers (+ dist/simdnorm.wasm)"], ["dist/edge-light.js", "Vercel Edge (+ dist/simdnorm.wasm)"], ["dist/simdnorm.wasm", "`simdnorm/wasm`"]]
      .map(([f, what]) => [`\`${f}\``, `${kib(size(f))} (${kib(gz(f))} gzipped)`, what]),
  ];
  const table = ["| file | size | what |", "|---|---|---|", ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  const START = "<!-- package-size:start (generated by test/consumers/run.mjs --write-sizes; do not edit) -->", END = "<!-- package-size:end -->";
  const readmePath = join(ROOT, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("README.md has no package-size markers");
  if (process.argv.includes("--write-sizes")) {
    const next = readme.slice(0, a + START.length) + "\n" + table + "\n" + readme.slice(b);
    if (next !== readme) writeFileSync(readmePath, next);
    return `README written: tarball ${kib(packed.size)}`;
  }
  // The test reads the README, it never writes it: every figure in the table must be within 3 %
  // (or 0.5 KiB) of the package just packed, and the file count exact.
  const figures = (text) => [...text.matchAll(/([\d.]+) KiB|(\d+) files/g)].map((m) => (m[1] !== undefined ? { kib: +m[1] } : { files: +m[2] }));
  const want = figures(table), have = figures(readme.slice(a, b));
  const close = (w, h) => (w.files !== undefined ? w.files === h.files : Math.abs(w.kib - h.kib) <= Math.max(0.5, 0.03 * w.kib));
  const off = want.filter((w, i) => !have[i] || !close(w, have[i]));
  if (have.length !== want.length || off.length) {
    throw new Error(`README's package-size table is out of date (${off.length || "row count"} figure(s) off); run \`node test/consumers/run.mjs --write-sizes\` and commit README.md. Now:\n${table}`);
  }
  return `tarball ${kib(packed.size)}, README within 3 %`;
});

rmSync(app, { recursive: true, force: true });
rmSync(packed.dir, { recursive: true, force: true });
log(`consumers: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
