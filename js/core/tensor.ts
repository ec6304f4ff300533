// Tensors that live in wasm memory: passing one to an op costs no copy.
import { rt } from "./runtime";
import { geometry, type Geometry, type Layout } from "./layout";

/**
 * A float32 tensor in the module's memory. Read and write it through `data`, a Float32Array view
 * that is re-created whenever memory has grown (never keep `data` across an op call or an
 * allocation: a stale view has length 0 and drops writes). Call `free()` when done.
 */
export class Tensor {
  readonly shape: number[];
  readonly layout: Layout;
  /** Number of float32 values. */
  readonly length: number;
  private _ptr: number;
  private _view: Float32Array | null = null;
  /** @internal The validated geometry, reused by every op on this tensor. */
  readonly geo: Readonly<Geometry>;

  /** Use `tensor()` instead. */
  constructor(shape: number[], layout: Layout, ptr: number) {
    const g = geometry(shape, layout);
    this.geo = Object.freeze({ ...g, shape: g.shape.slice() });
    this.shape = g.shape;
    this.layout = layout;
    this.length = g.size;
    this._ptr = ptr;
  }

  /** Byte offset of the first value in wasm memory. Throws once freed. */
  get ptr(): number {
    if (this._ptr < 0) throw new Error("this tensor was freed: it can no longer be used");
    return this._ptr;
  }

  get freed(): boolean { return this._ptr < 0; }

  /** A Float32Array view of the values, current after any memory growth. */
  get data(): Float32Array {
    const buf = rt().heap.buffer;
    if (!this._view || this._view.buffer !== buf) this._view = new Float32Array(buf, this.ptr, this.length);
    return this._view;
  }

  /** Copy values in (length must match). */
  set(values: ArrayLike<number>): this {
    if (values.length !== this.length) throw new Error(`values has ${values.length} values, the tensor holds ${this.length}`);
    this.data.set(values);
    return this;
  }

  /** A copy of the values in a plain (JS-heap) Float32Array. */
  toArray(): Float32Array { return this.data.slice(); }

  /** Give the memory back. Using the tensor afterwards throws. Freeing twice is a no-op. */
  free(): void {
    if (this._ptr < 0) return;
    rt().heap.release(this._ptr);
    this._ptr = -1;
    this._view = null;
  }
}

/**
 * Allocate a tensor in wasm memory, zero-filled or filled from `values`.
 * @throws if the shape does not fit the layout, or values has the wrong length.
 */
export function tensor(shape: number[], layout: Layout, values?: ArrayLike<number>): Tensor {
  const g = geometry(shape, layout);
  if (values && values.length !== g.size) throw new Error(`values has ${values.length} values, the shape ${JSON.stringify(g.shape)} needs ${g.size}`);
  const heap = rt().heap;
  const ptr = heap.alloc(g.size * 4);
  const t = new Tensor(g.shape, layout, ptr);
  if (values) t.data.set(values);
  else t.data.fill(0);
  return t;
}

/** Anything an op accepts as a big input: a wasm tensor or a Float32Array (any buffer). */
export type TensorLike = Tensor | Float32Array;
