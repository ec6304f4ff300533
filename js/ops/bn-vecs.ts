// Batch norm's per-channel vectors (gamma, beta, running or saved statistics) in wasm memory: one
// f64 block the per-channel kernels (assembly/bn_params.ts) read, with every element checked
// there by one kernel call instead of a JS loop per vector (docs/performance.md, per-call cost).
// The rules and their messages stay in JS (js/ops/options.ts, js/core/errors.ts): the op's
// option check runs again on a hit, and throws naming the argument and the element.
import type { Scope } from "../core/scope";
import { rt } from "../core/runtime";

type V = Float32Array | Float64Array | undefined;

/**
 * Copies the vectors (C values each; absent ones take no room) into one f64 block, in order, and
 * returns each one's pointer (0: absent). The first `checked` of them must be finite, and with
 * `variance` the last of those also ≥ 0. On a bad element it calls `recheck` (the op's own
 * checks: they throw the message) and throws if that did not.
 * @internal
 */
export function channelVecs(s: Scope, C: number, vecs: V[], checked: number, variance: boolean, recheck: () => void): number[] {
  let n = 0;
  for (const v of vecs) if (v) n++;
  const at = s.temp(8 * C * Math.max(n, 1)), F = s.heap.F64, ptrs: number[] = [];
  let i = 0, end = 0, from = 0;
  for (let j = 0; j < vecs.length; j++) {
    const v = vecs[j];
    if (!v) { ptrs.push(0); continue; }
    copyIn(F, v, (at >>> 3) + i * C, C);
    ptrs.push(at + 8 * C * i);
    if (j < checked) { from = variance && j === checked - 1 ? i * C : (i + 1) * C; end = (i + 1) * C; }
    i++;
  }
  if (end > 0 && rt().kernels.bn_params_check_f64(end, at, from) >= 0) {
    recheck();
    throw new Error("internal: a per-channel vector failed the wasm check but passed the JS one");
  }
  return ptrs;
}

/** v (C values) into F at index o: a loop for a few (a native set costs ~25 ns to enter), the native copy beyond. */
function copyIn(F: Float64Array, v: Float32Array | Float64Array, o: number, C: number): void {
  if (C > 32) { F.set(v, o); return; }
  for (let c = 0; c < C; c++) F[o + c] = v[c];
}
