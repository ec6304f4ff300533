// npm run conformance -- DIR  (default: test/golden). One line per failing case, then
// "N passed, N failed"; exit 1 on any failure.
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import * as api from "../dist/index.js";
import { runDir } from "./golden-runner.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dir = resolve(process.argv[2] || join(here, "golden"));
await api.init();
try {
  const { passed, failed } = await runDir(api, dir);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
} catch (e) {
  console.error(e.message);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
