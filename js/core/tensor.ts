// Tensors that live in wasm memory: passing one to an op costs no copy.
import { rt } from "./runtime";
import { geometry, knownGeometry, fmtShape, type Geometry, type Layout } from "./layout";
import { fmt, copyArray } from "./errors";
import { typedKind, typedLength, typedSet } from "./typed";

/** Views handed out by `Tensor.data`, and their tensor: such a view is usable while its tensor lives. */
const owners = new WeakMap<object, Tensor>();

/** Every Tensor made by this module (a Proxy of one, or an object posing as one, is not). */
const made = new WeakSet<object>();

/**
 * The last tensors isTensor found in `made` (a ring of four): an op call asks for the same two or
 * three tensors 4–8 times (geometry, sizes, binding), and each WeakSet lookup costs ~15 ns
 * (docs/performance.md, per-call cost). `made` only grows, so a remembered answer stays true.
 * It keeps up to four Tensor objects reachable (small objects: their memory is what free()
 * releases, and a freed tensor is refused by its `freed` flag as before).
 */
const seen: (object | null)[] = [null, null, null, null];
let seenAt = 0;

/** True when v is one of the tensors isTensor remembers (no lookup: a miss says nothing). @internal */
export function rememberedTensor(v: unknown): boolean {
  return v === seen[0] || v === seen[1] || v === seen[2] || v === seen[3];
}

/** True for a real Tensor of this module. @internal */
export function isTensor(v: unknown): v is Tensor {
  if (typeof v !== "object" || v === null) return false;
  if (rememberedTensor(v)) return true;
  if (!made.has(v)) return false;
  seen[seenAt] = v;
  seenAt = (seenAt + 1) & 3;
  return true;
}

/** The tensor whose `data` v is (undefined for any other view). @internal */
export function ownerOf(v: object): Tensor | undefined { return owners.get(v); }

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

  /**
   * Use `tensor()` instead: a Tensor owns its allocation, which only this module makes (a Tensor
   * made on another one's memory would free it behind its back). To use a tensor's values in
   * another shape without a copy, pass `t.data` with `{ shape, layout }`.
   */
  constructor(shape: number[], layout: Layout, ptr: number) {
    const ours = minting; // the token is taken once (tensor() sets it just before)
    minting = false;
    if (!ours && !trusted) throw new Error(`Tensor: use tensor(shape, layout, values?) to allocate one (a Tensor owns its allocation; to use a tensor's values in another shape without a copy, pass t.data with { shape, layout })`);
    const g = trusted ? knownGeometry(shape, layout) : geometry(shape, layout);
    const have = typeof ptr === "number" ? rt().heap.sizeOf(ptr) : 0;
    if (have < g.size * 4) throw new Error(`Tensor: ptr must be the start of a live allocation of at least ${g.size * 4} bytes, got ${fmt(ptr)}${have ? ` (a block of ${have} bytes)` : ""}`);
    // A literal, not { ...g, shape }: on Node 18/20 that gives every tensor's geometry a hidden
    // class of its own (~1 µs to make, megamorphic for every op that reads it).
    this.geo = Object.freeze({ shape: g.shape.slice(), layout: g.layout, N: g.N, C: g.C, S: g.S, size: g.size, channelsLast: g.channelsLast });
    this.shape = g.shape;
    this.layout = layout;
    this.length = g.size;
    this._ptr = ptr;
    made.add(this);
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
    if (!this._view || this._view.buffer !== buf) {
      this._view = new Float32Array(buf, this.ptr, this.length);
      owners.set(this._view, this);
    }
    return this._view;
  }

  /** Copy values in (length must match). */
  set(values: ArrayLike<number>): this {
    typedSet(this.data, numericValues("values", values, this.length, "the tensor holds"));
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

/** Set while resultTensor constructs: the shape and layout come from a validated geometry. */
let trusted = false;
/** Set while tensor() constructs on its fresh allocation (the constructor is this module's alone). */
let minting = false;

/**
 * @internal A Tensor an op returns: ptr is its fresh allocation, shape and layout those of a
 * geometry the op already validated, so the constructor does not validate them again.
 */
export function resultTensor(shape: number[], layout: Layout, ptr: number): Tensor {
  trusted = true;
  try { return new Tensor(shape, layout, ptr); } finally { trusted = false; }
}

/**
 * Allocate a tensor in wasm memory, zero-filled or filled from `values`.
 * @throws if the shape does not fit the layout, or values has the wrong length.
 */
export function tensor(shape: number[], layout: Layout, values?: ArrayLike<number>): Tensor {
  const g = geometry(shape, layout);
  let v = values === undefined ? undefined : numericValues("values", values, g.size, `the shape ${fmtShape(g.shape)} needs`);
  const heap = rt().heap;
  // values viewing wasm memory (another tensor's data): the allocation may grow the memory and
  // detach that view, so it is taken again on the memory's buffer afterwards.
  // (A detached view reads byteOffset 0: it is taken before.)
  const old = v && (v as unknown as ArrayBufferView).buffer === heap.memory.buffer ? (v as Float32Array) : null, at = old ? old.byteOffset : 0;
  const p = v ? heap.alloc(g.size * 4) : heap.allocZeroed(g.size * 4);
  minting = true;
  const t = new Tensor(g.shape, layout, p);
  if (old && old.buffer !== heap.memory.buffer) {
    const View = old.constructor as new (b: ArrayBufferLike, at: number, n: number) => Float32Array;
    v = new View(heap.memory.buffer, at, g.size);
  }
  if (v) typedSet(t.data, v);
  return t;
}

/**
 * Values to copy into a tensor: a typed array (its true length, whatever a subclass says) or
 * an Array of numbers (NaN allowed), each element read once. The length must be n (checked
 * before anything is read or allocated); `need` says who needs n in the message.
 */
function numericValues(name: string, v: unknown, n: number, need: string): ArrayLike<number> {
  const kind = typedKind(v);
  const len = kind ? typedLength(v as ArrayBufferView) : Array.isArray(v) ? v.length : -1;
  if (len >= 0 && len !== n) throw new Error(`${name} has ${len} values, ${need} ${n}`);
  // A typed array is copied by the intrinsic set, which reads its contents, not its getters.
  if (kind && !kind.startsWith("Big")) return v as ArrayLike<number>;
  if (!Array.isArray(v)) throw new Error(`${name} must be an Array of numbers or a typed array, got ${fmt(v)}`);
  return copyArray(name, v);
}

/** Anything an op accepts as a big input: a wasm tensor or a Float32Array (any buffer). */
export type TensorLike = Tensor | Float32Array;
