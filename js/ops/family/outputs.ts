// Result arrays the caller gives instead of fresh ones (the `…Out` options): the per-channel
// gradients of the row backwards (dgammaOut, dbetaOut, dbiasOut) and the per-statistic results
// of the forwards (meanOut, invstdOut, invRmsOut). A fresh result array of a few KB can cost
// more than the op's kernels (its allocation, and the GC work it brings; docs/performance.md);
// a caller in a loop gives the same arrays every call and the op allocates nothing for them.
import { fmt, inWasm } from "../../core/errors";
import { typedKind, typedLength, typedBuffer, typedOffset, typedByteLength, f32Results } from "../../core/typed";

/** Arrays the caller gave for the parameter gradients (checked by gradOutputs); absent ones are made. */
export interface GradOutputs { dgamma?: Float32Array; dbeta?: Float32Array; dbias?: Float32Array }
/** Arrays the caller gave for a forward's statistics: mean, and rstd (invstd or invRms). */
export interface StatOutputs { mean?: Float32Array; rstd?: Float32Array }

const GRAD_OUTPUTS = [["dgammaOut", "dgamma"], ["dbetaOut", "dbeta"], ["dbiasOut", "dbias"]] as const;
const LN_OUTPUTS = [["meanOut", "mean"], ["invstdOut", "rstd"]] as const, RMS_OUTPUTS = [["invRmsOut", "rstd"]] as const;

/**
 * The given outputs among `names` (option name → result field): each absent, or a Float32Array
 * of `len` values in the JS heap (kind, length and buffer read through the intrinsics; a view of
 * wasm memory is refused: the kernels' memory is no place to copy results to), no two the same
 * array or sharing memory, none the same array as an operand or `out` (`others`) or sharing its
 * memory. They are written once the
 * kernels have run: nothing is written when a call throws.
 */
function givenOutputs(given: Record<string, unknown>, names: readonly (readonly [string, string])[], len: number, what: string, kind: string, others: readonly unknown[]): Record<string, Float32Array> {
  let any = false;
  for (let i = 0; i < names.length; i++) if (given[names[i][0]] !== undefined && given[names[i][0]] !== null) any = true;
  if (!any) return NONE; // (frozen: nothing to add to it)
  const r: Record<string, Float32Array> = {}, seen: unknown[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i][0], v = given[name];
    if (v === undefined || v === null) continue;
    if (typedKind(v) !== "Float32Array") throw new Error(`${name} must be a Float32Array of ${len} values (written in place), got ${fmt(v)}`);
    const n = typedLength(v as Float32Array);
    if (n !== len) throw new Error(`${name} has ${n} values, ${what}`);
    if (inWasm(v as Float32Array)) throw new Error(`${name} is a view of wasm memory: give a Float32Array of its own (the results are copied into it)`);
    if (overlapsAny(seen, v as Float32Array)) throw new Error(`${name} is the same array as another ${kind} output or overlaps it: each ${kind} needs its own array`);
    if (overlapsAny(others, v as Float32Array)) throw new Error(`${name} is the same array as an input or out, or overlaps one: give a Float32Array of its own`);
    seen.push(v);
    r[names[i][1]] = v as Float32Array;
  }
  return r;
}

const NONE: Record<string, Float32Array> = Object.freeze({}) as Record<string, Float32Array>;

/**
 * True when some u of list is v, or a typed array over any of v's bytes (a result copied into v
 * would change it, or be overwritten when u, an `out` in the JS heap, is copied out after it).
 * v's buffer and bytes are read once; a loop, no closure per call.
 */
function overlapsAny(list: readonly unknown[], v: Float32Array): boolean {
  const buf = typedBuffer(v), t = typedOffset(v), end = t + 4 * typedLength(v);
  for (let i = 0; i < list.length; i++) {
    const u = list[i];
    if (u === v) return true;
    if (!typedKind(u)) continue;
    const a = u as ArrayBufferView;
    if (typedBuffer(a) !== buf) continue;
    const s = typedOffset(a);
    if (s < end && t < s + typedByteLength(a)) return true;
  }
  return false;
}

/**
 * The result arrays of a call, in order: the caller's where given, a fresh array of len values
 * where undefined (all fresh ones from one f32Results call), null where the op has no such result.
 */
export function resultArrays(len: number, given: readonly (Float32Array | null | undefined)[]): (Float32Array | null)[] {
  let fresh = 0;
  for (let i = 0; i < given.length; i++) if (given[i] === undefined) fresh++;
  const made = f32Results(fresh, len), out: (Float32Array | null)[] = [];
  for (let i = 0, j = 0; i < given.length; i++) { const v = given[i]; out.push(v === undefined ? made[j++] : v); }
  return out;
}

/** dgammaOut, dbetaOut, dbiasOut of a backward's options (C values each). */
export function gradOutputs(C: number, given: Record<string, unknown>, others: readonly unknown[]): GradOutputs {
  return givenOutputs(given, GRAD_OUTPUTS, C, `the tensor has ${C} channels`, "gradient", others);
}

/** meanOut and invstdOut (rms: invRmsOut) of a forward's options (K statistics each). */
export function statOutputs(K: number, given: Record<string, unknown>, rms: boolean, others: readonly unknown[]): StatOutputs {
  return givenOutputs(given, rms ? RMS_OUTPUTS : LN_OUTPUTS, K, `the op has ${K} statistics`, "statistic", others);
}
