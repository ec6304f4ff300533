// One op call's view of memory: binds big inputs and outputs (zero-copy when they already live
// in wasm memory, else copied in once / out once), hands out temporaries, frees everything.
//
// Order matters: an allocation can grow memory and detach every view of the old buffer,
// including the caller's zero-copy Float32Arrays. So all arguments are classified first
// (pointers read while views are live), then the needed bytes are reserved in one step, then
// copies are made. Nothing the caller gave is written until `result()`.
import { rt } from "./runtime";
import { Tensor, ownerOf, isTensor, resultTensor } from "./tensor";
import { fmtShape, type Layout } from "./layout";
import { fmt } from "./errors";
import { typedKind, typedLength, typedBuffer, typedOffset, typedSet } from "./typed";
import type { Heap } from "./heap";

// Every Arg and every Out has all its fields from the start (one object shape each: the
// property reads in commit/result/dispose stay monomorphic).
interface Arg { name: string; ptr: number; len: number; src: Float32Array | undefined; }
interface Out {
  name: string; ptr: number; len: number;
  /** The caller's Float32Array (plain: in the JS heap, copied at result()). */
  dest: Float32Array | undefined;
  /** The caller's Tensor, or the one made at commit(). */
  tensor: Tensor | undefined;
  plain: boolean;
  /** Not given, returned as a new Tensor of this shape and layout (made at commit()). */
  shape: number[] | undefined;
  layout: string | undefined;
  /** Given by the caller: its memory is checked against the other outputs (checkOutputs). */
  given: boolean;
}

export class Scope {
  heap: Heap;
  /** Heap blocks taken when the stage could not serve (null: none, the usual case). */
  private temps: number[] | null = null;
  /** The call's inputs and outputs: the first nArgs / nOuts records (kept for the next call of a pooled scope, see withScope). */
  private args: Arg[] = [];
  private outs: Out[] = [];
  private nArgs = 0;
  private nOuts = 0;
  private pendingBytes = 0;
  private committed = false;
  /** The heap's stage top when this call began: dispose() gives back everything above it. */
  private mark: number;
  private readonly useStage: boolean;
  /** The kernel scratch the call's kernels share (js/ops/dispatch.ts scratchFor): a temporary, and its bytes (0: none yet). */
  shared = -1;
  sharedBytes = 0;

  /**
   * `stage: false` for a scope that outlives a synchronous call (the worker pool's op memory, held
   * across awaits): the stage is released last-in first-out, which only synchronous calls
   * guarantee, so such a scope takes its temporaries from the heap.
   */
  constructor(opts?: { stage?: boolean }) {
    this.heap = rt().heap;
    this.useStage = opts?.stage !== false;
    this.mark = this.heap.stageTop;
  }

  /** Ready for another call on heap (a pooled scope: withScope), as a new Scope would be. */
  private reopen(heap: Heap): void {
    this.heap = heap;
    this.mark = heap.stageTop;
    this.nArgs = 0;
    this.nOuts = 0;
    this.pendingBytes = 0;
    this.committed = false;
    this.shared = -1;
    this.sharedBytes = 0;
  }

  /** A scope for one synchronous call: a pooled one when free (no allocation per call), else a new one. @internal */
  static open(): Scope {
    const heap = rt().heap, s = FREE.pop();
    if (s === undefined || s.heap !== heap) return new Scope();
    s.reopen(heap);
    return s;
  }

  /** Back to the pool (after dispose): its records are reused by the next call. @internal */
  close(): void {
    // Drop what the records refer to (a refused output's too), so a pooled scope holds no
    // caller's arrays or tensors.
    for (let i = 0; i < this.args.length; i++) this.args[i].src = undefined;
    for (let i = 0; i < this.outs.length; i++) { const o = this.outs[i]; o.dest = undefined; o.tensor = undefined; o.shape = undefined; }
    this.nArgs = this.nOuts = 0;
    if (FREE.length < POOL_MAX) FREE.push(this);
  }

  /**
   * Bind a big input of len float32 values. shape, layout: a Tensor given must have them (an
   * input read alongside x: dy, skip, dsum; `like` names x in the message).
   */
  input(name: string, v: unknown, len: number, shape?: number[], layout?: string, like = "x"): Arg {
    if (this.committed) throw new Error("internal: input() after commit()");
    if (shape && isTensor(v)) sameShape(name, v, shape, layout!, like);
    const ptr = isTensor(v) ? bindTensor(name, v, len) : bindArray(name, v, len);
    let a = this.args[this.nArgs];
    if (a === undefined) this.args.push((a = { name, ptr, len, src: undefined }));
    a.name = name; a.ptr = ptr; a.len = len; a.src = ptr < 0 ? (v as Float32Array) : undefined;
    this.nArgs++;
    if (ptr < 0) this.pendingBytes += len * 4 + 16;
    return a;
  }

  /**
   * Bind an output of len values. `out` given: written there (Tensor / wasm view directly, a
   * plain Float32Array at result()). Not given: a new Tensor when `asTensor`, else a new
   * Float32Array copied out at result(). A wasm `out` may be an input exactly (in place), never
   * overlap one in part.
   */
  output(name: string, out: unknown, len: number, asTensor: boolean, shape?: number[], layout?: string): Out {
    if (this.committed) throw new Error("internal: output() after commit()");
    let o = this.outs[this.nOuts];
    if (o === undefined) this.outs.push((o = { name, ptr: -1, len, dest: undefined, tensor: undefined, plain: false, shape: undefined, layout: undefined, given: false }));
    o.name = name; o.ptr = -1; o.len = len; o.dest = undefined; o.tensor = undefined; o.plain = false; o.shape = undefined; o.layout = undefined; o.given = false;
    if (out === undefined || out === null) {
      if (asTensor) { o.shape = shape; o.layout = layout; } else o.plain = true;
      this.pendingBytes += len * 4 + 16;
    } else {
      o.given = true;
      if (isTensor(out)) {
        o.ptr = bindTensor(name, out, len);
        o.tensor = out;
        if (shape) sameShape(name, out, shape, layout!);
      } else {
        o.ptr = bindArray(name, out, len);
        o.dest = out as Float32Array;
        if (o.ptr < 0) { o.plain = true; this.pendingBytes += len * 4 + 16; }
      }
      if (o.ptr >= 0) this.checkOverlap(o);
      this.checkOutputs(o);
    }
    this.nOuts++; // (counted once bound: a refused output is not one of the call's)
    return o;
  }

  /**
   * Two outputs of a call (skip norms' out and sumOut, the pool's shard outputs) never share
   * memory, whole or in part, in wasm memory or in the JS heap: each would overwrite the other.
   * (Where an output lives: wasm memory — buffer null, byte pointers — or a JS-heap buffer.)
   */
  private checkOutputs(o: Out): void {
    const buf = o.ptr >= 0 ? null : typedBuffer(o.dest!), start = o.ptr >= 0 ? o.ptr : typedOffset(o.dest!), end = start + 4 * o.len;
    for (let i = 0; i < this.nOuts; i++) {
      const r = this.outs[i];
      if (!r.given) continue;
      const rbuf = r.ptr >= 0 ? null : typedBuffer(r.dest!), rstart = r.ptr >= 0 ? r.ptr : typedOffset(r.dest!), rend = rstart + 4 * r.len;
      if (rbuf === buf && rstart < end && start < rend) {
        throw new Error(`${o.name} and ${r.name} must be different arrays, not overlapping: both are outputs of the call (${o.name} ${o.ptr >= 0 ? "in wasm memory" : "in the JS heap"}, bytes ${start}…${end}, ${r.name} ${rstart}…${rend})`);
      }
    }
  }

  /** An output in wasm memory may coincide with an input (in place) but not overlap it in part. */
  private checkOverlap(o: Out): void {
    const end = o.ptr + 4 * o.len;
    for (let i = 0; i < this.nArgs; i++) {
      const a = this.args[i];
      if (a.ptr < 0 || (a.ptr === o.ptr && a.len === o.len)) continue;
      if (a.ptr < end && o.ptr < a.ptr + 4 * a.len) {
        throw new Error(`${o.name} overlaps ${a.name} in part (${o.name} starts ${Math.abs(o.ptr - a.ptr)} bytes ${o.ptr >= a.ptr ? "after" : "before"} it): pass ${a.name} itself to work in place, or memory of its own`);
      }
    }
  }

  /** Reserve memory for copies and temporaries (bytes), then copy inputs in. */
  commit(tempBytes = 0): void {
    // Temporaries come from the heap's stage when it fits them (always, unless nested).
    const staged = this.useStage && this.heap.stageEnsure(tempBytes);
    this.heap.reserve(this.pendingBytes + (staged ? 0 : tempBytes));
    this.committed = true;
    for (let i = 0; i < this.nArgs; i++) {
      const a = this.args[i];
      if (a.ptr >= 0) continue;
      a.ptr = this.temp(a.len * 4);
      this.heap.F32.set(a.src!, a.ptr >>> 2);
    }
    for (let i = 0; i < this.nOuts; i++) {
      const o = this.outs[i];
      if (o.ptr >= 0) continue;
      if (o.shape) {
        const ptr = this.heap.alloc(o.len * 4);
        o.ptr = ptr;
        o.tensor = resultTensor(o.shape, o.layout as Layout, ptr);
      } else o.ptr = this.temp(o.len * 4);
    }
  }

  /** A temporary freed by dispose(). 16-byte aligned. Not zeroed. */
  temp(bytes: number): number {
    if (this.useStage) {
      const s = this.heap.stageAlloc(bytes);
      if (s >= 0) return s;
    }
    const p = this.heap.alloc(bytes);
    (this.temps ??= []).push(p);
    return p;
  }

  /** Copy small f32 params into a temporary. */
  f32(values: ArrayLike<number>): number {
    const p = this.temp(values.length * 4);
    this.heap.F32.set(values as ArrayLike<number>, p >>> 2);
    return p;
  }

  /** Copy small f64 values into a temporary. */
  f64(values: ArrayLike<number>): number {
    const p = this.temp(values.length * 8);
    this.heap.F64.set(values as ArrayLike<number>, p >>> 3);
    return p;
  }

  /** The result value for an output: Tensor, the caller's array, or a fresh copy. */
  result(o: Out): Float32Array | Tensor {
    if (o.tensor) return o.tensor;
    // A view of wasm memory the call's allocations detached: the same bytes, viewed afresh.
    if (o.dest && !o.plain) return typedLength(o.dest) === o.len ? o.dest : this.heap.f32(o.ptr, o.len);
    const view = this.heap.f32(o.ptr, o.len);
    if (o.dest) { typedSet(o.dest, view); return o.dest; }
    return view.slice();
  }

  /** Free temporaries; on failure also free tensors this call created. */
  dispose(failed = false): void {
    if (this.useStage) this.heap.stageTop = this.mark;
    if (this.temps) { for (const p of this.temps) this.heap.release(p); this.temps = null; }
    if (failed) {
      for (let i = 0; i < this.nOuts; i++) { const o = this.outs[i]; if (o.shape && o.tensor) o.tensor.free(); }
    }
  }
}

const STALE = "is a view of wasm memory from before it grew (now detached, length 0): take a fresh view, e.g. tensor.data, after allocating";

/** Throw when v is a view of wasm memory detached by a growth (it would read as empty). */
export function checkNotStale(name: string, v: unknown): void {
  if (typedKind(v) === "Float32Array" && typedLength(v as Float32Array) === 0 && rt().heap.past.has(typedBuffer(v as Float32Array))) {
    throw new Error(`${name} ${STALE}`);
  }
}

/** A tensor's length; a freed one throws naming the argument. */
function liveLength(name: string, t: Tensor): number {
  if (t.freed) throw new Error(`${name} is a freed tensor: it can no longer be used`);
  return t.length;
}

/** The length of a big argument (Tensor or Float32Array), or throws naming what it is instead. */
export function bigLength(name: string, v: unknown): number {
  if (isTensor(v)) return liveLength(name, v);
  if (typedKind(v) === "Float32Array") { checkNotStale(name, v); return typedLength(v as Float32Array); }
  throw new Error(`${name} must be a Float32Array or a simdnorm Tensor, got ${fmt(v)}`);
}

/**
 * Where a big Tensor argument of len values lives: its pointer (it must be live, of len values,
 * and an allocation of the module's heap).
 */
function bindTensor(name: string, t: Tensor, len: number): number {
  // bigLength's checks for a tensor (this runs for every x, dy and out).
  const n = liveLength(name, t);
  if (n !== len) throw new Error(`${name} holds ${n} values, expected ${len}`);
  if (rt().heap.sizeOf(t.ptr) < 4 * len) throw new Error(`${name} is not a live tensor of the module's heap`);
  return t.ptr;
}

/**
 * Where a big argument of len values that is no Tensor lives: a pointer into wasm memory (a
 * live Tensor's data view, or a view inside one live allocation), else −1 (a JS Float32Array to
 * copy in). Length, buffer and offset are read through the typed-array intrinsics.
 */
function bindArray(name: string, v: unknown, len: number): number {
  const heap = rt().heap;
  const n = bigLength(name, v);
  if (n !== len) throw new Error(`${name} holds ${n} values, expected ${len}`);
  const f = v as Float32Array, b = typedBuffer(f);
  if (b !== heap.buffer && !heap.past.has(b)) return -1;
  const ptr = typedOffset(f), owner = ownerOf(f);
  if (owner) {
    if (owner.freed) throw new Error(`${name} is the data view of a freed tensor: its memory may belong to another tensor now`);
    return ptr;
  }
  if (!heap.inLiveBlock(ptr, 4 * len)) {
    throw new Error(`${name} is a view of wasm memory outside any live allocation (byte ${ptr}, ${4 * len} bytes): only a live Tensor or a view inside one may be passed`);
  }
  return ptr;
}

/** Run fn with a scope; temporaries are always freed, created tensors freed on failure. */
export function withScope<T>(fn: (s: Scope) => T): T {
  const s = Scope.open();
  try {
    const r = fn(s);
    s.dispose(false);
    return r;
  } catch (e) {
    s.dispose(true);
    throw e;
  } finally {
    s.close();
  }
}

/**
 * Scopes of finished synchronous calls, reused by the next ones (withScope): a call allocates no
 * Scope and no binding records, and touches the same few objects every time (docs/performance.md,
 * per-call cost). Nested calls take further scopes; at most POOL_MAX are kept.
 */
const FREE: Scope[] = [];
const POOL_MAX = 4;

/**
 * @internal
 * An output Tensor is returned as the result: it must carry the result's shape and layout (also
 * checked by the worker pool's message transport, which binds no Scope: js/workers/op-memory.ts).
 * An input Tensor read alongside x (dy, skip, dsum: `like` names x) must carry x's: the kernels
 * read it in x's layout.
 */
export function sameShape(name: string, t: Tensor, shape: number[], layout: string, like?: string): void {
  const ts = t.geo.shape; // the validated shape (a plain loop: this runs on every call with an out Tensor)
  let same = t.layout === layout && ts.length === shape.length;
  for (let i = 0; same && i < ts.length; i++) same = ts[i] === shape[i];
  if (same) return;
  const whose = like === undefined ? "the result has" : `${like} has`;
  throw new Error(`${name} is a Tensor of shape ${fmtShape(t.shape)} (${t.layout}), ${whose} shape ${fmtShape(shape)} (${layout}): pass a Tensor of that shape and layout, or a Float32Array`);
}
