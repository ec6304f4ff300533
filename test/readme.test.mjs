// The README's Node quick-start and image examples, and docs/pixels.md's first example, run as
// written (with "simdnorm" pointing at dist/) and print what their comments say.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const read = (f) => readFileSync(new URL(`../${f}`, import.meta.url), "utf8");
const dist = new URL("../dist/index.js", import.meta.url).href;

/** Runs the first ```js block after `heading` in `doc`; returns its stdout, trimmed. */
function runExample(doc, heading) {
  const section = doc.slice(doc.indexOf(heading));
  const code = /```js\n([\s\S]*?)```/.exec(section)[1].replace(/from "simdnorm"/g, `from ${JSON.stringify(dist)}`);
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
  assert.ok(r.status === 0, `example failed: ${r.stderr}`);
  return r.stdout.trim();
}

test("README: the Node (ESM) example runs and prints the expected values", () => {
  const [mean, dgamma, len] = runExample(read("README.md"), "### Node (ESM)").split(/\s+/).map(Number);
  assert.ok(Math.abs(mean - 4) < 0.05, `saveMean[0] = ${mean}, expected ≈ 4`);
  assert.ok(Math.abs(dgamma) < 2000, `dgamma[0] = ${dgamma}`);
  assert.ok(len === 131072, `yEval.length = ${len}`);
});

test("README: the image preprocessing example runs and prints the expected values", () => {
  const lines = runExample(read("README.md"), "### Preprocessing an image for a model").split("\n");
  assert.equal(lines[0].split(/\s+/), ["1×3×224×224", (-0.485 / 0.229).toFixed(4)]);
  assert.equal(lines[1].split(/\s+/), ["3", "126.00"]);
});

test("docs/pixels.md: the first example prints what its comments say", () => {
  const lines = runExample(read("docs/pixels.md"), "# Image input").split("\n");
  assert.equal(lines[0], `[ 1, 3, 2, 2 ] ${((1 - 0.485) / 0.229).toFixed(4)}`);
  assert.equal(lines[1], "[ 95.75, 95.75, 95.75 ]");
});

test.run();
