// Every golden case in test/golden (copied from shared/golden) runs as one uvu test.
import { test } from "uvu";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as api from "../dist/index.js";
import { loadCases, runCase } from "./golden-runner.mjs";

const dir = join(dirname(fileURLToPath(import.meta.url)), "golden");
await api.init();
for (const c of loadCases(dir)) {
  // Every case runs: an op missing from GOLDEN_OPS fails as "unsupported op".
  test(`golden ${c.name}`, async () => {
    const r = await runCase(api, c);
    if (!r.ok) throw new Error(r.message);
  });
}
test.run();
