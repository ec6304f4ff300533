// The core's clock, measured: a wasm `spin(n, a, b)` that runs 16 dependent one-cycle integer
// operations per iteration (the bound scripts compile one into their synthetic module) timed 40
// times after a warm-up; the best run gives GHz. Prints the figure and returns it.
import { median } from "./cli.mjs";

/** AssemblyScript source of `spin`, for a bound script's synthetic module. */
export const SPIN_SOURCE = `export function spin(n: i32, a: i32, b: i32): i32 { let x = a; for (let i = 0; i < n; i++) { ${"x = (x + b) ^ a; ".repeat(8)}} return x; }`;

export function measureClock(spin, n = 2e6) {
  for (let w = 0; w < 5; w++) spin(n, 3, 5);
  const ts = [];
  for (let r = 0; r < 40; r++) { const t0 = performance.now(); spin(n, 3, 5); ts.push(performance.now() - t0); }
  const ghz = (16 * n) / (Math.min(...ts) * 1e6);
  console.log(`clock from the integer chain: ${ghz.toFixed(2)} GHz (best of 40; median ${((16 * n) / (median(ts) * 1e6)).toFixed(2)})`);
  return ghz;
}
