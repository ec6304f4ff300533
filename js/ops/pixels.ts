// Image bytes to a normalized float32 tensor in one SIMD pass (assembly/px_normalize.ts).
import { withScope } from "../core/scope";
import { rt } from "../core/runtime";
import { Tensor, isTensor } from "../core/tensor";
import { typedKind, typedBuffer, typedOffset } from "../core/typed";
import { fmt, finiteVec, isVec, F32_MAX } from "../core/errors";
import { optionsOf } from "./options";
import { pixelGeometry, feedRuns, runBytes, wasmRanges, type Pixels, type PixelShape, type PixelGeometry } from "./pixels-input";

export { isPixels, type Pixels, type PixelImage, type PixelShape, type ImageDataLike } from "./pixels-input";

/** Per-channel constants of a preset: y = (byte·scale − mean[c]) / std[c]. */
export interface PixelPreset { readonly mean: readonly number[]; readonly std: readonly number[]; readonly scale: number }

/**
 * Named normalizations: `imagenet` and `clip` (the mean/std their models were trained with, on
 * bytes/255), `minus1to1` (byte/127.5 − 1) and `unit` (byte/255, the default).
 */
export const PIXEL_PRESETS: Readonly<Record<"imagenet" | "clip" | "minus1to1" | "unit", PixelPreset>> = Object.freeze({
  imagenet: Object.freeze({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 255 }),
  clip: Object.freeze({ mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], scale: 1 / 255 }),
  minus1to1: Object.freeze({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 / 255 }),
  unit: Object.freeze({ mean: [0, 0, 0], std: [1, 1, 1], scale: 1 / 255 }),
});

export type PixelPresetName = keyof typeof PIXEL_PRESETS;

/** Options of fromPixels. */
export interface FromPixelsOptions extends PixelShape {
  /** Output layout: `"NCHW"` (planar, the default) or `"NHWC"` (interleaved). */
  layout?: "NCHW" | "NHWC";
  /** A named normalization (see PIXEL_PRESETS); give it or mean/std/scale, not both. */
  preset?: PixelPresetName;
  /** Per-channel mean (3 values, or one for all), in scaled units. Default 0. */
  mean?: number | ArrayLike<number>;
  /** Per-channel standard deviation (3 values, or one for all), nonzero. Default 1. */
  std?: number | ArrayLike<number>;
  /** Multiplies each byte first. Default 1/255. */
  scale?: number;
  /** Written in place: a Tensor or Float32Array of N·3·H·W values. Default: a new Tensor. */
  out?: Tensor | Float32Array;
}

/** A number (the same for R, G, B) or 3 finite numbers, read once. */
function channelVec(name: string, v: unknown, dflt: number): ArrayLike<number> {
  if (v === undefined) return [dflt, dflt, dflt];
  if (typeof v === "number") return finiteVec(name, [v, v, v], 3);
  if (!isVec(v)) throw new Error(`${name} must be a number or 3 numbers (number[], Float32Array, Float64Array), got ${fmt(v)}`);
  return finiteVec(name, v, 3);
}

/**
 * @internal
 * The folded per-channel affine y = byte·a[c] + b[c], a = scale/std, b = −mean/std, computed in
 * f64 and rounded to f32 once: [a0, a1, a2, b0, b1, b2]. Validates preset / mean / std / scale.
 */
export function pixelAffine(o: FromPixelsOptions): Float32Array {
  const preset = o.preset, mean = o.mean, std = o.std, scale = o.scale;
  if (preset !== undefined) {
    if (typeof preset !== "string" || !Object.prototype.hasOwnProperty.call(PIXEL_PRESETS, preset)) {
      throw new Error(`unknown preset: ${fmt(preset)}: expected one of ${Object.keys(PIXEL_PRESETS).join(", ")}`);
    }
    const given = [mean === undefined ? "" : "mean", std === undefined ? "" : "std", scale === undefined ? "" : "scale"].filter(Boolean);
    if (given.length) throw new Error(`preset "${preset}" sets mean, std and scale: do not also give ${given.join(", ")}`);
    return (PRESET_AFFINE[preset] ??= fold(PIXEL_PRESETS[preset]));
  }
  return fold({ mean: channelVec("mean", mean, 0), std: channelVec("std", std, 1), scale: scale ?? 1 / 255 });
}

/** Folded affines of the presets, made on first use (read only: ops copy them into wasm memory). */
const PRESET_AFFINE: Partial<Record<PixelPresetName, Float32Array>> = {};

function fold({ mean: m, std: sd, scale: k }: { mean: ArrayLike<number>; std: ArrayLike<number>; scale: unknown }): Float32Array {
  for (let c = 0; c < 3; c++) if (sd[c] === 0) throw new Error(`std[${c}] is 0: every std must be nonzero`);
  if (typeof k !== "number" || !Number.isFinite(k) || k === 0) throw new Error(`scale must be a finite nonzero number, got ${fmt(k)}`);
  const f = Float32Array.of(k / sd[0], k / sd[1], k / sd[2], -m[0] / sd[0], -m[1] / sd[1], -m[2] / sd[2]);
  // Folded factors past f32's range would turn bytes into NaN (0·∞, ∞ − ∞): refused.
  for (let c = 0; c < 3; c++) {
    if (!Number.isFinite(f[c])) throw new Error(`scale / std[${c}] is ${k / sd[c]}: past float32's range (|a| ≤ ${F32_MAX}); use a larger std or a smaller scale`);
    if (!Number.isFinite(f[3 + c])) throw new Error(`mean[${c}] / std[${c}] is ${-m[c] / sd[c]}: past float32's range (|a| ≤ ${F32_MAX}); use a larger std`);
  }
  return f;
}

function layoutOf(l: unknown): "NCHW" | "NHWC" {
  if (l === undefined) return "NCHW";
  if (l !== "NCHW" && l !== "NHWC") throw new Error(`layout must be "NCHW" or "NHWC" for an image tensor, got ${fmt(l)}`);
  return l;
}

function checkNoOverlap(g: PixelGeometry, out: unknown, len: number): void {
  const heap = rt().heap;
  let o: number;
  if (typedKind(out) === "Float32Array" && typedBuffer(out as Float32Array) === heap.buffer) o = typedOffset(out as Float32Array);
  else if (isTensor(out) && !out.freed) o = out.ptr;
  else return;
  for (const [a, b] of wasmRanges(g, heap.buffer)) {
    if (o < b && a < o + 4 * len) throw new Error(`out overlaps pixels in wasm memory (bytes ${a}…${b}, out ${o}…${o + 4 * len}): they must be separate`);
  }
}

/**
 * Turn RGBA or RGB bytes into a normalized float32 tensor in one SIMD pass:
 * y = (byte·scale − mean[c]) / std[c] for the colour channels (alpha dropped), computed as
 * byte·(scale/std[c]) + (−mean[c]/std[c]); that differs from the two-step formula by at most a
 * few float32 ulp (docs/pixels.md states the bound).
 *
 * `pixels`: a Uint8Array / Uint8ClampedArray of width·height·channels bytes (or N times that:
 * N images back to back), an ImageData (or any `{ data, width, height }` of RGBA bytes), or an
 * array of those (a batch). Bytes in the JS heap are copied into wasm memory a cache-sized
 * chunk at a time; a Uint8Array view of wasm memory is read in place.
 *
 * Result: a Tensor of shape [N, 3, H, W] (layout "NCHW", the default) or [N, H, W, 3] ("NHWC")
 * in wasm memory, zero-copy for every op after it (free() it when done), or `out` when given.
 * @throws when the byte length is not width × height × channels per image, channels is not 3
 *   or 4, mean/std do not have 3 finite values, a std is 0, the preset is unknown, or out has
 *   the wrong length or overlaps pixels; nothing is written then.
 * @example
 * const x = fromPixels(imageData, { preset: "imagenet" }); // Tensor [1, 3, H, W]
 */
export function fromPixels(pixels: Pixels, opts?: FromPixelsOptions & { out?: undefined }): Tensor;
export function fromPixels<T extends Tensor | Float32Array>(pixels: Pixels, opts: FromPixelsOptions & { out: T }): T;
export function fromPixels(pixels: Pixels, opts?: FromPixelsOptions): Tensor | Float32Array;
export function fromPixels(pixels: Pixels, options: FromPixelsOptions = {}): Tensor | Float32Array {
  const opts = optionsOf(options, "fromPixels") as FromPixelsOptions;
  const g = pixelGeometry(pixels, opts);
  const layout = layoutOf(opts.layout);
  const ab = pixelAffine(opts);
  const S = g.H * g.W, len = g.N * 3 * S;
  const out = opts.out;
  checkNoOverlap(g, out, len);
  const shape = layout === "NCHW" ? [g.N, 3, g.H, g.W] : [g.N, g.H, g.W, 3];
  return withScope((s) => {
    const y = s.output("out", out, len, true, shape, layout);
    s.commit(runBytes(g) + 64);
    const buf = s.temp(runBytes(g)), pa = s.f32(ab), pb = pa + 12;
    const k = rt().kernels;
    if (layout === "NCHW") {
      feedRuns(s, g, buf, (ptr, first, count) => {
        const n = Math.floor(first / S), p = first - n * S;
        k.px_normalize_f32_cf(count, S, g.C, ptr, pa, pb, y.ptr + 4 * (3 * n * S + p));
      });
    } else {
      feedRuns(s, g, buf, (ptr, first, count) => k.px_normalize_f32_cl(count, g.C, ptr, pa, pb, y.ptr + 12 * first));
    }
    return s.result(y);
  });
}
