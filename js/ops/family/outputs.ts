// Result arrays the caller gives instead of fresh ones (the `…Out` options): the per-channel
// gradients of the row backwards (dgammaOut, dbetaOut, dbiasOut) and the per-statistic results
// of the forwards (meanOut, invstdOut, invRmsOut). A fresh result array of a few KB can cost
// more than the op's kernels (its allocation, and the GC work it brings; docs/performance.md);
// a caller in a loop gives the same arrays every call and the op allocates nothing for them.
import { fmt, plainFloat } from "../../core/errors";
import { typedKind, typedLength, typedBuffer, typedOffset, typedByteLength, f32Results, sized, plainBuffer } from "../../core/typed";
import { rememberedTensor } from "../../core/tensor";

/** Arrays the caller gave for the parameter gradients (checked by gradOutputs); absent ones are made. */
export interface GradOutputs { dgamma?: Float32Array; dbeta?: Float32Array; dbias?: Float32Array }
/** Arrays the caller gave for a forward's statistics: mean, and rstd (invstd or invRms). */
export interface StatOutputs { mean?: Float32Array; rstd?: Float32Array }

const GRAD_NAMES = ["dgammaOut", "dbetaOut", "dbiasOut"] as const;
const LN_NAMES = ["meanOut", "invstdOut"] as const, RMS_NAMES = ["invRmsOut"] as const;

const none = (v: unknown): boolean => v === undefined || v === null;
const channels = (n: number): string => `the tensor has ${n} channels`;
const statistics = (n: number): string => `the op has ${n} statistics`;

/**
 * The given outputs vals (named `names`): each absent (→ undefined), or a Float32Array of `len`
 * values in the JS heap (kind, length and buffer read through the intrinsics; a view of wasm
 * memory is refused: the kernels' memory is no place to copy results to), no two the same array
 * or sharing memory, none the same array as an operand or `out` (`others`) or sharing its memory.
 * They are written once the kernels have run: nothing is written when a call throws. Each
 * output's and each other argument's buffer is read once (the intrinsic getters cost ~10 ns a
 * call; docs/performance.md, per-call cost). Results in OUT (vals.length places; the caller reads
 * them at once and clears them: clearOut).
 */
function givenOutputs(vals: readonly unknown[], names: readonly string[], len: number, what: (n: number) => string, kind: string, others: readonly unknown[]): void {
  const n = vals.length;
  for (let i = 0; i < n; i++) {
    const name = names[i], v = vals[i];
    OUT[i] = undefined; BUFS[i] = null; LO[i] = 0; HI[i] = 0;
    if (none(v)) continue;
    // A Float32Array of the JS heap (errors.ts plainFloat: remembered, its buffer known), else refused.
    const plain = plainFloat(v) === "Float32Array";
    if (!plain && typedKind(v) !== "Float32Array") throw fail(`${name} must be a Float32Array of ${len} values (written in place), got ${fmt(v)}`);
    const f = v as Float32Array, m = typedLength(f);
    if (m !== len) throw fail(`${name} has ${m} values, ${what(len)}`);
    if (!plain) throw fail(`${name} is a view of wasm memory: give a Float32Array of its own (the results are copied into it)`);
    const buf = plainBuffer(f) ?? typedBuffer(f), s = typedOffset(f), e = s + 4 * len;
    for (let j = 0; j < i; j++) {
      if (OUT[j] !== undefined && (OUT[j] === f || (BUFS[j] === buf && LO[j] < e && s < HI[j]))) throw fail(`${name} is the same array as another ${kind} output or overlaps it: each ${kind} needs its own array`);
    }
    OUT[i] = f; BUFS[i] = buf; LO[i] = s; HI[i] = e;
  }
  // Operands and out: the same array as an output, or a typed array over any of its bytes (a
  // result copied into it would change the operand, or be overwritten when `out` in the JS heap
  // is copied out after it).
  for (let k = 0; k < others.length; k++) {
    const u = others[k];
    // (A Tensor is no typed array and can share no JS-heap `out`: one of the last tensors isTensor
    // found, the call's own among them, is skipped without an intrinsic read.)
    if (none(u) || rememberedTensor(u)) continue;
    for (let i = 0; i < n; i++) if (u === OUT[i]) throw fail(sharing(names[i]));
    const known = plainBuffer(u);
    if (known === undefined && !typedKind(u)) continue;
    const a = u as ArrayBufferView, ub = known ?? typedBuffer(a);
    for (let i = 0; i < n; i++) {
      if (OUT[i] === undefined || ub !== BUFS[i]) continue;
      const s = typedOffset(a);
      if (s < HI[i] && LO[i] < s + typedByteLength(a)) throw fail(sharing(names[i]));
    }
  }
  for (let i = 0; i < n; i++) BUFS[i] = null;
}

/**
 * givenOutputs' places for up to three outputs, kept across calls (arrays made for each call
 * cost more than the checks: docs/performance.md, per-call cost). They never hold a caller's
 * array after the call: BUFS is cleared by givenOutputs, OUT by clearOut or fail.
 */
const OUT: (Float32Array | undefined)[] = [undefined, undefined, undefined];
const BUFS: (ArrayBufferLike | null)[] = [null, null, null];
const LO: number[] = [0, 0, 0], HI: number[] = [0, 0, 0];

/** The output in OUT[i], its place cleared. */
function takeOut(i: number): Float32Array | undefined {
  const f = OUT[i];
  OUT[i] = undefined;
  return f;
}

/** An Error with this message, givenOutputs' places cleared first. */
function fail(message: string): Error {
  for (let i = 0; i < 3; i++) { OUT[i] = undefined; BUFS[i] = null; }
  return new Error(message);
}

const sharing = (name: string): string => `${name} is the same array as an input or out, or overlaps one: give a Float32Array of its own`;

/**
 * The result arrays of a call, in order: the caller's where given, a fresh array of len values
 * where undefined (all fresh ones from one f32Results call), null where the op has no such result.
 */
export function resultArrays(len: number, given: readonly (Float32Array | null | undefined)[]): (Float32Array | null)[] {
  let fresh = 0;
  for (let i = 0; i < given.length; i++) if (given[i] === undefined) fresh++;
  const made = f32Results(fresh, len), out = sized<Float32Array | null>(given.length);
  for (let i = 0, j = 0; i < given.length; i++) { const v = given[i]; out[i] = v === undefined ? made[j++] : v; }
  return out;
}

/** gradOutputs' three given arrays for givenOutputs (cleared after each call). */
const VALS: unknown[] = [undefined, undefined, undefined];

const NO_GRADS: GradOutputs = Object.freeze({ dgamma: undefined, dbeta: undefined, dbias: undefined });
const NO_STATS: StatOutputs = Object.freeze({ mean: undefined, rstd: undefined });

/** dgammaOut, dbetaOut, dbiasOut of a backward's options (C values each). */
export function gradOutputs(C: number, given: Record<string, unknown>, others: readonly unknown[]): GradOutputs {
  const a = given.dgammaOut, b = given.dbetaOut, c = given.dbiasOut;
  if (none(a) && none(b) && none(c)) return NO_GRADS;
  VALS[0] = a; VALS[1] = b; VALS[2] = c;
  try { givenOutputs(VALS, GRAD_NAMES, C, channels, "gradient", others); } finally { VALS[0] = VALS[1] = VALS[2] = undefined; }
  return { dgamma: takeOut(0), dbeta: takeOut(1), dbias: takeOut(2) };
}

/** meanOut and invstdOut (rms: invRmsOut) of a forward's options (K statistics each). */
export function statOutputs(K: number, given: Record<string, unknown>, rms: boolean, others: readonly unknown[]): StatOutputs {
  if (rms) {
    const r = given.invRmsOut;
    if (none(r)) return NO_STATS;
    givenOutputs([r], RMS_NAMES, K, statistics, "statistic", others);
    return { mean: undefined, rstd: takeOut(0) };
  }
  const m = given.meanOut, r = given.invstdOut;
  if (none(m) && none(r)) return NO_STATS;
  givenOutputs([m, r], LN_NAMES, K, statistics, "statistic", others);
  return { mean: takeOut(0), rstd: takeOut(1) };
}
