// The kernel table (js/core/kernel-table.ts) against the wasm: every export is in the table and
// every table entry is exported with the same arity; names follow the rule and lead to their
// file; the warm-up calls every kernel; scratch formulas are defined where a kernel takes scratch.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, existsSync } from "node:fs";
import { KERNEL_TABLE, KERNEL_NAMES, UTILITY_EXPORTS, ARG_KINDS, warmUp, warmBytes, scratchBytes } from "../build/kernel-table.mjs";

const root = new URL("..", import.meta.url);
const module = new WebAssembly.Module(readFileSync(new URL("build/simdnorm.wasm", root)));
const exported = WebAssembly.Module.exports(module).map((e) => e.name);
const NAME_RULE = /^(bn|ln|gn|rms|skip|px|act|vec)_([a-z0-9]+)(_[a-z0-9]+)*_(f32|f64|u8)(_cf|_cl)?$/;

test("every wasm export is in the kernel table or a named utility, and back", () => {
  const known = new Set([...KERNEL_NAMES, ...UTILITY_EXPORTS]);
  const extra = exported.filter((n) => !known.has(n));
  assert.equal(extra, [], `wasm exports missing from the kernel table: ${extra.join(", ")}`);
  const missing = [...KERNEL_NAMES, ...UTILITY_EXPORTS].filter((n) => !exported.includes(n));
  assert.equal(missing, [], `kernel table entries the wasm does not export: ${missing.join(", ")}`);
});

test("table arities match the wasm functions", () => {
  const { exports } = new WebAssembly.Instance(module, { env: { abort() {} } });
  for (const name of KERNEL_NAMES) assert.is(exports[name].length, KERNEL_TABLE[name].args.length, name);
});

test("kernel names follow <family>_<phase>…_<f32|f64|u8>[_cf|_cl] and live in assembly/<family>_<phase>.ts", () => {
  for (const name of KERNEL_NAMES) {
    const m = NAME_RULE.exec(name);
    assert.ok(m, `${name} does not follow the naming rule`);
    const file = new URL(`assembly/${m[1]}_${m[2]}.ts`, root);
    assert.ok(existsSync(file), `${name}: assembly/${m[1]}_${m[2]}.ts does not exist`);
    assert.ok(readFileSync(file, "utf8").includes(`export function ${name}(`), `${name} is not defined in ${file.pathname}`);
  }
});

test("every argument name has a kind; kernels with scratch have a formula", () => {
  for (const name of KERNEL_NAMES) {
    const spec = KERNEL_TABLE[name];
    for (const a of spec.args) assert.ok(a in ARG_KINDS, `${name}: argument ${a} has no kind`);
    assert.is(spec.args.includes("scratch"), typeof spec.scratch === "function", `${name}: scratch argument and formula disagree`);
    if (spec.scratch) assert.ok(scratchBytes({ pattern_len: () => 48 }, name, { C: 3, S: 100 }) > 0, name);
  }
});

test("the warm-up calls every kernel of the table", () => {
  const instance = new WebAssembly.Instance(module, { env: { abort() { throw new Error("abort"); } } });
  const called = new Set();
  const k = { ...instance.exports };
  for (const name of KERNEL_NAMES) k[name] = (...a) => { called.add(name); return instance.exports[name](...a); };
  const p = (instance.exports.heap_base() + 15) & ~15;
  const bytes = warmBytes(4096);
  const need = Math.ceil((p + bytes) / 65536) - instance.exports.memory.buffer.byteLength / 65536;
  if (need > 0) instance.exports.memory.grow(need);
  new Uint8Array(instance.exports.memory.buffer, p, bytes).fill(0);
  warmUp(k, p, 4096, 1);
  assert.equal(KERNEL_NAMES.filter((n) => !called.has(n)), []);
});

test.run();
