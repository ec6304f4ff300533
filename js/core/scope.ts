// One op call's view of memory: binds big inputs and outputs (zero-copy when they already live
// in wasm memory, else copied in once / out once), hands out temporaries, frees everything.
//
// Order matters: an allocation can grow memory and detach every view of the old buffer,
// including the caller's zero-copy Float32Arrays. So all arguments are classified first
// (pointers read while views are live), then the needed bytes are reserved in one step, then
// copies are made. Nothing the caller gave is written until `result()`.
import { rt } from "./runtime";
import { Tensor } from "./tensor";
import type { Heap } from "./heap";

interface Arg { name: string; ptr: number; len: number; src?: Float32Array; }
interface Out { name: string; ptr: number; len: number; dest?: Float32Array; tensor?: Tensor; plain: boolean; }

export class Scope {
  readonly heap: Heap;
  private temps: number[] = [];
  private args: Arg[] = [];
  private outs: Out[] = [];
  private pendingBytes = 0;
  private committed = false;
  /** The heap's stage top when this call began: dispose() gives back everything above it. */
  private readonly mark: number;
  private readonly useStage: boolean;

  /**
   * `stage: false` for a scope that outlives a synchronous call (the worker pool's op memory, held
   * across awaits): the stage is released last-in first-out, which only synchronous calls
   * guarantee, so such a scope takes its temporaries from the heap.
   */
  constructor({ stage = true }: { stage?: boolean } = {}) {
    this.heap = rt().heap;
    this.useStage = stage;
    this.mark = this.heap.stageTop;
  }

  /** Pointer of a view that already lives in wasm memory, else -1. */
  private wasmPtr(name: string, v: Float32Array): number {
    const b = v.buffer;
    if (b === this.heap.buffer) return v.byteOffset;
    if (this.heap.past.has(b)) {
      if (v.byteLength === 0 && v.length === 0) {
        throw new Error(`${name} is a view of wasm memory from before it grew (now detached, length 0): take a fresh view, e.g. tensor.data, after allocating`);
      }
      return v.byteOffset; // shared memory: older views stay valid
    }
    return -1;
  }

  /** Bind a big input of len float32 values. */
  input(name: string, v: unknown, len: number): Arg {
    if (this.committed) throw new Error("internal: input() after commit()");
    let a: Arg;
    if (v instanceof Tensor) {
      if (v.freed) throw new Error(`${name} is a freed tensor: it can no longer be used`);
      if (v.length !== len) throw new Error(`${name} holds ${v.length} values, expected ${len}`);
      a = { name, ptr: v.ptr, len };
    } else if (v instanceof Float32Array) {
      if (v.length !== len) throw new Error(`${name} holds ${v.length} values, expected ${len}`);
      const p = this.wasmPtr(name, v);
      if (p >= 0) a = { name, ptr: p, len };
      else { a = { name, ptr: -1, len, src: v }; this.pendingBytes += len * 4 + 16; }
    } else {
      throw new Error(`${name} must be a Float32Array or a simdnorm Tensor, got ${describe(v)}`);
    }
    this.args.push(a);
    return a;
  }

  /**
   * Bind an output of len values. `out` given: written there (Tensor / wasm view directly, a
   * plain Float32Array at result()). Not given: a new Tensor when `asTensor`, else a new
   * Float32Array copied out at result().
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
    } else if (out instanceof Tensor) {
      if (out.freed) throw new Error(`${name} is a freed tensor: it can no longer be used`);
      if (out.length !== len) throw new Error(`${name} holds ${out.length} values, expected ${len}`);
      o = { name, ptr: out.ptr, len, tensor: out, plain: false };
    } else if (out instanceof Float32Array) {
      if (out.length !== len) throw new Error(`${name} holds ${out.length} values, expected ${len}`);
      const p = this.wasmPtr(name, out);
      if (p >= 0) o = { name, ptr: p, len, dest: out, plain: false };
      else { o = { name, ptr: -1, len, dest: out, plain: true }; this.pendingBytes += len * 4 + 16; }
    } else {
      throw new Error(`${name} must be a Float32Array or a simdnorm Tensor, got ${describe(out)}`);
    }
    this.outs.push(o);
    return o;
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
        o.tensor = new Tensor(make[0], make[1] as never, ptr);
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
    if (o.dest && !o.plain) return o.dest;
    const view = this.heap.f32(o.ptr, o.len);
    if (o.dest) { o.dest.set(view); return o.dest; }
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

/** Throw when v is a view of wasm memory detached by a growth (it would read as empty). */
export function checkNotStale(name: string, v: unknown): void {
  if (v instanceof Float32Array && v.length === 0 && rt().heap.past.has(v.buffer)) {
    throw new Error(`${name} is a view of wasm memory from before it grew (now detached, length 0): take a fresh view, e.g. tensor.data, after allocating`);
  }
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (ArrayBuffer.isView(v)) return (v as object).constructor.name;
  if (Array.isArray(v)) return "an Array";
  return typeof v;
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
