// Validation helpers: every message names the argument, the expected and the actual value, and
// quotes strings (`groups: "3"` reads "got the string "3"", not "got 3").
import { typedKind, typedLength, typedBuffer, isFakeTyped, isFloatArray, plainKind, madeKind, rememberPlain } from "./typed";
import { rt, isInitialized } from "./runtime";
import { onlyKnown } from "./option-names";

/** float32's largest finite value and smallest positive one (what a Float32Array can hold). @internal */
export const F32_MAX = 3.4028234663852886e38, F32_TINY = 1.401298464324817e-45;

/** How a value reads in an error message: strings quoted, arrays and typed arrays by kind and length. @internal */
export function fmt(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `the bigint ${v}n`;
  if (typeof v === "boolean" || typeof v === "symbol") return `${typeof v} ${String(v)}`;
  if (typeof v === "function") return "a function";
  const kind = typedKind(v);
  if (kind) return `a ${kind} of ${typedLength(v as ArrayBufferView)} values`;
  if (isFakeTyped(v)) return "an object posing as a typed array (a Proxy or a prototype copy: pass the typed array itself)";
  if (Array.isArray(v)) return `an Array of ${v.length} values`;
  return "an object";
}

/** @internal */
export function checkFinite(name: string, v: unknown, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new Error(`${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ""}, got ${fmt(v)}`);
  }
  return v;
}

/** An integer ≥ min (a count, a channel or group number). @internal */
export function checkInteger(name: string, v: unknown, min: number, what = "an integer"): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new Error(`${name} must be ${what}${what === "a positive integer" ? "" : ` ≥ ${min}`}, got ${fmt(v)}`);
  return v;
}

/**
 * A per-channel vector after validation: a real Float32Array/Float64Array (read in place; its
 * elements cannot run code) or a Float64Array copy of a number[] (each element read once).
 */
export type Vec = Float32Array | Float64Array | number[];

/** True for a real Float32Array/Float64Array or an Array. @internal */
export function isVec(v: unknown): v is Vec {
  return isFloatArray(v) || Array.isArray(v);
}

/** A per-channel vector: right type, right length (elements unchecked). Returns v. @internal */
export function checkVec(name: string, v: unknown, C: number, unit = "channels"): Vec {
  if (plainFloat(v) !== undefined) return lengthIs(name, v as Float32Array | Float64Array, C, unit);
  return vecShape(name, v, C, unit);
}

/** checkVec for a v plainFloat did not accept (an Array, a view of wasm memory, or none of those: throws). */
function vecShape(name: string, v: unknown, C: number, unit: string): Vec {
  if (!isVec(v)) throw new Error(`${name} must be a Float32Array, Float64Array or number[] of ${C} values, got ${fmt(v)}`);
  countIs(name, Array.isArray(v) ? v.length : typedLength(v), C, unit);
  return v;
}

/**
 * "Float32Array" or "Float64Array" when v is one of the JS heap (not a view of wasm memory), else
 * undefined. The one rule behind every per-channel vector, running statistic and `…Out` array: an
 * array found plain is remembered (typed.ts plainKind: its kind and buffer are slots it keeps for
 * life), and later calls read the ring only (one scan of eight places); a small result array this
 * module made is plain without a look at its buffer (typed.ts madeKind).
 * @internal
 */
export function plainFloat(v: unknown): string | undefined {
  const known = plainKind(v) ?? madeKind(v);
  if (known !== undefined) return known;
  const k = typedKind(v);
  if ((k !== "Float32Array" && k !== "Float64Array") || inWasm(v as Float32Array)) return undefined;
  rememberPlain(v as Float32Array, k, typedLength(v as Float32Array));
  return k;
}

/** Throws unless a per-channel vector's n values are the tensor's C. */
function countIs(name: string, n: number, C: number, unit: string): void {
  if (n !== C) throw new Error(`${name} has ${n} values, the tensor has ${C} ${unit}`);
}

/** v (a typed array) when it holds C values, else throws checkVec's message. @internal */
export function lengthIs<T extends Float32Array | Float64Array>(name: string, v: T, C: number, unit: string): T {
  countIs(name, typedLength(v), C, unit);
  return v;
}

/**
 * checkVec, then every element a finite number ≥ min; returns the values to use (number[] → a
 * Float64Array read once, so a getter or Proxy trap cannot change them later in the call).
 * `what` names the kind of values in the message ("variances"); `label` the array in it
 * ("running_var[1] is negative", PyTorch's name, for runningVar).
 * @internal
 */
export function finiteVec(name: string, v: unknown, C: number, min = -Infinity, what = "values", label = name): Float32Array | Float64Array {
  const a = numVec(name, v, C);
  if (min === -Infinity && allFinite(a, C)) return a;
  for (let i = 0; i < C; i++) {
    const e = a[i];
    if (!(e >= min && e < Infinity && e > -Infinity)) { // -Infinity ≥ min when min is -Infinity
      const is = Number.isNaN(e) ? "NaN" : e < min && e > -Infinity ? `negative (${e})` : String(e);
      throw new Error(`${label}[${i}] is ${is}: ${name} must hold finite ${what}${min > -Infinity ? ` ≥ ${min}` : ""}`);
    }
  }
  return a;
}

/**
 * True when the n values of a are all finite: x·0 is 0 for finite x and NaN otherwise, so four
 * branch-free sums decide it (faster than a compare-and-branch loop).
 */
function allFinite(a: Float32Array | Float64Array, n: number): boolean {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
  for (; i + 4 <= n; i += 4) { s0 += a[i] * 0; s1 += a[i + 1] * 0; s2 += a[i + 2] * 0; s3 += a[i + 3] * 0; }
  for (; i < n; i++) s0 += a[i] * 0;
  return s0 + s1 + s2 + s3 === 0;
}

/**
 * checkVec, then the values to use: the typed array itself, a number[] read once into a
 * Float64Array, or a copy of a view of wasm memory (a Tensor's `data`), taken now: the call's
 * first allocation may grow memory and detach the view (an op reads its vectors after that).
 * @internal
 */
export function numVec(name: string, v: unknown, C: number, unit = "channels"): Float32Array | Float64Array {
  if (plainFloat(v) !== undefined) return lengthIs(name, v as Float32Array | Float64Array, C, unit);
  vecShape(name, v, C, unit);
  if (Array.isArray(v)) return copyArray(name, v);
  const a = v as Float32Array | Float64Array; // a view of wasm memory
  return typedKind(a) === "Float32Array" ? new Float32Array(a) : new Float64Array(a);
}

/** True when a is a view of the module's wasm memory (or of it before it grew: detached). @internal */
export function inWasm(a: ArrayBufferView): boolean {
  return isWasmBuffer(typedBuffer(a));
}

/** True when b is the module's wasm memory buffer, now or before it grew (detached since). @internal */
export function isWasmBuffer(b: ArrayBufferLike): boolean {
  if (!isInitialized()) return false;
  const heap = rt().heap;
  return b === heap.buffer || heap.past.has(b);
}

/** A number[] read once into a Float64Array; a non-number element throws naming it. @internal */
export function copyArray(name: string, v: unknown[]): Float64Array {
  const n = v.length, a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = v[i];
    if (typeof e !== "number") throw new Error(`${name}[${i}] must be a number, got ${fmt(e)}`);
    a[i] = e;
  }
  return a;
}

/** gamma / beta: absent (undefined or null), or C finite numbers. @internal */
export function affineVec(name: string, v: unknown, C: number): Float32Array | Float64Array | undefined {
  return v === undefined || v === null ? undefined : finiteVec(name, v, C);
}

/**
 * gamma / beta / bias whose elements are checked once copied into wasm memory (js/ops/family/
 * norm-rows.ts `paramVec` with their name, before any kernel runs): absent, or C values of an
 * accepted type (a number[] read once). Only for vectors that reach the kernels through paramVec.
 * @internal
 */
export function affineShape(name: string, v: unknown, C: number): Float32Array | Float64Array | undefined {
  return v === undefined || v === null ? undefined : numVec(name, v, C);
}

/** Running (or given) means and variances: C finite values each, variances ≥ 0. @internal */
export function statsVecs(C: number, mean: unknown, variance: unknown, names: [string, string]) {
  return { mean: finiteVec(names[0], mean, C), var: finiteVec(names[1], variance, C, 0, "variances", names[1] === "runningVar" ? "running_var" : names[1]) };
}

/** Throw when any of the C values of v is negative. @internal */
export function checkNonNegative(name: string, v: Vec, arg = name): void {
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0) throw new Error(`${name}[${i}] is negative (${v[i]}): ${arg} must hold variances ≥ 0`);
  }
}

/** An own property of table (never one inherited from Object.prototype, like "toString"). @internal */
export function ownEntry<T>(table: Record<string, T>, name: unknown): T | undefined {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
}

const NONE: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** The options object to read (undefined/null → an empty one), or throws when it is none. @internal */
export function optionsObject(o: unknown, what = "options"): Record<string, unknown> {
  if (o === undefined || o === null) return NONE;
  if (typeof o !== "object") throw new Error(`${what} must be an object, got ${fmt(o)}`);
  return o as Record<string, unknown>;
}

/**
 * Options read once: a plain copy of the listed keys, taken before anything is allocated, so a
 * getter runs once and cannot change (or allocate during) the call. undefined/null → {}; a name
 * not listed is refused (onlyKnown).
 * (Hot paths use the per-op readers of js/ops/options.ts: object literals V8 keeps fast.)
 * @internal
 */
export function readOptions<T extends object>(o: unknown, keys: readonly string[], what = "options"): T {
  const src = optionsObject(o, what), r: Record<string, unknown> = {};
  for (const k of keys) r[k] = src[k];
  onlyKnown(src, r, what);
  return r as T;
}
