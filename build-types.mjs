// The published declarations hold the public API only: after tsc has written dist/types, every
// .d.ts that dist/types/index.d.ts does not reach through its imports and re-exports is deleted
// (internal exports of the reached files are marked @internal in js/ and stripped by tsc).
// Used by build.mjs; test/types.test.mjs checks the result.
import { readFileSync, readdirSync, existsSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** The .d.ts files (paths relative to dir) reached from dir/index.d.ts. */
export function reachableTypes(dir) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/(?:from|import\()\s*["'](\.[^"']*)["']/g)) {
      const p = join(dirname(file), m[1]).replace(/\.js$/, "");
      visit(existsSync(`${p}.d.ts`) ? `${p}.d.ts` : join(p, "index.d.ts"));
    }
  };
  visit(join(dir, "index.d.ts"));
  return [...seen].map((f) => relative(dir, f)).sort();
}

/** Every .d.ts below dir (relative paths). */
export function allTypes(dir) {
  const out = [];
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith(".d.ts")) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Delete the declarations index.d.ts does not reach; returns how many. */
export function pruneTypes(dir) {
  const keep = new Set(reachableTypes(dir));
  const drop = allTypes(dir).filter((f) => !keep.has(f));
  for (const f of drop) rmSync(join(dir, f));
  return drop.length;
}
