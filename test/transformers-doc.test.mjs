// Every ```js example of docs/transformers.md runs as written (with "simdnorm" pointing at dist/)
// and prints "ok" (each example checks its own result against plain JS).
import { test } from "uvu";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const doc = readFileSync(new URL("../docs/transformers.md", import.meta.url), "utf8");
const dist = new URL("../dist/index.js", import.meta.url).href;
const sections = doc.split(/^## /m).slice(1);
let count = 0;
for (const section of sections) {
  const title = section.slice(0, section.indexOf("\n"));
  for (const m of section.matchAll(/```js\n([\s\S]*?)```/g)) {
    count++;
    test(`docs/transformers.md: "${title}" example runs and checks out`, () => {
      const code = m[1].replace(/from "simdnorm"/g, `from ${JSON.stringify(dist)}`);
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`example failed: ${r.stderr}`);
      if (r.stdout.trim() !== "ok") throw new Error(`example printed ${r.stdout.trim()}`);
    });
  }
}
test("docs/transformers.md has its three examples", () => {
  if (count < 3) throw new Error(`found ${count} js examples`);
});
test.run();
