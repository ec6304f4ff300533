// Scratch memory stays O(C): channels-last kernels keep lane patterns of at most max(C, 1024)
// values, one op call shares one kernel scratch, and a call that needs more temporaries than
// the kept block (the stage, ≤ 1 MiB) takes them from the heap and gives them back.
// Own process: memory figures start from a fresh module.
import { test } from "uvu";
import * as api from "../dist/index.js";
import { KERNEL_NAMES, scratchBytes } from "../build/kernel-table.mjs";
import { randomArray, refStats, compare } from "./reference.mjs";
import { readFileSync } from "node:fs";

await api.init();
const MiB = 1 << 20;

test("every channels-last kernel's scratch is at most 48 bytes per channel (+ 40 KiB) for C up to 10⁶", () => {
  const wasm = readFileSync(new URL("../build/simdnorm.wasm", import.meta.url));
  const k = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { abort() {} } }).exports;
  if (k.pattern_len(3) !== 48 || k.pattern_len(99999) !== 99999) throw new Error("pattern_len");
  for (const C of [1, 3, 5, 63, 65, 99, 1023, 1025, 99999, 1_000_003]) {
    for (const name of KERNEL_NAMES.filter((n) => n.startsWith("bn_") && n.endsWith("_cl"))) {
      const b = scratchBytes(k, name, { C });
      if (!(b <= 48 * C + 40 * 1024)) throw new Error(`${name} C = ${C}: ${b} bytes of scratch`);
    }
  }
});

test("channelStats of a (2, 99999) NC tensor: memory grows by a few × the input, the kept scratch stays ≤ 1 MiB", () => {
  const shape = [2, 99999], x = randomArray(2 * 99999, 3);
  const before = api.memoryStats();
  const st = api.channelStats(x, { shape, layout: "NC" });
  const after = api.memoryStats();
  const bad = compare(st.mean, refStats(x, shape, "NC").mean, 1e-6, 1e-6);
  if (bad) throw new Error(`mean[${bad.index}] = ${bad.got}, expected ${bad.expected}`);
  const grown = after.memoryBytes - before.memoryBytes, input = 4 * x.length;
  // The input copied in (1×), C triples of f64 (3×), the statistics scratch (≤ 48 B a channel: 6×).
  if (grown > 12 * input) throw new Error(`memory grew by ${grown} bytes for ${input} bytes of input (was 95× before)`);
  if (after.scratchBytes > MiB) throw new Error(`${after.scratchBytes} bytes of scratch kept after the call`);
  if (after.allocatedBytes !== before.allocatedBytes) throw new Error(`allocated ${before.allocatedBytes} → ${after.allocatedBytes} bytes`);
  // Again, and the other ops on the same wide tensor: no further growth beyond their own outputs.
  api.channelStats(x, { shape, layout: "NC" });
  if (api.memoryStats().memoryBytes !== after.memoryBytes) throw new Error("a second identical call grew memory");
});

test("batch norm forward and backward on (2, 99999) NC and (1, 2, 99999) NLC keep memory bounded", () => {
  for (const [shape, layout] of [[[2, 99999], "NC"], [[1, 2, 99999], "NLC"]]) {
    const C = 99999, x = api.tensor(shape, layout, randomArray(2 * C, 5)), dy = api.tensor(shape, layout, randomArray(2 * C, 6));
    const before = api.memoryStats();
    const r = api.batchNormTrain(x, { runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1) });
    const b = api.batchNormBackward(x, dy, { saveMean: r.saveMean, saveInvstd: r.saveInvstd });
    const grown = api.memoryStats().memoryBytes - before.memoryBytes, input = 8 * C;
    r.y.free(); b.dx.free(); x.free(); dy.free();
    // Two outputs (2×) and the backward's temporaries (≤ 80 B a channel: 10×).
    if (grown > 14 * input) throw new Error(`${layout}: memory grew by ${grown} bytes for ${input} bytes of input`);
    if (api.memoryStats().scratchBytes > MiB) throw new Error(`${layout}: ${api.memoryStats().scratchBytes} bytes of scratch kept`);
  }
});

test.run();
