// Result arrays the caller gives instead of fresh ones (the `…Out` options): the per-channel
// gradients of the backwards (dgammaOut, dbetaOut, dbiasOut), the per-statistic results of the
// family's forwards (meanOut, invstdOut, invRmsOut) and batch-norm training's per-channel
// results (saveMeanOut, saveInvstdOut, varOut). A fresh result array of a few KB can cost
// more than the op's kernels (its allocation, and the GC work it brings; docs/performance.md);
// a caller in a loop gives the same arrays every call and the op allocates nothing for them.
import { fmt, plainFloat } from "../../core/errors";
import { typedKind, typedLength, typedBuffer, typedOffset, typedByteLength, f32Results, sized, plainBuffer, bufferEpoch, bufferUnless } from "../../core/typed";
import { rememberedTensor } from "../../core/tensor";

/** Arrays the caller gave for the parameter gradients (checked by gradOutputs); absent ones are made. */
export interface GradOutputs { dgamma?: Float32Array; dbeta?: Float32Array; dbias?: Float32Array }
/** Arrays the caller gave for a forward's statistics: mean, and rstd (invstd or invRms). */
export interface StatOutputs { mean?: Float32Array; rstd?: Float32Array }

const GRAD_NAMES = ["dgammaOut", "dbetaOut", "dbiasOut"] as const;
const BN_NAMES = ["saveMeanOut", "saveInvstdOut", "varOut"] as const;
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
 * call; docs/performance.md, per-call cost).
 */
function givenOutputs(vals: unknown[], names: readonly string[], len: number, what: (n: number) => string, kind: string, others: readonly unknown[]): (Float32Array | undefined)[] {
  const n = vals.length, out = sized<Float32Array | undefined>(n), bufs = sized<ArrayBufferLike | null>(n), lo = sized<number>(n), hi = sized<number>(n);
  let known = -1; // the latest epoch at which an output's buffer was known (typed.ts bufferEpoch)
  for (let i = 0; i < n; i++) {
    const name = names[i], v = vals[i];
    out[i] = undefined; bufs[i] = null; lo[i] = 0; hi[i] = 0;
    if (none(v)) continue;
    // A Float32Array of the JS heap (errors.ts plainFloat: remembered, its buffer known), else refused.
    const plain = plainFloat(v) === "Float32Array";
    if (!plain && typedKind(v) !== "Float32Array") throw new Error(`${name} must be a Float32Array of ${len} values (written in place), got ${fmt(v)}`);
    const f = v as Float32Array, m = typedLength(f);
    if (m !== len) throw new Error(`${name} has ${m} values, ${what(len)}`);
    if (!plain) throw new Error(`${name} is a view of wasm memory: give a Float32Array of its own (the results are copied into it)`);
    const buf = plainBuffer(f) ?? typedBuffer(f), s = typedOffset(f), e = s + 4 * len;
    known = Math.max(known, bufferEpoch(f));
    for (let j = 0; j < i; j++) {
      if (out[j] !== undefined && (out[j] === f || (bufs[j] === buf && lo[j] < e && s < hi[j]))) throw new Error(`${name} is the same array as another ${kind} output or overlaps it: each ${kind} needs its own array`);
    }
    out[i] = f; bufs[i] = buf; lo[i] = s; hi[i] = e;
  }
  // Operands and out: the same array as an output, or a typed array over any of its bytes (a
  // result copied into it would change the operand, or be overwritten when `out` in the JS heap
  // is copied out after it).
  for (let k = 0; k < others.length; k++) {
    const u = others[k];
    // (A Tensor is no typed array and can share no JS-heap `out`: one of the last tensors isTensor
    // found, the call's own among them, is skipped without an intrinsic read.)
    if (none(u) || rememberedTensor(u)) continue;
    for (let i = 0; i < n; i++) if (u === out[i]) throw sharing(names[i]);
    // (null: no typed array, or a small result array this module made after every output's
    // buffer was known — a forward's statistics — whose buffer is newer than all of theirs and
    // is not read: typed.ts madeKind.)
    const ub = bufferUnless(u, known);
    if (ub === null) continue;
    const a = u as ArrayBufferView;
    for (let i = 0; i < n; i++) {
      if (out[i] === undefined || ub !== bufs[i]) continue;
      const s = typedOffset(a);
      if (s < hi[i] && lo[i] < s + typedByteLength(a)) throw sharing(names[i]);
    }
  }
  return out;
}

const sharing = (name: string): Error => new Error(`${name} is the same array as an input or out, or overlaps one: give a Float32Array of its own`);

/**
 * The result arrays of a call, in order: the caller's where given, a fresh array of len values
 * where undefined (all fresh ones from one f32Results call), null where the op has no such result.
 */
export function resultArrays(len: number, given: readonly (Float32Array | null | undefined)[], keep = false): (Float32Array | null)[] {
  let fresh = 0;
  for (let i = 0; i < given.length; i++) if (given[i] === undefined) fresh++;
  const made = f32Results(fresh, len, keep), out = sized<Float32Array | null>(given.length);
  for (let i = 0, j = 0; i < given.length; i++) { const v = given[i]; out[i] = v === undefined ? made[j++] : v; }
  return out;
}

const NO_GRADS: GradOutputs = Object.freeze({ dgamma: undefined, dbeta: undefined, dbias: undefined });
const NO_STATS: StatOutputs = Object.freeze({ mean: undefined, rstd: undefined });

/** dgammaOut, dbetaOut, dbiasOut of a backward's options (C values each). */
export function gradOutputs(C: number, given: Record<string, unknown>, others: readonly unknown[]): GradOutputs {
  const a = given.dgammaOut, b = given.dbetaOut, c = given.dbiasOut;
  if (none(a) && none(b) && none(c)) return NO_GRADS;
  const v = givenOutputs([a, b, c], GRAD_NAMES, C, channels, "gradient", others);
  return { dgamma: v[0], dbeta: v[1], dbias: v[2] };
}

/** Arrays the caller gave for batch-norm training's per-channel results. */
export interface BnOutputs { mean?: Float32Array; invstd?: Float32Array; var?: Float32Array }
const NO_BN: BnOutputs = Object.freeze({ mean: undefined, invstd: undefined, var: undefined });

/** saveMeanOut, saveInvstdOut and varOut of batchNormTrain's options (C values each). */
export function bnOutputs(C: number, given: Record<string, unknown>, others: readonly unknown[]): BnOutputs {
  const a = given.saveMeanOut, b = given.saveInvstdOut, c = given.varOut;
  if (none(a) && none(b) && none(c)) return NO_BN;
  const v = givenOutputs([a, b, c], BN_NAMES, C, channels, "statistic", others);
  return { mean: v[0], invstd: v[1], var: v[2] };
}

/** meanOut and invstdOut (rms: invRmsOut) of a forward's options (K statistics each). */
export function statOutputs(K: number, given: Record<string, unknown>, rms: boolean, others: readonly unknown[]): StatOutputs {
  if (rms) {
    const r = given.invRmsOut;
    return none(r) ? NO_STATS : { mean: undefined, rstd: givenOutputs([r], RMS_NAMES, K, statistics, "statistic", others)[0] };
  }
  const m = given.meanOut, r = given.invstdOut;
  if (none(m) && none(r)) return NO_STATS;
  const v = givenOutputs([m, r], LN_NAMES, K, statistics, "statistic", others);
  return { mean: v[0], rstd: v[1] };
}
