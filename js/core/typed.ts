// Reading typed arrays the caller gave without running the caller's code: length, buffer and
// offset come from the %TypedArray%.prototype getters (a subclass may override `length`; a
// Proxy answers every property itself), and the kind from the intrinsic @@toStringTag getter,
// which says "Float32Array" only for a real Float32Array (or a subclass instance) and
// undefined for a Proxy or an object that merely inherits from Float32Array.prototype.

const TA = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TA, key)!.get as (this: unknown) => unknown;
const tagOf = getter(Symbol.toStringTag);
const lengthOf = getter("length");
const bufferOf = getter("buffer");
const offsetOf = getter("byteOffset");
const byteLengthOf = getter("byteLength");
const setOf = (TA as { set: (this: unknown, src: ArrayLike<number>, at?: number) => void }).set;

/** The typed-array kind of v ("Float32Array", …), or undefined when v is none (Proxies included). */
export function typedKind(v: unknown): string | undefined {
  return typeof v === "object" && v !== null ? (tagOf.call(v) as string | undefined) : undefined;
}

/** v's length through the intrinsic getter (v must be a real typed array: check typedKind first). */
export function typedLength(v: ArrayBufferView): number { return lengthOf.call(v) as number; }

/** v's buffer through the intrinsic getter. */
export function typedBuffer(v: ArrayBufferView): ArrayBufferLike { return bufferOf.call(v) as ArrayBufferLike; }

/** v's byte offset through the intrinsic getter. */
export function typedOffset(v: ArrayBufferView): number { return offsetOf.call(v) as number; }

/** v's byte length through the intrinsic getter. */
export function typedByteLength(v: ArrayBufferView): number { return byteLengthOf.call(v) as number; }

/** dest.set(src, at) through the intrinsic (a subclass may override `set`). */
export function typedSet(dest: ArrayBufferView, src: ArrayLike<number>, at = 0): void { setOf.call(dest, src, at); }

/**
 * The last typed arrays found to be a Float32Array or Float64Array of the JS heap (not a view of
 * wasm memory), with their kind and buffer: a ring of eight. An op reads the same few per-channel vectors
 * every call, and each classification costs two intrinsic getters and a WeakSet lookup (~30 ns;
 * docs/performance.md, per-call cost). Kind and buffer are internal slots a typed array keeps for
 * life (the `…Out` checks read the buffer too), and a JS-heap buffer never becomes the module's memory, so a remembered answer stays
 * true; the length is still read every time (a detached or resized buffer changes it). Only
 * arrays whose whole buffer holds at most 8·PLAIN_MAX bytes are remembered (a small view of a
 * large buffer is not: the ring would keep the buffer reachable): it holds at most 8 × 32 KB of
 * the caller's memory until replaced. "Outside wasm memory" is only known once the module is
 * loaded, so init() empties the ring (forgetPlain): an array classified before init may be a view
 * of the memory init() is given. Replacement is "second
 * chance" (a clock): a hit marks its place, and a new array takes the first unmarked place,
 * clearing the marks it passes. A training step passes the same parameters every call and
 * fresh statistics (saveMean, mean / invstd from the forward) every call: with first-in
 * first-out the fresh ones pushed the parameters out each step, and every lookup missed.
 */
const NOTHING = {}; // fills the empty places: no caller can pass it (null or undefined would match null)
const plainSeen: object[] = [NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, NOTHING];
const plainKinds: string[] = ["", "", "", "", "", "", "", ""];
const EMPTY = new ArrayBuffer(0);
const plainBuffers: ArrayBufferLike[] = plainKinds.map(() => EMPTY);
const plainUsed: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
let plainAt = 0;
const PLAIN_MAX = 4096;

/** The place of v in the ring (marked as used), or −1. */
function plainPlace(v: unknown): number {
  for (let i = 0; i < 8; i++) if (plainSeen[i] === v) { plainUsed[i] = 1; return i; }
  return -1;
}

/** The kind of v when it is a remembered plain float array (see plainSeen), else undefined (a miss says nothing). @internal */
export function plainKind(v: unknown): string | undefined {
  const i = plainPlace(v);
  return i < 0 ? undefined : plainKinds[i];
}

/** The buffer of v when it is a remembered plain float array, else undefined. @internal */
export function plainBuffer(v: unknown): ArrayBufferLike | undefined {
  const i = plainPlace(v);
  return i < 0 ? undefined : plainBuffers[i];
}

/** Remember v, a Float32Array or Float64Array of `len` values found outside wasm memory (kind: its typedKind). @internal */
export function rememberPlain(v: ArrayBufferView, kind: string, len: number): void {
  if (len > PLAIN_MAX) return;
  const buf = bufferOf.call(v) as ArrayBufferLike & { maxByteLength?: number };
  if ((buf.maxByteLength ?? buf.byteLength) > 8 * PLAIN_MAX) return;
  while (plainUsed[plainAt] === 1) { plainUsed[plainAt] = 0; plainAt = (plainAt + 1) & 7; } // ends: it clears what it passes
  plainSeen[plainAt] = v;
  plainKinds[plainAt] = kind;
  plainBuffers[plainAt] = buf;
  plainAt = (plainAt + 1) & 7;
}

/** Empty the ring (init(): what was found outside wasm memory before the module was loaded is not known to be). @internal */
export function forgetPlain(): void {
  for (let i = 0; i < 8; i++) { plainSeen[i] = NOTHING; plainKinds[i] = ""; plainBuffers[i] = EMPTY; plainUsed[i] = 0; }
  plainAt = 0;
}

/** True for a Float32Array or Float64Array (subclasses included, Proxies not). */
export function isFloatArray(v: unknown): v is Float32Array | Float64Array {
  const k = typedKind(v);
  return k === "Float32Array" || k === "Float64Array";
}

/**
 * True when v looks like a typed array (it passes instanceof or has its prototype) but is not
 * one: a Proxy, or Object.create(Float32Array.prototype).
 */
export function isFakeTyped(v: unknown): boolean {
  return typeof v === "object" && v !== null && typedKind(v) === undefined && v instanceof (Object.getPrototypeOf(Uint8Array) as typeof Uint8Array);
}

/**
 * An array for n results, filled by index: its backing store holds n slots (`[]` grown by push
 * takes 17 on the first push: ~130 bytes of garbage a call more; docs/performance.md).
 * @internal
 */
export function sized<T>(n: number): T[] {
  return new Array<T>(n);
}

/**
 * V8 keeps a typed array of at most this many bytes on its own heap (~25 ns to make); a larger
 * one gets an off-heap backing store (~0.3 µs with its GC share, docs/performance.md).
 */
const ON_HEAP_BYTES = 64;

/**
 * The n Float32Array results of len values one call returns: separate arrays while each fits on
 * V8's heap, else views of one backing store (one off-heap allocation instead of n). One
 * function per type keeps the constructor and subarray calls monomorphic.
 */
export function f32Results(n: number, len: number): Float32Array[] {
  const out = sized<Float32Array>(n), all = n === 0 || 4 * len <= ON_HEAP_BYTES ? null : new ArrayBuffer(4 * n * len);
  for (let i = 0; i < n; i++) out[i] = all ? new Float32Array(all, 4 * i * len, len) : new Float32Array(len);
  return out;
}

/** f32Results for Float64Array results. */
export function f64Results(n: number, len: number): Float64Array[] {
  const out = sized<Float64Array>(n), all = 8 * len <= ON_HEAP_BYTES ? null : new ArrayBuffer(8 * n * len);
  for (let i = 0; i < n; i++) out[i] = all ? new Float64Array(all, 8 * i * len, len) : new Float64Array(len);
  return out;
}

/**
 * The n Float32Array results of len values each that a kernel left contiguous in wasm memory at
 * src[at…] (src: the module's whole-memory view): separate arrays while each fits V8's heap
 * (filled by a plain loop), else one array filled by a native copy (no loop over the values)
 * viewed as n subarrays. One function per type (resultsAt64 for f64): a function that made and
 * filled both kinds ran its loads, stores and constructors polymorphic, ~70 ns an array of 16
 * values instead of ~38 (docs/performance.md, per-call cost, seventh pass).
 */
export function resultsAt32(src: Float32Array, at: number, n: number, len: number): Float32Array[] {
  const out = f32Results(n, len);
  // Views of one store (f32Results): filled by one native copy, its source view made by the constructor (subarray() looks up the species constructor, ~3× the cost).
  if (n > 0 && 4 * len > ON_HEAP_BYTES) typedSet(new Float32Array(out[0].buffer), new Float32Array(src.buffer, src.byteOffset + 4 * at, n * len));
  else for (let i = 0; i < n; i++) { const r = out[i], b = at + i * len; for (let j = 0; j < len; j++) r[j] = src[b + j]; }
  return out;
}

/** resultsAt32 for Float64Array results (src: the whole-memory f64 view). */
export function resultsAt64(src: Float64Array, at: number, n: number, len: number): Float64Array[] {
  const out = f64Results(n, len);
  if (n > 0 && 8 * len > ON_HEAP_BYTES) typedSet(new Float64Array(out[0].buffer), new Float64Array(src.buffer, src.byteOffset + 8 * at, n * len));
  else for (let i = 0; i < n; i++) { const r = out[i], b = at + i * len; for (let j = 0; j < len; j++) r[j] = src[b + j]; }
  return out;
}

/**
 * dst's length of values of src from index at into dst (a result array, maybe the caller's): a
 * loop for a few, the native copy beyond. src is the module's own whole-memory view; the copy's
 * source view is made by the constructor (subarray() looks up the species constructor).
 */
export function copyOut(dst: Float32Array | Float64Array, src: Float32Array | Float64Array, at: number): void {
  const n = typedLength(dst);
  if (n <= 32) { for (let i = 0; i < n; i++) dst[i] = src[at + i]; return; }
  typedSet(dst, src instanceof Float64Array ? new Float64Array(src.buffer, src.byteOffset + 8 * at, n) : new Float32Array(src.buffer, src.byteOffset + 4 * at, n));
}
