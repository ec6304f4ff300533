// Byte images as op input: what counts as one (Uint8Array, Uint8ClampedArray, ImageData, an
// array of them, one buffer of N images), their validation, and feeding their bytes to a
// kernel in runs that never cross an image boundary. Bytes in the JS heap are copied into wasm
// memory a chunk at a time (the chunk stays in cache for the kernel that reads it next); a view
// of wasm memory is read in place.
import type { Scope } from "../core/scope";
import { Tensor } from "../core/tensor";
import { rt } from "../core/runtime";
import { typedKind, typedLength, typedBuffer, typedOffset } from "../core/typed";
import { fmt, isWasmBuffer } from "../core/errors";

/** An ImageData or anything shaped like one (a decoded image: RGBA bytes, width, height). */
export interface ImageDataLike { readonly data: Uint8ClampedArray | Uint8Array; readonly width: number; readonly height: number }
/** One image's interleaved bytes. */
export type PixelImage = Uint8Array | Uint8ClampedArray | ImageDataLike;
/** One image, one buffer of N images back to back, or an array of images (a batch). */
export type Pixels = PixelImage | readonly PixelImage[];

/** How to read byte images. width/height come from ImageData when not given. */
export interface PixelShape {
  /** Pixels per row. */
  width?: number;
  /** Rows per image. */
  height?: number;
  /** Bytes per pixel: 4 (RGBA, alpha dropped; the default) or 3 (RGB). ImageData is always 4. */
  channels?: 3 | 4;
}

/** @internal Validated geometry of a batch of byte images. */
export interface PixelGeometry { N: number; H: number; W: number; C: 3 | 4; parts: Part[] }
/** A run of whole images: its bytes, where they start in their buffer, how many. */
interface Part { bytes: Uint8Array; buffer: ArrayBufferLike; off: number; len: number }

function isBytes(v: unknown): v is Uint8Array | Uint8ClampedArray {
  const t = typedKind(v);
  return t === "Uint8Array" || t === "Uint8ClampedArray";
}

function isImageData(v: unknown): v is ImageDataLike {
  // A Tensor has a `data` getter too (that throws once freed): never read it here.
  return typeof v === "object" && v !== null && !ArrayBuffer.isView(v) && !Array.isArray(v) && !(v instanceof Tensor) && isBytes((v as ImageDataLike).data);
}

/** True for anything fromPixels / channelStats read as byte images (not for Float32Array or Tensor). */
export function isPixels(v: unknown): v is Pixels {
  return isBytes(v) || isImageData(v) || (Array.isArray(v) && v.length > 0 && (isBytes(v[0]) || isImageData(v[0])));
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${fmt(v)}`);
  return v;
}

/** Buffer, offset and length read once; a plain Uint8Array over the bytes (clamped holds 0…255 too). */
function partOf(v: Uint8Array | Uint8ClampedArray, len: number): Part {
  const buffer = typedBuffer(v), off = typedOffset(v);
  const plain = Object.getPrototypeOf(v) === Uint8Array.prototype;
  return { bytes: plain ? (v as Uint8Array) : new Uint8Array(buffer, off, len), buffer, off, len };
}

/**
 * @internal
 * Resolve and validate byte images: every image has width·height·channels bytes, a single
 * buffer holds a whole number (≥ 1) of them. Throws naming the argument, expected and actual.
 */
export function pixelGeometry(pixels: unknown, o: PixelShape, name = "pixels"): PixelGeometry {
  if (typeof o !== "object" || o === null) throw new Error(`options must be an object with width, height and channels, got ${fmt(o)}`);
  const batch = Array.isArray(pixels);
  const list: unknown[] = batch ? Array.from(pixels as unknown[]) : [pixels]; // dense: holes become undefined
  if (list.length === 0) throw new Error(`${name} is an empty array: a batch needs at least one image`);
  // Every image's data, width and height read once (a getter cannot change them mid-call).
  const imgs = batch ? list.map(read) : [read(pixels)];
  let w0: unknown = o.width, h0: unknown = o.height, C: unknown = o.channels;
  let first: ReturnType<typeof read> | undefined;
  for (const m of imgs) if (m.w !== undefined) { first = m; break; }
  if (first) {
    if (w0 !== undefined && w0 !== first.w) throw new Error(`width is ${fmt(w0)}, the ImageData is ${fmt(first.w)} pixels wide`);
    if (h0 !== undefined && h0 !== first.h) throw new Error(`height is ${fmt(h0)}, the ImageData is ${fmt(first.h)} pixels high`);
    if (C !== undefined && C !== 4) throw new Error(`channels is ${fmt(C)}, ImageData holds 4 (RGBA)`);
    w0 = first.w; h0 = first.h; C = 4;
  }
  if (w0 === undefined || h0 === undefined) throw new Error(`width and height are required for ${name} given as bytes, got width ${fmt(w0)}, height ${fmt(h0)}`);
  const W = positiveInt("width", w0), H = positiveInt("height", h0);
  C ??= 4;
  if (C !== 3 && C !== 4) throw new Error(`channels must be 3 (RGB) or 4 (RGBA), got ${fmt(C)}`);
  const per = W * H * C;
  const parts: Part[] = [];
  let N = 0;
  for (let i = 0; i < imgs.length; i++) {
    const { bytes, w, h } = imgs[i], at = batch ? `${name}[${i}]` : name;
    if (!bytes) throw new Error(`${at} must be a Uint8Array, Uint8ClampedArray or ImageData${batch ? "" : " (or an array of them)"}, got ${fmt(list[i])}`);
    if (w !== undefined && (w !== W || h !== H)) throw new Error(`${at} is ${fmt(w)}×${fmt(h)}, the batch is ${W}×${H}`);
    const len = typedLength(bytes), k = len / per;
    const many = !batch && w === undefined;
    if (len === 0 || !Number.isInteger(k) || (!many && k !== 1)) {
      throw new Error(`${at} has ${len} bytes, width × height × channels = ${W} × ${H} × ${C} = ${per} per image${many ? ": not a whole number of images" : ""}`);
    }
    const part = partOf(bytes, len);
    checkLive(at, part);
    parts.push(part);
    N += k;
  }
  if (N * W * H * 3 > 0x3fffffff) throw new Error(`${N} images of ${W}×${H} hold ${N * W * H * 3} values: more than wasm32 memory can address`);
  return { N, H, W, C: C as 3 | 4, parts };
}

/** Bytes in wasm memory are read in place: only inside one live allocation (never freed memory). */
function checkLive(name: string, p: Part): void {
  if (!isWasmBuffer(p.buffer)) return;
  if (!rt().heap.inLiveBlock(p.off, p.len)) {
    throw new Error(`${name} is a view of wasm memory outside any live allocation (byte ${p.off}, ${p.len} bytes): only a view inside a live Tensor's memory may be passed`);
  }
}

/** An image's bytes (undefined when it is none of the accepted kinds) and, for ImageData, its size. */
function read(v: unknown): { bytes?: Uint8Array | Uint8ClampedArray; w?: unknown; h?: unknown } {
  if (isBytes(v)) return { bytes: v };
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Tensor) return {};
  const d = (v as ImageDataLike).data;
  return isBytes(d) ? { bytes: d, w: (v as ImageDataLike).width, h: (v as ImageDataLike).height } : {};
}

/** @internal Pixels per chunk copied from the JS heap: 128 KB of RGBA, still in L2 when the kernel reads it. */
export const CHUNK_PIXELS = 32768;

/** @internal Bytes of stage memory feedRuns needs (call before Scope.commit and add to its estimate). */
export const runBytes = (g: PixelGeometry): number => Math.min(CHUNK_PIXELS, g.N * g.H * g.W) * g.C + 16;

let view: Uint8Array | null = null;
/** One Uint8Array over wasm memory, re-made only when memory has grown. */
function bytesView(b: ArrayBufferLike): Uint8Array {
  if (!view || view.buffer !== b) view = new Uint8Array(b);
  return view;
}

/**
 * @internal
 * Call run(ptr, first, count) for runs of pixels, in order: ptr = wasm address of the run's
 * bytes, first = index of its first pixel in the whole batch (n·H·W + pixel), count ≤ one image.
 * `buf` is a runBytes(g) temporary; call after Scope.commit (nothing here allocates).
 */
export function feedRuns(s: Scope, g: PixelGeometry, buf: number, run: (ptr: number, first: number, count: number) => void): void {
  const S = g.H * g.W, C = g.C, wasm = s.heap.buffer;
  let first = 0;
  for (const part of g.parts) {
    const total = part.len / C;
    // A view of wasm memory (or of it before it grew: the address still holds the bytes).
    const inWasm = isWasmBuffer(part.buffer);
    const U8 = inWasm ? null : bytesView(wasm);
    for (let i = 0; i < total;) {
      const left = S - ((first + i) % S);
      const count = Math.min(left, total - i, inWasm ? S : CHUNK_PIXELS);
      if (U8) U8.set(count * C === part.len ? part.bytes : part.bytes.subarray(i * C, (i + count) * C), buf);
      run(inWasm ? part.off + i * C : buf, first + i, count);
      i += count;
    }
    first += total;
  }
}

/** @internal Byte ranges [start, end) of the images' bytes that live in wasm memory (for overlap checks). */
export function wasmRanges(g: PixelGeometry, wasm: ArrayBufferLike): Array<[number, number]> {
  const r: Array<[number, number]> = [];
  for (const p of g.parts) if (p.buffer === wasm) r.push([p.off, p.off + p.len]);
  return r;
}
