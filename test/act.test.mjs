// The activation epilogues against float64 (test/reference.mjs act, dact), through the
// elementwise kernels act_forward_f32 / act_backward_f32 of the release build: a dense sweep of
// [−20, 20], the limits beyond it, NaN, and every tail length.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { act, dact } from "./reference.mjs";

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))), { env: { abort() { throw new Error("abort"); } } }).exports;
const IDS = { relu: 1, relu6: 2, silu: 3, gelu: 4, gelu_tanh: 5 };
const base = (wasm.heap_base() + 15) & ~15;

/** Run kernel act_forward_f32 (or act_backward_f32 with dy = 1) over values → Float32Array. */
function run(name, values, grad = false) {
  const n = values.length, bytes = 8 * n + 64;
  const need = Math.ceil((base + bytes) / 65536) - wasm.memory.buffer.byteLength / 65536;
  if (need > 0) wasm.memory.grow(need);
  const x = base, y = base + 4 * n + 16, F = new Float32Array(wasm.memory.buffer);
  F.set(values, x >>> 2);
  if (grad) { F.fill(1, y >>> 2, (y >>> 2) + n); wasm.act_backward_f32(n, x, y, y, IDS[name]); } else wasm.act_forward_f32(n, x, y, IDS[name]);
  return new Float32Array(wasm.memory.buffer, y, n).slice();
}

const sweep = Float32Array.from({ length: 400001 }, (_, i) => -20 + i * 1e-4);

for (const name of Object.keys(IDS)) {
  test(`${name}: |error| ≤ 1e-6·max(1, |v|) over a dense sweep of [−20, 20] (step 1e-4)`, () => {
    const y = run(name, sweep);
    let worst = 0, at = 0;
    for (let i = 0; i < sweep.length; i++) {
      const v = sweep[i], e = Math.abs(y[i] - act(name, v)) / Math.max(1, Math.abs(v));
      if (e > worst) { worst = e; at = v; }
    }
    assert.ok(worst <= 1e-6, `${name}: error ${worst.toExponential(2)}·max(1, |v|) at v = ${at}`);
  });

  test(`${name} derivative: |error| ≤ 1e-5·max(1, |v|) over [−20, 20]`, () => {
    const d = run(name, sweep, true);
    let worst = 0, at = 0;
    for (let i = 0; i < sweep.length; i++) {
      const v = sweep[i];
      // relu/relu6 kinks: the derivative there is a convention (PyTorch's), checked below.
      if ((name === "relu" || name === "relu6") && (v === 0 || v === 6)) continue;
      const e = Math.abs(d[i] - dact(name, v)) / Math.max(1, Math.abs(v));
      if (e > worst) { worst = e; at = v; }
    }
    assert.ok(worst <= 1e-5, `${name}': error ${worst.toExponential(2)} at v = ${at}`);
  });

  test(`${name}: limits beyond the sweep, NaN kept, every tail length`, () => {
    const big = [Infinity, -Infinity, 3e38, -3e38, 1e10, -1e10, 100, -100, 88.5, -88.5, 30, -30, -0, 0];
    const y = run(name, big), d = run(name, big, true);
    big.forEach((v, i) => {
      const e = act(name, v);
      assert.ok(Math.abs(y[i] - e) <= 1e-6 * Math.max(1, Math.abs(e)) || y[i] === e, `${name}(${v}) = ${y[i]}, expected ${e}`);
      const de = dact(name, v);
      if (Number.isFinite(v) && Math.abs(v) < 1e9 || name.startsWith("relu")) assert.ok(Math.abs(d[i] - de) <= 1e-6, `${name}'(${v}) = ${d[i]}, expected ${de}`);
      else assert.ok(d[i] === de, `${name}'(${v}) = ${d[i]}, expected ${de}`);
    });
    for (let n = 1; n <= 9; n++) {
      const vals = Float32Array.from({ length: n }, (_, i) => (i % 2 ? NaN : i - 3.5));
      const r = run(name, vals), g = run(name, vals, true);
      for (let i = 0; i < n; i++) {
        if (i % 2) { assert.ok(Number.isNaN(r[i]), `${name}(NaN) = ${r[i]} (n = ${n})`); continue; }
        assert.ok(Math.abs(r[i] - act(name, vals[i])) <= 1e-6 * Math.max(1, Math.abs(vals[i])), `${name} tail n = ${n}, index ${i}`);
        assert.ok(Math.abs(g[i] - dact(name, vals[i])) <= 1e-5 * Math.max(1, Math.abs(vals[i])), `${name}' tail n = ${n}, index ${i}`);
      }
    }
  });
}

// Past the sweep, where the kernels clamp: e^−x's argument at 87, silu's and gelu_tanh's
// gradients take v as min(v, 87) in their products (s(1 − s) is 0 there), gelu_tanh's 2u and 2u'
// overflow past |v| ~ 1e19, and each activation zeroes v below its threshold (−88, −14, −10).
test("silu, gelu, gelu_tanh and their derivatives around the clamps and out to ±3e38", () => {
  const vals = [86.9, 87, 87.1, 88, 88.5, 89, 1e19, 2e19, 1e20, -13.9, -14.1, -9.9, -10.1, -87.9, -88.1];
  for (let e = 1.3; e <= 38.4; e += 0.05) vals.push(10 ** e, -(10 ** e));
  const v32 = Float32Array.from(vals);
  for (const name of ["silu", "gelu", "gelu_tanh"]) {
    const y = run(name, v32), d = run(name, v32, true);
    v32.forEach((v, i) => {
      assert.ok(Math.abs(y[i] - act(name, v)) <= 1e-6 * Math.max(1, Math.abs(v)), `${name}(${v}) = ${y[i]}, expected ${act(name, v)}`);
      assert.ok(Math.abs(d[i] - dact(name, v)) <= 1e-6, `${name}'(${v}) = ${d[i]}, expected ${dact(name, v)}`);
    });
  }
});

test("relu and relu6 derivatives at their kinks follow PyTorch (0 at v = 0, 0 at v = 6)", () => {
  assert.equal(Array.from(run("relu", Float32Array.of(0, -0, 1e-30), true)), [0, 0, 1]);
  assert.equal(Array.from(run("relu6", Float32Array.of(0, 6, 5.999999), true)), [0, 0, 1]);
});

test.run();
