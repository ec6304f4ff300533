// A build compiled with assertions (not the release builds, which import nothing) given to init:
// an abort inside a kernel reaches the caller as an Error with the message and position read from
// the module's memory, never a bare RuntimeError. Its own process: init() is memoized.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { throwsWith } from "./helpers.mjs";

const SOURCE = `
export function heap_base(): usize { return __heap_base; }
export function pattern_len(C: i32): i32 { return C; }
export function bn_stats_f32_cf(N: i32, C: i32, S: i32, x: usize, acc: usize, scratch: usize): void {
  assert(N * C * S < 100, "a deliberately failing kernel: N·C·S is " + (N * C * S).toString());
}
export function bn_params_finish_f64(C: i32, acc: usize, planes: usize): void {
  const p = <usize>C << 3;
  for (let c = 0; c < C; c++) {
    const t = acc + <usize>c * 24, o = planes + (<usize>c << 3), n = load<f64>(t), m2 = load<f64>(t, 16);
    store<f64>(o, load<f64>(t, 8)); store<f64>(o + p, m2 / n); store<f64>(o + 2 * p, m2 / (n - 1));
  }
}`;

async function compile() {
  const asc = await import("assemblyscript/asc");
  const out = {};
  const { error } = await asc.main(["m.ts", "--outFile", "m.wasm", "--runtime", "stub"], {
    readFile: (n) => (n === "m.ts" ? SOURCE : null),
    writeFile: (n, c) => { out[n] = c; }, listFiles: () => [], stdout: { write() {} }, stderr: { write() {} },
  });
  if (error) throw error;
  return out["m.wasm"];
}

test("an abort inside a kernel becomes an Error with its message and position", async () => {
  const bytes = await compile();
  assert.ok(WebAssembly.Module.imports(new WebAssembly.Module(bytes)).some((i) => i.name === "abort"), "the test module imports env.abort");
  await api.init({ wasm: bytes });
  const x = new Float32Array(2 * 3 * 64).fill(1);
  throwsWith(() => api.channelStats(x, { shape: [2, 3, 64], layout: "NCL" }), "abort: a deliberately failing kernel: N·C·S is 384", "m.ts:");
  // The runtime is still usable after the abort: a call under the assertion's bound returns.
  const s = api.channelStats(new Float32Array(64), { shape: [1, 1, 64], layout: "NCL" });
  assert.is(s.mean.length, 1);
});

test.run();
