// npm test: builds if needed, runs every test/**/*.test.mjs file (uvu) in its own process through
// test/run-file.mjs (which ends with a JSON summary line: no parsing of uvu's report), then
// the runtime matrix (test/runtimes/run.mjs: Node 18–24, Deno, Bun, workerd; skipped per missing
// binary, unless CI=true; --no-runtimes skips it), the consumer tests (test/consumers/run.mjs:
// the packed tarball installed and used from ESM, CommonJS, tsc, a browser bundle; attw, publint;
// --no-consumers skips them), then the browser tests in Chromium and in Firefox ESR
// (test/browser/run.mjs, run-firefox.mjs; skipped with a message when a browser is missing,
// unless CI=true), and ends with one plain line "N passed, N failed". Exit 1 on any failure.
import { spawnSync } from "node:child_process";
import { readdirSync, existsSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const noBrowser = args.includes("--no-browser") || process.env.SIMDNORM_NO_BROWSER === "1";
const filter = args.find((a) => !a.startsWith("--"));

if (!existsSync(join(root, "dist/index.js")) || process.env.SIMDNORM_BUILD === "1") {
  const b = spawnSync(process.execPath, [join(root, "build.mjs")], { stdio: "inherit", cwd: root });
  if (b.status !== 0) { console.log("0 passed, 1 failed"); process.exit(1); }
}

function find(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) { if (f !== "browser" && f !== "golden" && f !== "node_modules") out.push(...find(p)); }
    else if (f.endsWith(".test.mjs")) out.push(p);
  }
  return out.sort();
}

let passed = 0, failed = 0;
const files = find(here).filter((f) => !filter || f.includes(filter));
for (const f of files) {
  const name = relative(root, f);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(here, "run-file.mjs"), f], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  const out = (r.stdout || "") + (r.stderr || "");
  const line = (r.stdout || "").split("\n").reverse().find((l) => l.startsWith("uvu-summary "));
  const { total, passed: ok } = line ? JSON.parse(line.slice("uvu-summary ".length)) : { total: NaN, passed: NaN };
  if (Number.isNaN(total) || r.status !== 0 && total === ok) {
    // Crashed before uvu could report: count the file as one failure.
    failed++;
    console.log(`✘ ${name}: crashed (exit ${r.status})\n${out.split("\n").slice(-30).join("\n")}`);
    continue;
  }
  passed += ok; failed += total - ok;
  console.log(`${total === ok ? "✔" : "✘"} ${name}: ${ok}/${total} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (total !== ok) console.log(out.split("\n").filter((l) => !/^\s*$/.test(l)).slice(-60).join("\n"));
}

// Runners that report their own "<name>: N passed, N failed" line (each skips with a note when
// its tools are missing, and fails then under CI=true).
function runRunner(script, name) {
  const r = spawnSync(process.execPath, [script], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  const out = (r.stdout || "") + (r.stderr || "");
  process.stdout.write(out);
  const m = new RegExp(`${name}: (\\d+) passed, (\\d+) failed`).exec(out);
  if (m) { passed += +m[1]; failed += +m[2]; }
  if (!m || (r.status !== 0 && !+m[2])) { failed++; console.log(`✘ ${relative(root, script)}: exit ${r.status}${m ? "" : " without a result line"}`); }
}
const noRuntimes = args.includes("--no-runtimes") || process.env.SIMDNORM_NO_RUNTIMES === "1";
if (!noRuntimes && !filter) runRunner(join(here, "runtimes/run.mjs"), "runtimes");
const noConsumers = args.includes("--no-consumers") || process.env.SIMDNORM_NO_CONSUMERS === "1";
if (!noConsumers && !filter) runRunner(join(here, "consumers/run.mjs"), "consumers");

const browserRunner = join(here, "browser/run.mjs");
if (!noBrowser && !filter && existsSync(browserRunner)) {
  const r = spawnSync(process.execPath, [browserRunner], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  const out = (r.stdout || "") + (r.stderr || "");
  process.stdout.write(out);
  const m = /browser: (\d+) passed, (\d+) failed/.exec(out);
  if (m) { passed += +m[1]; failed += +m[2]; }
  else if (r.status !== 0) failed++;
}

// Firefox ESR (test/browser/run-firefox.mjs): the same pages; skipped without Firefox unless CI=true.
if (!noBrowser && !filter && existsSync(join(here, "browser/run-firefox.mjs"))) runRunner(join(here, "browser/run-firefox.mjs"), "firefox");

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
