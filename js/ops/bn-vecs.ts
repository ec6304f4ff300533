// Batch norm's per-channel vectors (gamma, beta, running or saved statistics) in wasm memory: one
// f64 block the per-channel kernels (assembly/bn_params.ts) read, with every element checked
// there by one kernel call instead of a JS loop per vector (docs/performance.md, per-call cost).
// The rules and their messages stay in JS (js/ops/options.ts, js/core/errors.ts): on a hit the op
// runs its own option check again, which throws naming the argument and the element.
import type { Scope } from "../core/scope";
import { aligned } from "../core/heap";
import { rt } from "../core/runtime";

type V = Float32Array | Float64Array | undefined;

/**
 * Copies the four vectors v0…v3 (C values each) into one f64 block, vector i at slot i
 * (at + 8·C·i; an absent vector's slot is left unwritten), and checks the first `checked` of them:
 * finite, and with `variance` the last of those also ≥ 0. Returns the block's pointer (read each
 * vector's with vecAt), or −1 when an element failed: the caller then runs its option check,
 * which throws the message (and throws itself if that did not). No closures or arrays per call:
 * this runs on every batch-norm call.
 * @internal
 */
export function channelVecs(s: Scope, C: number, v0: V, v1: V, v2: V, v3: V, checked: number, variance: boolean): number {
  const at = s.temp(vecBytes(C)), F = s.heap.F64, o = at >>> 3;
  if (v0) copyIn(F, v0, o, C);
  if (v1) copyIn(F, v1, o + C, C);
  if (v2) copyIn(F, v2, o + 2 * C, C);
  if (v3) copyIn(F, v3, o + 3 * C, C);
  // All four present and checked (training with gamma, beta and running statistics): one run.
  if (checked === 4 && v0 && v1 && v2 && v3) return rt().kernels.bn_params_check_f64(4 * C, at, variance ? 3 * C : 4 * C) >= 0 ? -1 : at;
  // The checked slots run from the first present one to the last; an absent one between them
  // (gamma given, beta not, running statistics given) is zeroed so the one check can read it.
  let lo = 0, hi = checked;
  while (lo < hi && !vec(lo, v0, v1, v2, v3)) lo++;
  while (hi > lo && !vec(hi - 1, v0, v1, v2, v3)) hi--;
  if (hi === lo) return at;
  for (let i = lo + 1; i < hi - 1; i++) if (!vec(i, v0, v1, v2, v3)) F.fill(0, o + i * C, o + (i + 1) * C);
  // Variances (the last checked slot) must also be ≥ 0; from = C·(hi − lo) checks none.
  const from = variance && hi === checked ? (hi - 1 - lo) * C : (hi - lo) * C;
  return rt().kernels.bn_params_check_f64((hi - lo) * C, at + 8 * C * lo, from) >= 0 ? -1 : at;
}

/** Bytes of channelVecs' block (four vectors of C f64): what an op reserves for it. @internal */
export const vecBytes = (C: number): number => aligned(32 * C);

/** Vector i of v0…v3. */
const vec = (i: number, v0: V, v1: V, v2: V, v3: V): V => (i === 0 ? v0 : i === 1 ? v1 : i === 2 ? v2 : v3);

/** The pointer of vector i (present: v given) of channelVecs' block at `at`, 0 when absent. @internal */
export function vecAt(at: number, C: number, i: number, v: unknown): number {
  return v ? at + 8 * C * i : 0;
}

/** A per-channel vector failed the wasm check but the op's own check passed it: a bug, never the caller's input. @internal */
export function vecCheckMismatch(): never {
  throw new Error("internal: a per-channel vector failed the wasm check but passed the JS one");
}

/**
 * v (C values) into F at index o: a plain loop for a few (a native set costs ~25–50 ns to enter;
 * 16 values: ~20 ns, the loop unrolled four values a step ~35: docs/performance.md, seventh
 * pass), the native copy beyond.
 */
function copyIn(F: Float64Array, v: Float32Array | Float64Array, o: number, C: number): void {
  if (C > 32) { F.set(v, o); return; }
  for (let c = 0; c < C; c++) F[o + c] = v[c];
}
