// The README's Node quick-start example runs as written (with "simdnorm" pointing at dist/).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const dist = new URL("../dist/index.js", import.meta.url).href;

test("README: the Node (ESM) example runs and prints the expected values", () => {
  const section = readme.slice(readme.indexOf("### Node (ESM)"));
  const code = /```js\n([\s\S]*?)```/.exec(section)[1].replace(/from "simdnorm"/g, `from ${JSON.stringify(dist)}`);
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
  assert.ok(r.status === 0, `example failed: ${r.stderr}`);
  const [mean, dgamma, len] = r.stdout.trim().split(/\s+/).map(Number);
  assert.ok(Math.abs(mean - 4) < 0.05, `saveMean[0] = ${mean}, expected ≈ 4`);
  assert.ok(Math.abs(dgamma) < 2000, `dgamma[0] = ${dgamma}`);
  assert.ok(len === 131072, `yEval.length = ${len}`);
});
test.run();
