// Channel statistics: one-shot, streaming (chunks along N) and mergeable partials.
import { withScope, type Scope } from "../core/scope";
import { rt } from "../core/runtime";
import { statsInto, tempBytes } from "./dispatch";
import { mergePartials, checkPartials } from "./welford";
import { checkInteger } from "../core/errors";
import { optionsOf } from "./options";
import { resolveGeometry, type ShapeOptions } from "../core/args";
import type { TensorLike } from "../core/tensor";
import { isPixels, type Pixels, type PixelShape } from "./pixels-input";
import { pixelPartials } from "./pixels-stats";
import { f64Results, resultsAt64 } from "../core/typed";

/** Per-channel result: biased variance (÷count) and unbiased (÷(count−1)). */
export interface ChannelStats {
  /** Values reduced per channel. */
  count: number;
  mean: Float64Array;
  /** Biased (population) variance, M2 / count. */
  var: Float64Array;
  /** Unbiased variance, M2 / (count − 1) (NaN when count ≤ 1). */
  unbiasedVar: Float64Array;
}

/**
 * Partial statistics of x: a Float64Array of C triples (count, mean, M2). This is the unit to
 * merge across chunks, shards, workers or machines (see mergePartials / StatsAccumulator).
 */
export function partialStats(x: TensorLike | Pixels, opts: ShapeOptions | PixelShape = {}): Float64Array {
  if (isPixels(x)) return pixelPartials(x, opts as PixelShape);
  return statsOf(x, opts as ShapeOptions, (s, a, C) => s.heap.F64.slice(a >>> 3, (a >>> 3) + 3 * C));
}

/**
 * Runs the statistics kernel over x; `read` gets the scope and the pointer of the C triples in
 * wasm memory before they are freed (with `planes`, room for 3·C more f64 is reserved).
 */
function statsOf<T>(x: TensorLike, opts: ShapeOptions, read: (s: Scope, acc: number, C: number) => T, planes = false): T {
  const g = resolveGeometry(x, optionsOf(opts, "shape") as ShapeOptions);
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    s.commit(tempBytes(g, "stats") + (planes ? 48 : 24) * g.C + 32);
    const acc = s.temp(24 * g.C);
    s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * g.C);
    statsInto(s, g, xa.ptr, acc);
    return read(s, acc, g.C);
  });
}

/** channelStats of the C triples at acc in wasm memory: finished by a kernel (finishAt's rules), results copied out natively. */
function finishIn(s: Scope, acc: number, C: number): ChannelStats {
  const st = s.temp(24 * C);
  rt().kernels.bn_params_finish_f64(C, acc, st);
  const F = s.heap.F64, [mean, v, u] = resultsAt64(F, st >>> 3, 3, C, true);
  return { count: C ? F[acc >>> 3] : 0, mean, var: v, unbiasedVar: u };
}

/** Mean and variance from partials. */
export function finishStats(p: Float64Array): ChannelStats {
  return finishAt(p, 0, checkPartials("partials", p));
}

/** Mean and variance from the C triples at p[a…] (in wasm memory, the kernel bn_params_finish_f64 does the same: finishIn). */
function finishAt(p: Float64Array, a: number, C: number): ChannelStats {
  const [mean, v, u] = f64Results(3, C, true);
  for (let c = 0; c < C; c++) {
    const n = p[a + 3 * c], m2 = p[a + 3 * c + 2];
    mean[c] = n > 0 ? p[a + 3 * c + 1] : NaN;
    v[c] = n > 0 ? m2 / n : NaN;
    u[c] = n > 1 ? m2 / (n - 1) : NaN;
  }
  return { count: C ? p[a] : 0, mean, var: v, unbiasedVar: u };
}

/**
 * Per-channel mean and biased variance of x over every axis but C, reading x once.
 * Stable far from zero (blockwise two-pass, Chan-merged in f64).
 * Byte images (Uint8Array / Uint8ClampedArray / ImageData, or an array of them, with
 * `{ width, height, channels }` as for fromPixels) give the 3 colour channels' statistics in
 * byte units (0…255), from exact integer sums.
 * @example const { mean, var: v } = channelStats(x, { shape: [8, 3, 32, 32], layout: "NCHW" });
 * @example const { mean } = channelStats(imageData); // mean[c] / 255 is fromPixels' mean
 */
export function channelStats(x: TensorLike | Pixels, opts: ShapeOptions | PixelShape = {}): ChannelStats {
  if (isPixels(x)) return finishStats(pixelPartials(x, opts as PixelShape));
  return statsOf(x, opts as ShapeOptions, finishIn, true);
}

export { mergePartials };

/**
 * Streaming channel statistics: feed chunks (any layout, same C), merge accumulators built
 * elsewhere (other shards, workers), then read the result. Equal to one call over all the data.
 */
export class StatsAccumulator {
  readonly channels: number;
  /** C triples (count, mean, M2), f64. */
  readonly partials: Float64Array;

  constructor(channels: number) {
    this.channels = checkInteger("channels", channels, 1, "a positive integer");
    this.partials = new Float64Array(3 * channels);
  }

  /** Rebuild from partials (e.g. received from a worker as a Float64Array). */
  static fromPartials(p: Float64Array): StatsAccumulator {
    const C = checkPartials("partials", p);
    if (C === 0) throw new Error("partials must hold at least one triple (count, mean, M2), got an empty Float64Array");
    const a = new StatsAccumulator(C);
    a.partials.set(p);
    return a;
  }

  /** Add a chunk (a tensor, or byte images as for channelStats: 3 channels). Its channel count must match. */
  update(x: TensorLike | Pixels, opts: ShapeOptions | PixelShape = {}): this {
    if (isPixels(x)) {
      if (this.channels !== 3) throw new Error(`byte images have 3 colour channels, the accumulator ${this.channels}`);
      mergePartials(this.partials, pixelPartials(x, opts as PixelShape));
      return this;
    }
    const o = optionsOf(opts, "shape") as ShapeOptions;
    const g = resolveGeometry(x, o);
    if (g.C !== this.channels) throw new Error(`the chunk has ${g.C} channels, the accumulator ${this.channels}`);
    mergePartials(this.partials, partialStats(x, o));
    return this;
  }

  /** Merge another accumulator or a partials array into this one. */
  merge(other: StatsAccumulator | Float64Array): this {
    const p = other instanceof StatsAccumulator ? other.partials : other;
    const C = checkPartials("other", p);
    if (C !== this.channels) throw new Error(`partial statistics have ${C} channels, the accumulator ${this.channels}`);
    mergePartials(this.partials, p);
    return this;
  }

  get count(): number { return this.partials[0]; }

  result(): ChannelStats { return finishStats(this.partials); }

  reset(): this { this.partials.fill(0); return this; }

  /** JSON-friendly state. */
  toJSON(): { channels: number; partials: number[] } { return { channels: this.channels, partials: Array.from(this.partials) }; }
}
