// Streaming standardization (fit per-channel mean/std chunk by chunk, then apply) and precise
// population statistics for BatchNorm layers. Both are StatsAccumulator underneath: one Welford
// pass per chunk, Chan merges in f64, equal to statistics over the concatenated data.
import { epsOf, optionsOf, ours } from "../ops/options";
import { readOptions, checkInteger, fmt } from "../core/errors";
import { checkPartials } from "../ops/welford";
import { StatsAccumulator } from "../ops/stats";
import { batchNormInfer } from "../ops/batchnorm";
import { BatchNorm, placement, knownLayout } from "./layers";
import type { Layout } from "../core/layout";
import type { ShapeOptions } from "../core/args";
import { isTensor, type TensorLike } from "../core/tensor";
import { typedKind, isFakeTyped } from "../core/typed";

export interface StandardizerOptions {
  /** Layout of Float32Array chunks (Tensors carry their own). Default "NC". */
  layout?: Layout;
  /** Added to the variance before the square root. Default 0 (a constant channel gets std 1). */
  eps?: number;
  /** std from the unbiased variance (÷(n−1)) instead of the population one (÷n): true or false. Default false. */
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
  /**
   * C triples (count, mean, M2): counts whole numbers ≥ 0 (they may differ between channels),
   * means finite, M2 finite and ≥ 0.
   */
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
  /** The fitted statistics (replaced as a whole by fit: see there). */
  private acc: StatsAccumulator;

  constructor(channels: number, opts: StandardizerOptions = {}) {
    const o = readOptions<StandardizerOptions>(opts, ["layout", "eps", "unbiased"]);
    this.acc = new StatsAccumulator(channels);
    this.channels = channels;
    this.layout = knownLayout(o.layout ?? "NC");
    this.eps = epsOf(o.eps, 0);
    if (o.unbiased !== undefined && typeof o.unbiased !== "boolean") throw new Error(`unbiased must be true or false, got ${fmt(o.unbiased)}`);
    this.unbiased = o.unbiased ?? false;
  }

  /** x's shape options, read once (with `out` for the transforms; any other name is refused). */
  private where(x: TensorLike, opts: unknown, withOut = false): { p: ShapeOptions; out?: TensorLike } {
    const o = withOut ? optionsOf(opts, "shapeOut") : optionsOf(opts, "shape");
    return { p: placement(x, this.channels, o as ShapeOptions, this.layout), out: o.out as TensorLike | undefined };
  }

  /** Add a chunk (NC Float32Arrays need no shape). */
  partialFit(x: TensorLike, o: ShapeOptions = {}): this {
    this.acc.update(x, this.where(x, o).p);
    return this;
  }

  /**
   * Replace the statistics by those of one chunk (or an iterable of chunks). Fitted into a fresh
   * accumulator, taken only when every chunk succeeded: if one throws, the statistics are as before.
   */
  fit(x: TensorLike | Iterable<TensorLike>, o: ShapeOptions = {}): this {
    const acc = new StatsAccumulator(this.channels);
    if (x instanceof Float32Array || !(Symbol.iterator in Object(x))) acc.update(x as TensorLike, this.where(x as TensorLike, o).p);
    else for (const chunk of x as Iterable<TensorLike>) acc.update(chunk, this.where(chunk, o).p);
    this.acc = acc;
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
    const runningVar = this.variance.map((v) => this.safeVar(v)), { p: { shape, layout }, out } = this.where(x, o, true);
    return batchNormInfer(x, ours({ shape, layout, out, runningMean: this.mean, runningVar, eps: 0 }));
  }

  /** x = y·std + mean (batchNormInfer with mean 0, var 1, gamma = std, beta = mean). */
  inverseTransform(y: TensorLike, o: ShapeOptions & { out?: TensorLike } = {}): TensorLike {
    const C = this.channels, { p: { shape, layout }, out } = this.where(y, o, true);
    return batchNormInfer(y, ours({ shape, layout, out, runningMean: new Float64Array(C), runningVar: new Float64Array(C).fill(1), eps: 0, gamma: this.std, beta: this.mean }));
  }

  toJSON(): StandardizerJSON {
    return { type: "simdnorm.Standardizer", version: 1, channels: this.channels, layout: this.layout, eps: this.eps, unbiased: this.unbiased, partials: Array.from(this.acc.partials) };
  }

  /**
   * Rebuild from toJSON() output (or its JSON.parse). @throws on a malformed state (text that is
   * not JSON, partials that are not C triples of a whole count ≥ 0, a finite mean, a finite M2 ≥ 0).
   */
  static fromJSON(j: StandardizerJSON | string): Standardizer {
    const o = (typeof j === "string" ? parseState(j) : j) as StandardizerJSON;
    if (!o || typeof o !== "object" || o.type !== "simdnorm.Standardizer") throw new Error(`not a simdnorm.Standardizer state (type ${o && typeof o === "object" ? fmt(o.type) : fmt(o)})`);
    if (o.version !== 1) throw new Error(`unsupported Standardizer state version ${fmt(o.version)}`);
    checkInteger("channels", o.channels, 1, "a positive integer");
    if (!Array.isArray(o.partials) || o.partials.length !== 3 * o.channels || !o.partials.every(Number.isFinite)) throw new Error(`partials must be ${3 * o.channels} finite numbers (count, mean, M2 per channel)`);
    const z = new Standardizer(o.channels, { layout: o.layout, eps: o.eps, unbiased: o.unbiased });
    const p = Float64Array.from(o.partials);
    checkPartials("partials", p);
    z.acc.merge(p);
    return z;
  }
}

/** JSON.parse of a saved state, its SyntaxError as a plain Error saying what was wrong. */
function parseState(text: string): unknown {
  try { return JSON.parse(text); } catch (e) {
    throw new Error(`Standardizer.fromJSON: the string is not valid JSON (${(e as Error).message})`);
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
  if (batches === null || typeof batches !== "object" || !(Symbol.iterator in batches) || typedKind(batches) || isFakeTyped(batches)) {
    throw new Error(`batches must be an iterable of batches (an array or generator of Float32Arrays, Tensors or { x, shape }), got ${isTensor(batches) ? "a Tensor" : fmt(batches)}${typedKind(batches) || isTensor(batches) ? " (one batch: pass [x])" : ""}`);
  }
  const acc = new StatsAccumulator(bn.channels);
  for (const b of batches) {
    const { x, ...o } = b instanceof Float32Array || !("x" in Object(b)) ? { x: b as TensorLike } : (b as { x: TensorLike } & ShapeOptions);
    acc.update(x, placement(x, bn.channels, optionsOf(o, "shape") as ShapeOptions, bn.layout));
  }
  applyStats(bn, acc);
  return acc;
}

/** Set a BatchNorm layer's running statistics from an accumulator (per its convention). */
export function applyStats(bn: BatchNorm, acc: StatsAccumulator): BatchNorm {
  if (!(bn instanceof BatchNorm)) throw new Error("applyStats needs a simdnorm BatchNorm layer");
  if (!(acc instanceof StatsAccumulator)) throw new Error(`applyStats needs a StatsAccumulator, got ${fmt(acc)}`);
  if (acc.channels !== bn.channels) throw new Error(`the accumulator has ${acc.channels} channels, the layer ${bn.channels}`);
  if (acc.count < 2) throw new Error(`population statistics need at least 2 values per channel, got ${acc.count}`);
  const r = acc.result();
  return bn.setStats(r.mean, bn.unbiased ? r.unbiasedVar : r.var);
}
