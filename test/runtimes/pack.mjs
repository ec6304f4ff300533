// The package as users get it: `npm pack` of this tree (dist/ must be built; scripts are not
// run, so packing does not rebuild), for the runtime matrix and the consumer tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, renameSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Packs the project into a new temporary folder → { tarball, dir, files } (files: the tarball's paths). */
export function pack() {
  const dir = mkdtempSync(join(tmpdir(), "simdnorm-pack-"));
  const json = execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const info = JSON.parse(json.slice(json.indexOf("[")))[0];
  return { tarball: join(dir, info.filename), dir, files: info.files.map((f) => f.path), size: info.size, unpackedSize: info.unpackedSize };
}

/** Unpacks a tarball as `<project>/node_modules/simdnorm` (what `npm install` makes of it: the package has no dependencies). */
export function unpackInto(tarball, project) {
  const tmp = join(project, ".unpack");
  mkdirSync(tmp, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", tmp]);
  mkdirSync(join(project, "node_modules"), { recursive: true });
  renameSync(join(tmp, readdirSync(tmp)[0]), join(project, "node_modules/simdnorm"));
}
