#!/usr/bin/env node
// Runtime matrix: the packed package (npm pack, unpacked as node_modules/simdnorm of a temporary
// consumer project) in Node 18, 20, 22, 24, Deno, Bun and workerd, each binary from the npm
// registry. In each: the smoke test and every golden case (checks.mjs), loaded the way the
// runtime resolves `simdnorm` itself (ESM; CommonJS too where the runtime has require), and
// the worker pool's golden shard cases where the runtime has threads. workerd runs a bundled
// worker under `workerd test`, bundled as wrangler does (conditions workerd, worker, browser),
// plus a control: the default entry there must be refused ("Wasm code generation disallowed").
// Vercel Edge: a function bundled as Next.js does, run in Vercel's Edge Runtime VM (edge-run.mjs).
//
//   node test/runtimes/run.mjs             every runtime found
//   node test/runtimes/run.mjs deno bun    only these (ids: node18 node20 node22 node24 deno bun workerd vercel-edge)
//   -v                                     print every check
//
// Binaries: Deno, Bun and workerd are devDependencies; the Node versions live in
// test/runtimes/node (`npm run runtimes:install`: their packages have a `node` bin, which as root
// devDependencies would replace the system node in every npm script). A missing binary is
// skipped with a note, or counted as a failure when CI=true. A full run (every runtime, no
// filter) rewrites docs/runtimes.md and the README's table between the runtimes markers.
// Ends with `runtimes: N passed, N failed`; exit 1 on any failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, readFileSync, readdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { ROOT, pack, unpackInto } from "./pack.mjs";

const HERE = join(ROOT, "test/runtimes");
const NODE_BIN = (v) => join(HERE, `node/node_modules/node${v}/bin/node`);
const EDGE_VM = join(ROOT, "node_modules/@edge-runtime/vm");

/** id, label, binary, and the runs: argv after the binary (cwd = the consumer project). */
export const RUNTIMES = [
  ...[18, 20, 22, 24].map((v) => ({ id: `node${v}`, label: `Node ${v}`, kind: "node", bin: NODE_BIN(v), install: "npm run runtimes:install" })),
  { id: "deno", label: "Deno", kind: "deno", bin: join(ROOT, "node_modules/@deno/linux-x64-glibc/deno"), install: "npm ci (devDependency @deno/linux-x64-glibc)" },
  { id: "bun", label: "Bun", kind: "bun", bin: join(ROOT, "node_modules/@oven/bun-linux-x64/bin/bun"), install: "npm ci (devDependency @oven/bun-linux-x64)" },
  { id: "workerd", label: "Cloudflare workerd", kind: "workerd", bin: join(ROOT, "node_modules/@cloudflare/workerd-linux-64/bin/workerd"), install: "npm ci (devDependency @cloudflare/workerd-linux-64)" },
  // Vercel's Edge Runtime VM runs inside Node: `bin` is the package (its presence), `exe` this node.
  { id: "vercel-edge", label: "Vercel Edge Runtime", kind: "edge", bin: EDGE_VM, exe: process.execPath, install: "npm ci (devDependency @edge-runtime/vm)" },
];

function runsFor(rt) {
  switch (rt.kind) {
    case "node": return [{ name: "esm", argv: ["probe.mjs", "checks"] }, { name: "cjs", argv: ["probe.cjs", "checks"] }, { name: "pool", argv: ["probe.mjs", "pool"] }];
    case "bun": return [{ name: "esm", argv: ["probe.mjs", "checks"] }, { name: "cjs", argv: ["probe.cjs", "checks"] }, { name: "pool", argv: ["probe.mjs", "pool"] }];
    case "deno": return [{ name: "esm", argv: ["run", "-A", "probe.mjs", "checks"] }, { name: "cjs", argv: ["run", "-A", "probe.cjs", "checks"] }, { name: "pool", argv: ["run", "-A", "probe.mjs", "pool"] }];
    case "workerd": return [{ name: "esm", argv: ["test", "config.capnp"] }, { name: "control", argv: ["test", "config-bytes.capnp"] }];
    case "edge": return [{ name: "esm", argv: ["edge-run.mjs", EDGE_VM] }];
  }
}

function version(rt) {
  if (rt.kind === "edge") return `@edge-runtime/vm ${JSON.parse(readFileSync(join(EDGE_VM, "package.json"), "utf8")).version} (Node ${process.versions.node})`;
  const r = spawnSync(rt.bin, ["--version"], { encoding: "utf8", env: childEnv() });
  const out = (r.stdout || "").trim().split("\n")[0];
  if (rt.kind === "workerd") {
    const npmVersion = JSON.parse(readFileSync(join(ROOT, "node_modules/@cloudflare/workerd-linux-64/package.json"), "utf8")).version;
    return `${out.replace(/^workerd\s+/, "")} (npm ${npmVersion})`;
  }
  return rt.kind === "deno" ? out.replace(/^deno\s+/, "").split(" ")[0] : out.replace(/^v/, "");
}

function childEnv() {
  return { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", BUN_DISABLE_TELEMETRY: "1", DO_NOT_TRACK: "1" };
}

/** Builds the consumer project: the unpacked tarball, cases.json, the probes, the worker. */
async function makeProject() {
  const project = mkdtempSync(join(tmpdir(), "simdnorm-runtimes-"));
  const packed = pack();
  unpackInto(packed.tarball, project);
  rmSync(packed.dir, { recursive: true, force: true });
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "simdnorm-runtime-matrix", private: true, type: "module", dependencies: { simdnorm: "*" } }, null, 2));
  const goldenDir = join(ROOT, "test/golden");
  const cases = readdirSync(goldenDir).filter((f) => f.endsWith(".json")).sort().map((file) => ({ file, json: JSON.parse(readFileSync(join(goldenDir, file), "utf8")) }));
  writeFileSync(join(project, "cases.json"), JSON.stringify(cases));
  // The README's Cloudflare Workers example, as written (run by the worker's test()).
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const example = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("**Cloudflare Workers**")))?.[1];
  writeFileSync(join(project, "readme-example.js"), example ?? 'throw new Error("README.md has no Cloudflare Workers example");\n');
  const vercel = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("**Vercel Edge**")))?.[1];
  writeFileSync(join(project, "readme-example-vercel.js"), vercel ?? 'throw new Error("README.md has no Vercel Edge example");\nexport const POST = null;\n');
  const common = { bundle: true, platform: "neutral", target: "es2020", logLevel: "error", absWorkingDir: project, external: ["simdnorm", "simdnorm/*", "node:*"] };
  await esbuild.build({ ...common, entryPoints: [join(HERE, "probe.mjs")], outfile: join(project, "probe.mjs"), format: "esm", target: "es2022", define: { __CJS__: "false" } });
  await esbuild.build({ ...common, entryPoints: [join(HERE, "probe.mjs")], outfile: join(project, "probe.cjs"), format: "cjs", define: { __CJS__: "true" } });
  // The worker, bundled the way wrangler does it: simdnorm resolved by the edge conditions,
  // .wasm imports kept as modules of the worker (config.capnp lists them as wasm modules).
  const wasmFiles = new Map();
  const wasmModules = { name: "wasm-modules", setup(b) {
    b.onResolve({ filter: /\.wasm(\?module)?$|^simdnorm\/wasm$/ }, async (a) => {
      if (a.pluginData === "inner") return undefined;
      const r = await b.resolve(a.path.replace(/\?module$/, ""), { resolveDir: a.path.startsWith("simdnorm") ? project : a.resolveDir, kind: a.kind, pluginData: "inner" });
      if (r.errors.length) return { errors: r.errors };
      const name = r.path.split("/").pop();
      wasmFiles.set(name, r.path);
      return { path: `./${name}`, external: true };
    });
  } };
  // cases.json and simdnorm resolve from the project (from this folder, `simdnorm` would be the
  // repository itself: a package may import itself by name).
  const fromProject = { name: "from-project", setup(b) {
    b.onResolve({ filter: /^\.\/(cases\.json|readme-example(-vercel)?\.js)$/ }, (a) => ({ path: join(project, a.path) }));
    b.onResolve({ filter: /^simdnorm$/ }, (a) => (a.pluginData === "inner" ? undefined : b.resolve(a.path, { resolveDir: project, kind: a.kind, pluginData: "inner" })));
  } };
  const meta = await esbuild.build({ ...common, external: [], entryPoints: [join(HERE, "workerd-entry.mjs")], outfile: join(project, "worker.js"), format: "esm", conditions: ["workerd", "worker", "browser"], mainFields: ["browser", "module", "main"], metafile: true, plugins: [fromProject, wasmModules] });
  const workerdEntry = Object.keys(meta.metafile.inputs).find((p) => p.includes("node_modules/simdnorm/") && !p.endsWith("/simdnorm-pool.js"));
  for (const [name, path] of wasmFiles) copyFileSync(path, join(project, name));
  writeFileSync(join(project, "config.capnp"), [
    'using Workerd = import "/workerd/workerd.capnp";',
    "const config :Workerd.Config = (services = [ (name = \"main\", worker = .w) ]);",
    "const w :Workerd.Worker = (",
    "  modules = [",
    '    (name = "worker.js", esModule = embed "worker.js"),',
    ...[...wasmFiles.keys()].map((n) => `    (name = ${JSON.stringify(n)}, wasm = embed ${JSON.stringify(n)}),`),
    "  ],",
    '  compatibilityDate = "2025-01-01",',
    ");",
    "",
  ].join("\n"));
  // The control worker: the default entry, bundled with the bundler's default conditions.
  const control = await esbuild.build({ ...common, external: [], entryPoints: [join(HERE, "workerd-bytes-entry.mjs")], outfile: join(project, "worker-bytes.js"), format: "esm", metafile: true, plugins: [fromProject] });
  const controlEntry = Object.keys(control.metafile.inputs).find((p) => p.includes("node_modules/simdnorm/") && !p.endsWith("/simdnorm-pool.js"));
  writeFileSync(join(project, "config-bytes.capnp"), [
    'using Workerd = import "/workerd/workerd.capnp";',
    "const config :Workerd.Config = (services = [ (name = \"main\", worker = .w) ]);",
    'const w :Workerd.Worker = (modules = [ (name = "worker.js", esModule = embed "worker-bytes.js") ], compatibilityDate = "2025-01-01");',
    "",
  ].join("\n"));
  // The Vercel Edge function, bundled as Next.js does for the edge runtime: conditions edge-light,
  // worker, browser; each `.wasm?module` import becomes a global the host binds to a
  // WebAssembly.Module it compiled (edge-wasm.json: name → file; edge-run.mjs does the binding).
  const edgeWasm = {};
  const wasmGlobals = { name: "wasm-globals", setup(b) {
    b.onResolve({ filter: /\.wasm\?module$/ }, async (a) => {
      const r = await b.resolve(a.path.replace(/\?module$/, ""), { resolveDir: a.resolveDir, kind: a.kind });
      if (r.errors.length) return { errors: r.errors };
      const file = r.path.split("/").pop(), name = `wasm_${file.replace(/\W/g, "_")}`;
      copyFileSync(r.path, join(project, file));
      edgeWasm[name] = file;
      return { path: name, namespace: "wasm-global" };
    });
    b.onLoad({ filter: /.*/, namespace: "wasm-global" }, (a) => ({ contents: `export default globalThis[${JSON.stringify(a.path)}];`, loader: "js" }));
  } };
  const edge = await esbuild.build({ ...common, external: [], entryPoints: [join(HERE, "edge-entry.mjs")], outfile: join(project, "edge.js"), format: "iife", conditions: ["edge-light", "worker", "browser"], mainFields: ["browser", "module", "main"], metafile: true, plugins: [fromProject, wasmGlobals] });
  writeFileSync(join(project, "edge-wasm.json"), JSON.stringify(edgeWasm));
  copyFileSync(join(HERE, "edge-run.mjs"), join(project, "edge-run.mjs"));
  const edgeEntry = Object.keys(edge.metafile.inputs).find((p) => p.includes("node_modules/simdnorm/") && !p.endsWith("/simdnorm-pool.js"));
  return { project, edgeEntry: edgeEntry ? edgeEntry.replace(/^.*node_modules\/simdnorm\//, "") : "?", controlEntry: controlEntry ? controlEntry.replace(/^.*node_modules\/simdnorm\//, "") : "?", workerdEntry: workerdEntry ? workerdEntry.replace(/^.*node_modules\/simdnorm\//, "") : "?", packed };
}

function parseResult(out) {
  const line = out.split("\n").reverse().find((l) => l.startsWith("RESULT "));
  return line ? JSON.parse(line.slice(7)) : null;
}

const entryName = (e) => (e ? String(e).replace(/^.*node_modules\/simdnorm\//, "") : "?");

export async function runMatrix({ only = [], verbose = false, ci = process.env.CI === "true", log = console.log, write = true } = {}) {
  let passed = 0, failed = 0;
  const selected = only.length ? RUNTIMES.filter((r) => only.includes(r.id)) : RUNTIMES;
  if (only.length && selected.length !== only.length) {
    log(`unknown runtime id in ${only.join(", ")} (ids: ${RUNTIMES.map((r) => r.id).join(", ")})`);
    log("runtimes: 0 passed, 1 failed");
    return { passed: 0, failed: 1 };
  }
  const present = selected.filter((r) => existsSync(r.bin));
  const missing = selected.filter((r) => !existsSync(r.bin));
  for (const r of missing) {
    if (ci) { failed++; log(`FAIL ${r.label}: binary missing (${relative(ROOT, r.bin)}); CI=true requires it — install: ${r.install}`); }
    else log(`skip ${r.label}: binary missing (${relative(ROOT, r.bin)}); install: ${r.install}`);
  }
  if (!present.length) {
    log(`runtimes: ${passed} passed, ${failed} failed`);
    return { passed, failed };
  }
  for (const f of ["dist/index.js", "dist/index.cjs", "dist/workerd.js", "dist/simdnorm.wasm"]) {
    if (!existsSync(join(ROOT, f))) {
      log(`FAIL runtimes: ${f} is missing (build first: npm run build)`);
      log(`runtimes: ${passed} passed, ${failed + 1} failed`);
      return { passed, failed: failed + 1 };
    }
  }
  const t0 = Date.now();
  let made;
  try {
    made = await makeProject();
  } catch (e) {
    log(`FAIL runtimes: could not pack and set up the consumer project: ${e.stack || e}`);
    log(`runtimes: ${passed} passed, ${failed + 1} failed`);
    return { passed, failed: failed + 1 };
  }
  const { project, workerdEntry, controlEntry, edgeEntry } = made;
  log(`runtimes: packed and unpacked into ${project} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const rows = [];
  for (const rt of present) {
    const ver = version(rt);
    const row = { id: rt.id, label: rt.label, version: ver, entries: [], shared: null, passed: 0, failed: 0, pool: null };
    for (const run of runsFor(rt)) {
      const t = Date.now();
      const r = spawnSync(rt.exe || rt.bin, run.argv, { cwd: project, encoding: "utf8", env: childEnv(), timeout: 300_000, maxBuffer: 64 << 20 });
      const out = (r.stdout || "") + (r.stderr || "");
      const res = parseResult(out);
      const ms = Date.now() - t;
      if (!res) {
        failed++; row.failed++;
        log(`FAIL ${rt.label} ${run.name}: no result (exit ${r.status}${r.signal ? `, ${r.signal}` : ""}${r.error ? `, ${r.error.message}` : ""})\n${out.split("\n").slice(-25).map((l) => "     " + l).join("\n")}`);
        continue;
      }
      const results = res.results || [];
      const ok = results.filter((x) => x.ok).length, bad = results.length - ok;
      // A run that checked nothing proves nothing.
      const empty = results.length === 0;
      passed += ok; failed += bad + (empty ? 1 : 0); row.passed += ok; row.failed += bad + (empty ? 1 : 0);
      // workerd: the test() handler throws when a check failed; a clean exit must agree.
      if (rt.kind === "workerd" && (r.status !== 0) !== (bad > 0)) { failed++; row.failed++; log(`FAIL ${rt.label}: exit ${r.status} with ${bad} failed checks`); }
      const entry = run.name === "control" ? controlEntry : rt.kind === "workerd" ? workerdEntry : rt.kind === "edge" ? edgeEntry : entryName(res.entry);
      if (run.name !== "pool" && run.name !== "control") row.entries.push(`${entry} (${run.name === "cjs" ? "require" : "import"})`);
      if (run.name === "pool") { row.shared = res.transport === "shared"; row.pool = res.transport; }
      log(`${bad || empty ? "FAIL" : "ok  "} ${rt.label} ${ver} ${run.name}: ${ok} passed, ${bad} failed${empty ? " — ran no checks" : ""}; entry ${entry}${run.name === "pool" ? `; transport ${res.transport ?? "none"}` : ""} (${(ms / 1000).toFixed(1)} s)`);
      for (const x of results) if (!x.ok || verbose) log(`     ${x.ok ? "✓" : "✗"} ${x.name}${x.ok ? "" : `: ${x.message}`}`);
    }
    rows.push(row);
  }
  if (process.env.KEEP_RUNTIME_PROJECT) log(`kept ${project}`); else rmSync(project, { recursive: true, force: true });
  if (write && !only.length && !missing.length) writeTable(rows);
  log(`runtimes: ${passed} passed, ${failed} failed`);
  return { passed, failed, rows };
}

// ---- the README's runtime table --------------------------------------------------------------

const START = "<!-- runtimes:start (generated by test/runtimes/run.mjs; do not edit) -->";
const END = "<!-- runtimes:end -->";

function table(rows) {
  const lines = [
    "| runtime | version tested | entry used | worker pool | shared memory | result |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const pool = r.pool ? `yes (${r.pool} transport)` : r.id === "workerd" || r.id === "vercel-edge" ? "no: no threads (`createPool` rejects saying so)" : "no";
    const shared = r.shared ? "yes" : "no";
    const result = r.failed ? `**${r.failed} failed**, ${r.passed} passed` : `all ${r.passed} checks pass`;
    lines.push(`| ${r.label} | ${r.version} | ${r.entries.map((e) => "`" + e.replace(/ \(/, "` (")).join(", ")} | ${pool} | ${shared} | ${result} |`);
  }
  return lines.join("\n");
}

function writeTable(rows) {
  const t = table(rows);
  const doc = [
    "# Runtimes tested",
    "",
    "Generated by `node test/runtimes/run.mjs` (part of `npm test`) from its last full run: the packed",
    "package installed into a fresh project, then in each runtime the smoke test, every golden case of",
    "test/golden, and — where the runtime has threads — the worker pool's golden shard cases.",
    "\"entry used\" is the file the runtime's own module resolution picked from the package's `exports`",
    "(workerd: as bundled with wrangler's conditions `workerd`, `worker`, `browser`; Vercel Edge: as",
    "bundled by Next.js for the edge runtime, conditions `edge-light`, `worker`, `browser`, run in",
    "Vercel's Edge Runtime VM, `@edge-runtime/vm`, the sandbox of `next dev` and the `edge-runtime` CLI).",
    "",
    t,
    "",
  ].join("\n");
  writeFileSync(join(ROOT, "docs/runtimes.md"), doc);
  const readmePath = join(ROOT, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a >= 0 && b > a) writeFileSync(readmePath, readme.slice(0, a + START.length) + "\n" + t + "\n" + readme.slice(b));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const { failed } = await runMatrix({ only: args.filter((a) => !a.startsWith("-")), verbose: args.includes("-v") });
  process.exitCode = failed ? 1 : 0;
}
