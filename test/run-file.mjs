// Runs one uvu test file the way uvu's own CLI does (suites deferred, then executed) and ends
// with one machine-readable line for test/run.mjs:
//   uvu-summary {"total":N,"passed":N,"skipped":N}
// uvu's report above it is unchanged. A file that crashes before its suites finish prints no
// summary line (and exits non-zero).
//
//   node test/run-file.mjs test/core.test.mjs
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

globalThis.UVU_DEFER = 1;
const uvu = await import("uvu");
globalThis.UVU_INDEX = 0;
globalThis.UVU_QUEUE.push([null]);
await import(pathToFileURL(resolve(process.argv[2])).href);

// Each queued entry runs one suite and resolves [errors | true, passed, skipped, total].
const sum = { total: 0, passed: 0, skipped: 0 };
for (const group of globalThis.UVU_QUEUE) {
  for (let i = 1; i < group.length; i++) {
    const run = group[i];
    group[i] = async () => {
      const r = await run();
      sum.passed += r[1]; sum.skipped += r[2]; sum.total += r[3];
      return r;
    };
  }
}
await uvu.exec();
console.log(`uvu-summary ${JSON.stringify(sum)}`);
