// Streaming standardization (fit per-channel mean/std chunk by chunk, then apply) and precise
// population statistics for BatchNorm layers. Both are StatsAccumulator underneath: one Welford
// pass per chunk, Chan merges in f64, equal to statistics over the concatenated data.
import { epsOf } from "../ops/options";
import { StatsAccumulator } from "../ops/stats";
import { batchNormInfer } from "../ops/batchnorm";
import { BatchNorm, placement, knownLayout } from "./layers";
import type { Layout } from "../core/layout";
import type { ShapeOptions } from "../core/args";
import type { TensorLike } from "../core/tensor";

export interface StandardizerOptions {
  /** Layout of Float32Array chunks (Tensors carry their own). Default "NC". */
  layout?: Layout;
  /** Added to the variance before the square root. Default 0 (a constant channel gets std 1). */
  eps?: number;
  /** std from the unbiased variance (÷(n−1)) instead of the population one (÷n). Default false. */
  unbiased?: boolean;
}

/** JSON form of a Standardizer (the f64 partials survive JSON exactly). */
export interface StandardizerJSON {
  type: "simdnorm.Standardizer";
  version: 1;
  channels: number;
  layout: Layout;
  eps: number;
  unbiased: boolean;
  /** C triples (count, mean, M2). */
  partials: number[];
}

/**
 * Per-channel standardization y = (x − mean)/std with statistics fitted over a stream of chunks
 * (any layout, any chunk sizes), without a separate preprocessing pass over the whole dataset.
 * @example
 * const z = new Standardizer(14);
 * for (const chunk of chunks) z.partialFit(chunk);   // Float32Array of n·14 values (NC)
 * const y = z.transform(x);
 * const saved = JSON.stringify(z); const z2 = Standardizer.fromJSON(JSON.parse(saved));
 */
export class Standardizer {
  readonly channels: number;
  readonly layout: Layout;
  readonly eps: number;
  readonly unbiased: boolean;
  private readonly acc: StatsAccumulator;

  constructor(channels: number, o: StandardizerOptions = {}) {
    o = o ?? {};
    this.acc = new StatsAccumulator(channels);
    this.channels = channels;
    this.layout = knownLayout(o.layout ?? "NC");
    this.eps = epsOf(o.eps, 0);
    this.unbiased = o.unbiased ?? false;
  }

  private where(x: TensorLike, o: ShapeOptions): ShapeOptions { return placement(x, this.channels, o, this.layout); }

  /** Add a chunk (NC Float32Arrays need no shape). */
  partialFit(x: TensorLike, o: ShapeOptions = {}): this {
    this.acc.update(x, this.where(x, o));
    return this;
  }

  /** Forget the statistics, then fit one chunk (or an iterable of chunks). */
  fit(x: TensorLike | Iterable<TensorLike>, o: ShapeOptions = {}): this {
    this.acc.reset();
    if (x instanceof Float32Array || !(Symbol.iterator in Object(x))) return this.partialFit(x as TensorLike, o);
    for (const chunk of x as Iterable<TensorLike>) this.partialFit(chunk, o);
    return this;
  }

  /** Values seen per channel. */
  get count(): number { return this.acc.count; }

  get mean(): Float64Array { this.fitted(); return this.acc.result().mean; }

  /** Variance used for std (population, or unbiased with `unbiased`). */
  get variance(): Float64Array {
    this.fitted();
    const r = this.acc.result();
    return this.unbiased ? r.unbiasedVar : r.var;
  }

  /** sqrt(variance + eps); 1 for a constant channel when eps is 0 (as scikit-learn). */
  get std(): Float64Array { return this.variance.map((v) => this.safeVar(v)).map(Math.sqrt); }

  private safeVar(v: number): number { return v + this.eps === 0 ? 1 : v + this.eps; }

  private fitted(): void {
    if (this.acc.count === 0) throw new Error("the Standardizer has not seen any data: call partialFit(chunk) first");
    if (this.unbiased && this.acc.count < 2) throw new Error(`unbiased variance needs at least 2 values per channel, the Standardizer has seen ${this.acc.count}`);
  }

  /**
   * y = (x − mean)/std per channel (batchNormInfer with gamma 1, beta 0). Same return rules as
   * batchNormInfer: a Tensor for a Tensor x, else a Float32Array (or `out`).
   */
  transform(x: TensorLike, o: ShapeOptions & { out?: TensorLike } = {}): TensorLike {
    const runningVar = this.variance.map((v) => this.safeVar(v)), { shape, layout } = this.where(x, o);
    return batchNormInfer(x, { shape, layout, out: o.out, runningMean: this.mean, runningVar, eps: 0 });
  }

  /** x = y·std + mean (batchNormInfer with mean 0, var 1, gamma = std, beta = mean). */
  inverseTransform(y: TensorLike, o: ShapeOptions & { out?: TensorLike } = {}): TensorLike {
    const C = this.channels, { shape, layout } = this.where(y, o);
    return batchNormInfer(y, { shape, layout, out: o.out, runningMean: new Float64Array(C), runningVar: new Float64Array(C).fill(1), eps: 0, gamma: this.std, beta: this.mean });
  }

  toJSON(): StandardizerJSON {
    return { type: "simdnorm.Standardizer", version: 1, channels: this.channels, layout: this.layout, eps: this.eps, unbiased: this.unbiased, partials: Array.from(this.acc.partials) };
  }

  /** Rebuild from toJSON() output (or its JSON.parse). @throws on a malformed state. */
  static fromJSON(j: StandardizerJSON | string): Standardizer {
    const o = (typeof j === "string" ? JSON.parse(j) : j) as StandardizerJSON;
    if (!o || o.type !== "simdnorm.Standardizer") throw new Error(`not a simdnorm.Standardizer state (type ${o?.type})`);
    if (o.version !== 1) throw new Error(`unsupported Standardizer state version ${o.version}`);
    if (!Array.isArray(o.partials) || o.partials.length !== 3 * o.channels || !o.partials.every(Number.isFinite)) throw new Error(`partials must be ${3 * o.channels} finite numbers (count, mean, M2 per channel)`);
    const z = new Standardizer(o.channels, { layout: o.layout, eps: o.eps, unbiased: o.unbiased });
    z.acc.merge(Float64Array.from(o.partials));
    return z;
  }
}

/** A batch for preciseBatchNormStats: a Tensor, an NC Float32Array, or one with its shape. */
export type Batch = TensorLike | ({ x: TensorLike } & ShapeOptions);

/**
 * Precise batch-norm statistics: replace a BatchNorm layer's moving averages by the exact
 * per-channel mean and variance (unbiased or biased, per the layer's convention) over every
 * batch of the stream, i.e. the statistics of the concatenated data. Caffe layers get them as
 * blobs with normalizer 1. numBatchesTracked is left alone. Nothing changes if a batch throws.
 * For an async stream, feed a StatsAccumulator and call `applyStats(bn, acc)`.
 */
export function preciseBatchNormStats(bn: BatchNorm, batches: Iterable<Batch>): StatsAccumulator {
  if (!(bn instanceof BatchNorm)) throw new Error("preciseBatchNormStats needs a simdnorm BatchNorm layer");
  const acc = new StatsAccumulator(bn.channels);
  for (const b of batches) {
    const { x, ...o } = b instanceof Float32Array || !("x" in Object(b)) ? { x: b as TensorLike } : (b as { x: TensorLike } & ShapeOptions);
    acc.update(x, placement(x, bn.channels, o, bn.layout));
  }
  applyStats(bn, acc);
  return acc;
}

/** Set a BatchNorm layer's running statistics from an accumulator (per its convention). */
export function applyStats(bn: BatchNorm, acc: StatsAccumulator): BatchNorm {
  if (acc.channels !== bn.channels) throw new Error(`the accumulator has ${acc.channels} channels, the layer ${bn.channels}`);
  if (acc.count < 2) throw new Error(`population statistics need at least 2 values per channel, got ${acc.count}`);
  const r = acc.result();
  return bn.setStats(r.mean, bn.unbiased ? r.unbiasedVar : r.var);
}
