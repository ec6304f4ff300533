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

/** Views a and b of one memory (the caller knows their buffers are one) share a byte. */
export function bytesOverlap(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const sa = typedOffset(a), sb = typedOffset(b);
  return sa < sb + typedByteLength(b) && sb < sa + typedByteLength(a);
}

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
/** Each place's buffer, or null while not read (a made array, see madeSeen). */
const plainBuffers: (ArrayBufferLike | null)[] = plainKinds.map(() => null);
/** Each place's epoch: when its buffer was read, or (buffer null) when the array was made. */
const plainEpochs: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
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

/** The buffer of v when it is a remembered plain float array (read now and kept if it was not yet), else undefined. @internal */
export function plainBuffer(v: unknown): ArrayBufferLike | undefined {
  const i = plainPlace(v);
  return i < 0 ? undefined : plainBuffers[i] ?? learn(i, v as ArrayBufferView);
}

/** v's buffer (v: the array at place i, remembered without it), read now and kept with the current epoch. */
function learn(i: number, v: ArrayBufferView): ArrayBufferLike {
  plainEpochs[i] = epoch;
  return (plainBuffers[i] = bufferOf.call(v) as ArrayBufferLike);
}

/** The epoch at which v's buffer was read, if v is remembered with its buffer; else the current epoch. @internal */
export function bufferEpoch(v: unknown): number {
  const i = plainPlace(v);
  return i >= 0 && plainBuffers[i] !== null ? plainEpochs[i] : epoch;
}

/**
 * The buffer of v, a typed array or anything else, for a check that it shares no memory with
 * arrays whose buffers were all known at epoch `since` (bufferEpoch): null when it cannot — v is
 * no typed array, or a made array made after `since`, whose buffer is newer than all of theirs
 * (then not read: see madeSeen).
 * @internal
 */
export function bufferUnless(v: unknown, since: number): ArrayBufferLike | null {
  const i = plainPlace(v);
  if (i >= 0) return plainBuffers[i] ?? (plainEpochs[i] > since ? null : learn(i, v as ArrayBufferView));
  const p = madePlace(v);
  if (p >= 0 && madeEpochs[p >>> 8] > since) return null;
  return typedKind(v) ? (bufferOf.call(v) as ArrayBufferLike) : null;
}

/** Remember v, a Float32Array or Float64Array of `len` values found outside wasm memory (kind: its typedKind). @internal */
export function rememberPlain(v: ArrayBufferView, kind: string, len: number): void {
  if (len > PLAIN_MAX) return;
  const buf = bufferOf.call(v) as ArrayBufferLike & { maxByteLength?: number };
  if ((buf.maxByteLength ?? buf.byteLength) > 8 * PLAIN_MAX) return;
  remember(v, kind, buf, epoch);
}

function remember(v: object, kind: string, buf: ArrayBufferLike | null, at: number): void {
  while (plainUsed[plainAt] === 1) { plainUsed[plainAt] = 0; plainAt = (plainAt + 1) & 7; } // ends: it clears what it passes
  plainSeen[plainAt] = v;
  plainKinds[plainAt] = kind;
  plainBuffers[plainAt] = buf;
  plainEpochs[plainAt] = at;
  plainAt = (plainAt + 1) & 7;
}

/**
 * The small result arrays (on V8's heap: at most ON_HEAP_BYTES each) of the last MADE result
 * calls that kept them (f32Results, f64Results), with their kind and the epoch they were made at
 * (a count of such calls).
 * Reading such an array's `buffer` makes V8 move its values to a new off-heap store (~0.5 µs
 * here; docs/performance.md, per-call cost, eighth pass), and a forward's statistics passed to
 * its backward (saveMean, mean, invstd, invRms) were classified by their buffer on every step. A
 * made array is no view of wasm memory whatever its buffer, so plainFloat takes it from here
 * without reading it (then remembered in the ring above, buffer null). The ring keeps up to
 * MADE calls' small arrays reachable. Only statistics are kept (f32Results' `keep`).
 */
const MADE = 8;
const madeSeen: (Float32Array | Float64Array)[][] = new Array<(Float32Array | Float64Array)[]>(MADE).fill([]);
const madeKinds: string[] = new Array<string>(MADE).fill("");
const madeEpochs: number[] = new Array<number>(MADE).fill(0);
let madeAt = 0;
let epoch = 0;

/** Remember the arrays of one result call (one store a call: each store of a new object into the ring costs a write barrier). */
function made(arrays: (Float32Array | Float64Array)[], kind: string): void {
  madeSeen[madeAt] = arrays;
  madeKinds[madeAt] = kind;
  madeEpochs[madeAt] = ++epoch;
  madeAt = madeAt === MADE - 1 ? 0 : madeAt + 1;
}

/** The place of v among the made groups (group·256 + index), or −1. */
function madePlace(v: unknown): number {
  for (let i = 0; i < MADE; i++) {
    const g = madeSeen[i];
    for (let j = 0; j < g.length; j++) if (g[j] === v) return (i << 8) + j; // (a call makes fewer than 256 results)
  }
  return -1;
}

/** The kind of v when it is one of the last made arrays (then remembered as plain, its buffer unread), else undefined. @internal */
export function madeKind(v: unknown): string | undefined {
  const p = madePlace(v);
  if (p < 0) return undefined;
  remember(v as object, madeKinds[p >>> 8], null, madeEpochs[p >>> 8]);
  return madeKinds[p >>> 8];
}

/** Empty the rings (init(): what was found outside wasm memory before the module was loaded is not known to be). @internal */
export function forgetPlain(): void {
  for (let i = 0; i < 8; i++) { plainSeen[i] = NOTHING; plainKinds[i] = ""; plainBuffers[i] = null; plainEpochs[i] = 0; plainUsed[i] = 0; }
  for (let i = 0; i < MADE; i++) { madeSeen[i] = []; madeKinds[i] = ""; }
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
 * function per type keeps the constructor and subarray calls monomorphic. `keep`: statistics a
 * caller may pass back (saveMean, mean, invstd, invRms, channel statistics), remembered as made
 * (madeKind; parameter gradients are not: the ring's store costs ~10–20 ns a call).
 */
export function f32Results(n: number, len: number, keep = false): Float32Array[] {
  const out = sized<Float32Array>(n), all = n === 0 || 4 * len <= ON_HEAP_BYTES ? null : new ArrayBuffer(4 * n * len);
  for (let i = 0; i < n; i++) out[i] = all ? new Float32Array(all, 4 * i * len, len) : new Float32Array(len);
  if (keep && !all && n > 0) made(out, "Float32Array");
  return out;
}

/** f32Results for Float64Array results. */
export function f64Results(n: number, len: number, keep = false): Float64Array[] {
  const out = sized<Float64Array>(n), all = 8 * len <= ON_HEAP_BYTES ? null : new ArrayBuffer(8 * n * len);
  for (let i = 0; i < n; i++) out[i] = all ? new Float64Array(all, 8 * i * len, len) : new Float64Array(len);
  if (keep && !all && n > 0) made(out, "Float64Array");
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
export function resultsAt32(src: Float32Array, at: number, n: number, len: number, keep = false): Float32Array[] {
  const out = f32Results(n, len, keep);
  // Views of one store (f32Results): filled by one native copy, its source view made by the constructor (subarray() looks up the species constructor, ~3× the cost).
  if (n > 0 && 4 * len > ON_HEAP_BYTES) typedSet(new Float32Array(out[0].buffer), new Float32Array(src.buffer, src.byteOffset + 4 * at, n * len));
  else for (let i = 0; i < n; i++) { const r = out[i], b = at + i * len; for (let j = 0; j < len; j++) r[j] = src[b + j]; }
  return out;
}

/** resultsAt32 for Float64Array results (src: the whole-memory f64 view). */
export function resultsAt64(src: Float64Array, at: number, n: number, len: number, keep = false): Float64Array[] {
  const out = f64Results(n, len, keep);
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
