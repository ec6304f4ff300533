// Runs golden cases (format: test/golden/FORMAT.md) against the public API. Used by
// `npm run conformance -- DIR` and by the uvu suite.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { decode, decodeCase, runCase } from "./golden-case.mjs";

export { decode, decodeCase, runCase };

export function loadCases(dir) {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir} is not a directory of golden cases`);
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => decodeCase(JSON.parse(readFileSync(join(dir, f), "utf8")), f));
}

export async function runDir(api, dir, log = console.log) {
  const cases = loadCases(dir);
  let passed = 0, failed = 0;
  for (const c of cases) {
    const r = await runCase(api, c);
    if (r.ok) passed++;
    else { failed++; log(`FAIL ${c.name || c.file} (${c.op}, ${c.layout}): ${r.message}`); }
  }
  return { passed, failed };
}
