// Every golden case in test/golden (copied from shared/golden) runs as one uvu test; a case
// whose op test/golden-ops.mjs does not know fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as api from "../dist/index.js";
import { loadCases, runCase } from "./golden-runner.mjs";
import { GOLDEN_OPS } from "./golden-ops.mjs";

const dir = join(dirname(fileURLToPath(import.meta.url)), "golden");
await api.init();
for (const c of loadCases(dir)) {
  test(`golden ${c.name}`, async () => {
    assert.ok(GOLDEN_OPS[c.op], `unknown golden op "${c.op}" (test/golden-ops.mjs maps golden ops to API calls)`);
    const r = await runCase(api, c);
    assert.ok(r.ok, r.message);
  });
}
test.run();
