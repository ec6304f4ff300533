// The published declarations: the public API type-checks on its own (a consumer compiled strict,
// library checks on), and dist/types holds only what dist/types/index.d.ts reaches — none of the
// runtime's internal modules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { reachableTypes, allTypes } from "../build-types.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const types = join(root, "dist/types");

test("a consumer of the public API type-checks against the published declarations", () => {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck", "false", "--target", "ES2020",
    "--module", "ESNext", "--moduleResolution", "Bundler", "--lib", "ES2020,DOM", join(root, "test/types/consumer.ts")], { cwd: root, encoding: "utf8" });
  assert.is(r.status, 0, `tsc: ${r.stdout}${r.stderr}`);
});

test("dist/types holds only the declarations the public entry reaches", () => {
  assert.equal(allTypes(types), reachableTypes(types));
  const internal = ["core/heap", "core/scope", "core/kernel-table", "core/base64", "ops/dispatch", "ops/family/views",
    "workers/op-memory", "workers/phases", "workers/phase-work", "workers/worker", "workers/spawn", "workers/impl", "workers/slots", "workers/plan", "workers/link", "workers/load", "workers/chunk"];
  for (const m of internal) assert.not.ok(allTypes(types).includes(`${m}.d.ts`), `${m}.d.ts is published`);
});

test.run();
