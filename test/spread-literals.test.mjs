// On Node 18 and 20 an object literal that starts with a spread and then adds anything
// ({ ...o, key }, { ...o, ...p }) gets a hidden class of its own every time: ~1 µs per property
// to make, and every function reading it goes megamorphic (docs/performance.md, "Fifth pass").
// js/ must not contain one, and a Tensor's geometry (read by every op) must share its map.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function tsFiles(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Source without comments, strings and template literals (blanked to spaces: offsets kept). */
function code(src) {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/g, (m) => m.replace(/[^\n]/g, " "));
}

/** Offsets of object literals that start with a spread followed by more members. */
export function spreadFirst(src) {
  const s = code(src), hits = [], open = "([{", close = ")]}";
  for (const m of s.matchAll(/\{\s*\.\.\./g)) {
    let depth = 0;
    for (let i = m.index + m[0].length; i < s.length; i++) {
      const c = s[i];
      if (open.includes(c)) depth++;
      else if (close.includes(c)) { if (depth-- === 0) break; }
      else if (c === "," && depth === 0) { if (!/^\s*\}/.test(s.slice(i + 1))) hits.push(m.index); break; }
    }
  }
  return hits;
}

test("the scan finds spread-first literals and passes the others", () => {
  assert.equal(spreadFirst("f({ ...o, out: y }); g({ ...a, ...b });").length, 2);
  assert.equal(spreadFirst("const q = {\n  ...geo(p), gamma: P.gamma,\n};").length, 1);
  assert.equal(spreadFirst("f({ out: y, ...o }); g({ ...o }); h({ ...o, }); k({ ...f(a, b) }); const { x, ...rest } = o;").length, 0);
  assert.equal(spreadFirst("// { ...o, k }\nconst s = `{ ...o, k }`; const t = \"{ ...o, k }\";").length, 0);
});

test("no object literal in js/ starts with a spread followed by more members", () => {
  const bad = [];
  for (const f of tsFiles(join(root, "js"))) {
    const src = readFileSync(f, "utf8");
    for (const at of spreadFirst(src)) bad.push(`${f.slice(root.length)}:${src.slice(0, at).split("\n").length}`);
  }
  assert.equal(bad, [], `spread-first literals (write a plain literal or put the spread last): ${bad.join(", ")}`);
});

test("tensors' geometries share one hidden class (V8 natives syntax, a child process)", () => {
  const dist = new URL("../dist/index.js", import.meta.url).href;
  const src = `import * as A from ${JSON.stringify(dist)}; await A.init();
    const ts = []; for (let i = 0; i < 3000; i++) ts.push(A.tensor([1, 2 + (i & 3), 3], "NCL"));
    const same = [1, 100, 2998].every((i) => %HaveSameMap(ts[i].geo, ts[2999].geo));
    const layout = [1, 2998].every((i) => %HaveSameMap(A.tensor([2, 5], "NC").geo, ts[i].geo));
    console.log(same && layout ? "same" : "different");`;
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", src], { encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), "same");
});

test.run();
