// The benchmark scripts (bench/) as far as a cheap test can take them: nothing here times
// anything, it checks that what the scripts share still loads and that what they name still
// exists, so a change to js/, assembly/ or the build cannot break them unseen (bench/lib/bundle.mjs,
// and with it breakdown.mjs and stats-parts.mjs, once stopped loading when the worker pool's code
// moved to its own module, and nothing said so).
//   - every bench/**/*.mjs bundles with esbuild: its relative imports resolve, every named import
//     is an export, every member read off a namespace import exists (dist/index.js's API among
//     them), and every package it imports resolves;
//   - every kernel a script calls by name (raw.bn_stats_f32_cf(…)) and every ceiling function is
//     an export taking as many arguments as the call passes: a wasm function ignores extra
//     arguments and reads missing ones as 0, so a call left behind by a kernel-table change would
//     time something else without an error;
//   - the members scripts read off a build they import at run time (`await import(…)`,
//     bundleOf) exist in dist/index.js and in the bundle;
//   - bundleOf(root) loads with every kernel of the table; the ceiling loaders copy, read and sum;
//     bench/lib/report.mjs regenerates the reports of the committed bench JSON (in a temporary
//     directory);
//   - run.mjs, matrix.mjs, shapes.mjs, percall.mjs and breakdown.mjs run to exit 0 on tiny sizes (their JSON
//     into a temporary directory, never bench/results/).
// About 5 s; the first run in a fresh tree also builds bench/ceiling's two wasm modules (≈ 3 s).
// Not run here (each compiles with asc, or needs an --importMemory build): kernel-ab.mjs, the
// bound scripts (act-, cl-, pixels-, rows-, short-rows-bound), act-epilogue.mjs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as esbuild from "esbuild";
import { readFileSync, readdirSync, statSync, mkdtempSync, copyFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as dist from "../dist/index.js";
import { KERNEL_NAMES } from "../build/kernel-table.mjs";
import { bundleOf } from "../bench/lib/bundle.mjs";
import { loadCeiling, loadCeilingOn } from "../bench/ceiling/index.mjs";
import { writeReports } from "../bench/lib/report.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "simdnorm-bench-smoke-"));

function mjsFiles(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === "results" ? [] : mjsFiles(p)) : p.endsWith(".mjs") ? [p] : [];
  });
}
const scripts = mjsFiles(join(root, "bench")).sort();
const rel = (f) => relative(root, f);
let bundled;
/** bundleOf(root), made once for the tests that need it. */
const bundle = () => (bundled ??= bundleOf(root));

/** Source with comments, strings and template literals blanked to spaces (offsets kept). */
function code(src) {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/g, (m) => m.replace(/[^\n]/g, " "));
}

/** Arguments of the call whose "(" is at s[open]: their count, or -1 when one is a spread. */
function argCount(s, open) {
  let depth = 0, commas = 0, empty = true;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch) && --depth === 0) return empty ? 0 : commas + 1;
    else if (depth === 1 && ch === ",") commas++;
    else if (depth === 1 && s.startsWith("...", i)) return -1;
    if (depth >= 1 && i > open && !/\s/.test(ch)) empty = false;
  }
  return -1;
}

/** [file, line, name, argument count] of each `.name(` call in the scripts whose receiver and name match. */
function calls(pattern) {
  const out = [];
  for (const f of scripts) {
    const s = code(readFileSync(f, "utf8"));
    for (const m of s.matchAll(pattern)) out.push([rel(f), s.slice(0, m.index).split("\n").length, m[1], argCount(s, m.index + m[0].length - 1)]);
  }
  return out;
}

/** Problems of calls against the functions they name: missing, or another number of arguments. */
function arityProblems(found, fns) {
  return found.flatMap(([file, line, name, n]) => typeof fns[name] !== "function" ? [`${file}:${line}: ${name} does not exist`]
    : n >= 0 && n !== fns[name].length ? [`${file}:${line}: ${name} takes ${fns[name].length} arguments, the call passes ${n}`] : []);
}

test("every bench script bundles: files, named imports, namespace members and packages resolve", async () => {
  let result;
  try {
    result = await esbuild.build({
      entryPoints: scripts, bundle: true, write: false, outdir: join(tmp, "bundle"), platform: "node", format: "esm",
      target: "node18", packages: "external", logLevel: "silent", metafile: true, logOverride: { "import-is-undefined": "error" },
    });
  } catch (e) {
    assert.unreachable(e.errors.map((x) => `${x.location?.file}:${x.location?.line}: ${x.text}`).join("\n"));
  }
  const packages = new Set(Object.values(result.metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external && !x.path.startsWith("node:")).map((x) => x.path)));
  assert.ok(packages.has("esbuild") && packages.has("onnxruntime-node"), [...packages].join(", "));
  // import.meta.resolve: Node ≥ 18.19 and 20.6.
  for (const p of typeof import.meta.resolve === "function" ? packages : []) {
    try { import.meta.resolve(p); } catch (e) { assert.unreachable(`a bench script imports ${p}, which does not resolve: ${e.message}`); }
  }
});

test("the kernels the scripts call by name exist and get their number of arguments", () => {
  const raw = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(root, "build/simdnorm.wasm"))), { env: { abort() {} } }).exports;
  const found = calls(/\.((?:bn|ln|gn|rms|skip|px|act|vec)_\w+)\(/g);
  assert.ok(found.length > 50, `only ${found.length} kernel calls found: is the pattern still right?`);
  assert.equal(arityProblems(found, raw), []);
});

test("the ceiling functions the scripts call exist and get their number of arguments", async () => {
  const ceiling = await loadCeiling({ maxValues: 4096 }), on = await loadCeilingOn(ceiling.memory);
  const module = new WebAssembly.Module(readFileSync(join(root, "bench/ceiling/ceiling-import.wasm")));
  const raw = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } }).exports;
  const found = calls(/\b(?:ceil|ceiling)\.(\w+)\(/g);
  assert.ok(found.length > 20, `only ${found.length} ceiling calls found`);
  assert.equal(arityProblems(found, { ...raw, ...on, ...ceiling }), []);
});

test("the members the scripts read off a build imported at run time exist", async () => {
  const sn = await bundle();
  const problems = [];
  let reads = 0;
  for (const f of scripts) {
    const src = readFileSync(f, "utf8"), s = code(src);
    for (const m of s.matchAll(/(?:const|let)\s+(\w+)\s*=\s*(?:[^;=]*\?\s*)?await\s+(import|bundleOf)\(/g)) {
      const open = m.index + m[0].length - 1, arg = src.slice(open, open + 200).split("\n")[0];
      // A package (onnxruntime, tfjs) is not a build of simdnorm.
      if ([...arg.matchAll(/["']([^"']*)["']/g)].some(([, p]) => /^(@[\w-]+\/)?[\w-]+(\/[\w-]+)*$/.test(p))) continue;
      const api = m[2] === "bundleOf" ? sn : dist;
      for (const r of s.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, "g"))) {
        reads++;
        if (!(r[1] in api)) problems.push(`${rel(f)}:${s.slice(0, r.index).split("\n").length}: ${m[1]}.${r[1]} is not an export of ${m[2] === "bundleOf" ? "bundleOf(root)" : "dist/index.js"}`);
      }
    }
  }
  assert.ok(reads > 40, `only ${reads} member reads found: is the pattern still right?`);
  assert.equal(problems, []);
});

test("bench/lib/bundle.mjs: bundleOf(root) loads, with every kernel of the table, and computes as dist/ does", async () => {
  const sn = await bundle();
  await sn.init();
  const K = sn.rt().kernels;
  assert.equal(KERNEL_NAMES.filter((k) => typeof K[k] !== "function"), [], "kernels missing from rt().kernels");
  assert.type(K.pattern_len, "function");
  await dist.init();
  const x = Float32Array.from({ length: 2 * 5 * 7 }, (_, i) => Math.sin(i) * 2 + 1);
  const a = sn.channelStats(x, { shape: [2, 5, 7], layout: "NCL" }), b = dist.channelStats(x, { shape: [2, 5, 7], layout: "NCL" });
  assert.equal([...a.mean, ...a.var], [...b.mean, ...b.var]);
});

test("bench/ceiling: loadCeiling and loadCeilingOn copy, read and sum the values they are given", async () => {
  const c = await loadCeiling({ maxValues: 1 << 12 });
  for (const n of [1, 5, 17, 1000]) {
    c.dst.fill(-7);
    c.copy(n);
    assert.equal(Array.from(c.dst.subarray(0, n + 1)), [...c.src.subarray(0, n), -7]);
    let s = 0, q = 0;
    for (let i = 0; i < n; i++) { s += c.src[i]; q += c.src[i] + c.src[i] * c.src[i]; }
    assert.ok(Math.abs(c.read(n) - s) <= 1e-4 * (1 + Math.abs(s)), `read(${n})`);
    assert.ok(Math.abs(c.sumsq(n) - q) <= 1e-4 * (1 + Math.abs(q)), `sumsq(${n})`);
  }
  await dist.init();
  const on = await loadCeilingOn(dist.wasmMemory());
  const x = dist.tensor([1, 33], "NC", Float32Array.from({ length: 33 }, (_, i) => i - 16)), y = dist.tensor([1, 33], "NC");
  on.copyAt(33, x.ptr, y.ptr);
  assert.equal(Array.from(y.data), Array.from(x.data));
  assert.is(on.readAt(33, x.ptr), 0);
  x.free(); y.free();
});

test("bench/lib/report.mjs regenerates the reports of the committed bench JSON", async () => {
  const dir = mkdtempSync(join(tmp, "report-"));
  for (const f of ["bench.json", "bench.details.json"]) copyFileSync(join(root, "bench/results", f), join(dir, f));
  const files = await writeReports(join(dir, "bench.json"));
  assert.ok(files.length >= 4, files.join(", "));
  assert.ok(/\| simdnorm/.test(readFileSync(join(dir, "results.md"), "utf8")), "results.md has no simdnorm row");
  assert.ok(readFileSync(join(dir, "chart.svg"), "utf8").startsWith("<svg"), "chart.svg");
});

/** Runs a bench script with args in a fresh node; its stdout, or the test fails with its stderr. */
function run(script, ...args) {
  const r = spawnSync(process.execPath, [join(root, script), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.ok(r.status === 0, `node ${script} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${(r.stderr || "").slice(-3000)}`);
  return r.stdout;
}

test("bench/run.mjs: the backward on (256, 512), three systems and the ceiling, verified and timed", () => {
  const out = join(tmp, "run.json");
  run("bench/run.mjs", "--systems", "simdnorm,simdnorm-copy,js", "--shapes", "2", "--ops", "bn_backward", "--rounds", "1", "--no-cold", "--json", out);
  const { results } = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(results.map((r) => [r.system, r.verified, r.ms > 0]), ["simdnorm", "simdnorm-copy", "js", "copy", "read"].map((s) => [s, true, true]));
});

test("bench/matrix.mjs: two ops on one tiny cell, with the bounds and the heat map", () => {
  const out = join(tmp, "matrix.json"), svg = join(tmp, "matrix.svg");
  run("bench/matrix.mjs", "--quick", "--sizes", "4096", "--cs", "16", "--layouts", "NHWC", "--ops", "stats,bn_backward", "--samples", "1", "--bound", "--out", out, "--svg", svg);
  const { cells } = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(cells.map((c) => [c.op, c.ratio > 0, c.attainable > 0]), [["stats", true, true], ["bn_backward", true, true]]);
  assert.ok(readFileSync(svg, "utf8").startsWith("<svg"));
});

test("bench/shapes.mjs: every op on a shape of one's own, or why it does not fit", () => {
  const out = run("bench/shapes.mjs", "NC:8,64", "--rounds", "1");
  assert.ok(/^NC \(8,64\) 512 values: stats \d+% .*bn_backward \d+% .*instance – \(instance norm needs .*group \d+% .*layer \d+% /m.test(out), out);
});

test("bench/percall.mjs: every op at 256 values and on (1, 16, 1, 2), against its raw kernels (arity-checked)", () => {
  const out = run("bench/percall.mjs", "--rounds", "1", "--calls", "2", "--sizes", "256", "--shapes", "16x2");
  for (const op of ["channelStats", "batchNormBackward", "groupNorm", "skipRmsNorm", "fromPixels", "RMSNorm.forward+backward"]) {
    assert.ok(new RegExp(`\\| 256 \\| ${op.replace(/[.+]/g, "\\$&")} \\|`).test(out), `no row for ${op}:\n${out}`);
  }
});

test("bench/breakdown.mjs: a channels-last backward's call split into its kernels", () => {
  const out = run("bench/breakdown.mjs", "--cells", "NHWC:1,1,64,16", "--ops", "bn_backward", "--batches", "1");
  assert.ok(/bn_backward .*bn_backward_reduce_f32_cl .*set-up.*bn_backward_dx_f32_cl/.test(out), out);
});

test.after(() => { if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true }); });

test.run();
