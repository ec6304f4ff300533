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

interface Arg { name: string; ptr: number; len: number; src?: Float32Array; }
interface Out { name: string; ptr: number; len: number; dest?: Float32Array; tensor?: Tensor; plain: boolean; }

export class Scope {
  readonly heap: Heap;
  private temps: number[] = [];
  private args: Arg[] = [];
  private outs: Out[] = [];
  /** Where the outputs the caller gave live: wasm memory (buf null, byte pointers) or a JS-heap buffer. */
  private given: { name: string; buf: ArrayBufferLike | null; start: number; end: number }[] = [];
  private pendingBytes = 0;
  private committed = false;
  /** The heap's stage top when this call began: dispose() gives back everything above it. */
  private readonly mark: number;
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

  /** Bind a big input of len float32 values. */
  input(name: string, v: unknown, len: number): Arg {
    if (this.committed) throw new Error("internal: input() after commit()");
    const w = bindBig(name, v, len);
    const a: Arg = w.ptr >= 0 ? { name, ptr: w.ptr, len } : { name, ptr: -1, len, src: w.src };
    if (w.ptr < 0) this.pendingBytes += len * 4 + 16;
    this.args.push(a);
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
    let o: Out;
    if (out === undefined || out === null) {
      if (asTensor) {
        o = { name, ptr: -1, len, plain: false };
        (o as Out & { make: [number[], string] }).make = [shape!, layout!];
      } else o = { name, ptr: -1, len, plain: true };
      this.pendingBytes += len * 4 + 16;
    } else {
      const w = bindBig(name, out, len);
      if (w.tensor && shape) sameShape(name, w.tensor, shape, layout!);
      if (w.tensor) o = { name, ptr: w.ptr, len, tensor: w.tensor, plain: false };
      else if (w.ptr >= 0) o = { name, ptr: w.ptr, len, dest: out as Float32Array, plain: false };
      else { o = { name, ptr: -1, len, dest: out as Float32Array, plain: true }; this.pendingBytes += len * 4 + 16; }
      if (o.ptr >= 0) this.checkOverlap(o);
      this.checkOutputs(o, out as Float32Array);
    }
    this.outs.push(o);
    return o;
  }

  /**
   * Two outputs of a call (skip norms' out and sumOut, the pool's shard outputs) never share
   * memory, whole or in part, in wasm memory or in the JS heap: each would overwrite the other.
   */
  private checkOutputs(o: Out, out: Float32Array): void {
    const buf = o.ptr >= 0 ? null : typedBuffer(out), start = o.ptr >= 0 ? o.ptr : typedOffset(out), end = start + 4 * o.len;
    for (const r of this.given) {
      if (r.buf === buf && r.start < end && start < r.end) {
        throw new Error(`${o.name} and ${r.name} must be different arrays, not overlapping: both are outputs of the call (${o.name} ${o.ptr >= 0 ? "in wasm memory" : "in the JS heap"}, bytes ${start}…${end}, ${r.name} ${r.start}…${r.end})`);
      }
    }
    this.given.push({ name: o.name, buf, start, end });
  }

  /** An output in wasm memory may coincide with an input (in place) but not overlap it in part. */
  private checkOverlap(o: Out): void {
    const end = o.ptr + 4 * o.len;
    for (const a of this.args) {
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
    for (const a of this.args) {
      if (a.ptr >= 0) continue;
      a.ptr = this.temp(a.len * 4);
      this.heap.F32.set(a.src!, a.ptr >>> 2);
    }
    for (const o of this.outs) {
      if (o.ptr >= 0) continue;
      const make = (o as Out & { make?: [number[], string] }).make;
      if (make) {
        const ptr = this.heap.alloc(o.len * 4);
        o.ptr = ptr;
        o.tensor = resultTensor(make[0], make[1] as Layout, ptr);
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
    this.temps.push(p);
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
    for (const p of this.temps) this.heap.release(p);
    this.temps = [];
    if (failed) {
      for (const o of this.outs) {
        const make = (o as Out & { make?: unknown }).make;
        if (make && o.tensor) o.tensor.free();
      }
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
 * Where a big argument of len values lives: a pointer into wasm memory (a live Tensor, its data
 * view, or a view inside one live allocation), else a JS Float32Array to copy in (ptr −1).
 * Length, buffer and offset are read through the typed-array intrinsics.
 */
function bindBig(name: string, v: unknown, len: number): { ptr: number; src?: Float32Array; tensor?: Tensor } {
  const heap = rt().heap;
  if (isTensor(v)) {
    // bigLength's checks for a tensor, with one WeakSet lookup (this runs for every x, dy and out).
    const n = liveLength(name, v);
    if (n !== len) throw new Error(`${name} holds ${n} values, expected ${len}`);
    if (heap.sizeOf(v.ptr) < 4 * len) throw new Error(`${name} is not a live tensor of the module's heap`);
    return { ptr: v.ptr, tensor: v };
  }
  const n = bigLength(name, v);
  if (n !== len) throw new Error(`${name} holds ${n} values, expected ${len}`);
  const f = v as Float32Array, b = typedBuffer(f);
  if (b !== heap.buffer && !heap.past.has(b)) return { ptr: -1, src: f };
  const ptr = typedOffset(f), owner = ownerOf(f);
  if (owner) {
    if (owner.freed) throw new Error(`${name} is the data view of a freed tensor: its memory may belong to another tensor now`);
    return { ptr };
  }
  if (!heap.inLiveBlock(ptr, 4 * len)) {
    throw new Error(`${name} is a view of wasm memory outside any live allocation (byte ${ptr}, ${4 * len} bytes): only a live Tensor or a view inside one may be passed`);
  }
  return { ptr };
}

/** Run fn with a scope; temporaries are always freed, created tensors freed on failure. */
export function withScope<T>(fn: (s: Scope) => T): T {
  const s = new Scope();
  try {
    const r = fn(s);
    s.dispose(false);
    return r;
  } catch (e) {
    s.dispose(true);
    throw e;
  }
}

/**
 * @internal
 * An output Tensor is returned as the result: it must carry the result's shape and layout (also
 * checked by the worker pool's message transport, which binds no Scope: js/workers/op-memory.ts).
 */
export function sameShape(name: string, t: Tensor, shape: number[], layout: string): void {
  const ts = t.geo.shape; // the validated shape (a plain loop: this runs on every call with an out Tensor)
  let same = t.layout === layout && ts.length === shape.length;
  for (let i = 0; same && i < ts.length; i++) same = ts[i] === shape[i];
  if (same) return;
  throw new Error(`${name} is a Tensor of shape ${fmtShape(t.shape)} (${t.layout}), the result has shape ${fmtShape(shape)} (${layout}): pass a Tensor of that shape and layout, or a Float32Array`);
}
