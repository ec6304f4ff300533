// WorkerPool: synchronized batch norm across worker threads, and big ops split across them.
// This class is the public face only: its implementation (js/workers/impl.ts) is in the pool's
// module, dist/simdnorm-pool.js, which createPool loads, so an import of simdnorm parses none of
// it (docs/performance.md, "Cold start, third pass"). docs/workers.md describes the pool.
import type { TensorLike } from "../core/tensor";
import type { ShapeOptions } from "../core/args";
import type { Layout } from "../core/layout";
import type { ChannelStats } from "../ops/stats";
import type { BatchNormTrainOptions, BatchNormTrainResult, BatchNormBackwardOptions, BatchNormBackwardResult } from "../ops/batchnorm";
import type { Pixels, PixelShape } from "../ops/pixels-input";
import type { PoolImpl } from "./impl";
import { link } from "./link";
import { loadedPoolModule } from "./load";
import type { Fault, SlotState, SplitOp, TransportName } from "./protocol";

export type { TransportName, Fault } from "./protocol";
export { WorkerPoolError, type FaultReason } from "./error";

export interface WorkerPoolOptions {
  /** Worker threads. Default: the number of CPU cores (at least 1, at most 16). */
  workers?: number;
  /**
   * "shared": one shared WebAssembly.Memory (threads build); needs SharedArrayBuffer — always in
   * Node, only in cross-origin-isolated pages in browsers. "message": partials and data are
   * posted. "auto" (default): shared when possible, else message.
   */
  transport?: "auto" | TransportName;
  /** Milliseconds one worker may take for one phase of one op before it is declared hung. Default 60000. */
  timeout?: number;
  /**
   * Whole-tensor ops (pool.partialStats, channelStats, batchNormTrain, batchNormBackward) on
   * fewer values run on the calling thread; a number applies to every op. Default with shared
   * memory: per op (statistics 2²², training forward 2²⁴, backward never); with message passing
   * the copies cost as much as the op, so by default they never split. `pool.minSplit` holds the
   * thresholds in force.
   */
  minSplit?: number;
}

/** A shard of a synchronized op: one worker's part of the batch. */
export interface Shard {
  x: TensorLike;
  /** Shape of x; optional for a Tensor. N = shape[0] may be 0 (an empty shard: x of length 0). */
  shape?: number[];
  /** Where y (train) / dx (backward) goes; default a new Float32Array (a Tensor when x is one). */
  out?: TensorLike;
}

export interface BackwardShard extends Shard { dy: TensorLike; }

export interface SyncTrainResult extends Omit<BatchNormTrainResult, "y"> {
  /** y of every shard, in shard order. */
  ys: TensorLike[];
}

export interface SyncBackwardResult {
  /** dx of every shard, in shard order. */
  dxs: TensorLike[];
  /** Σ over all shards of dy·x̂ per channel. */
  dgamma: Float32Array;
  /** Σ over all shards of dy per channel. */
  dbeta: Float32Array;
}

export type SyncTrainOptions = Omit<BatchNormTrainOptions, "shape" | "out">;
export type SyncBackwardOptions = Omit<BatchNormBackwardOptions, "shape" | "out" | "globalSums">;

/**
 * A pool of worker threads running simdnorm: synchronized batch norm over shards (one worker per
 * shard) and whole-tensor ops split across the workers when that pays. Ops run one at a time in
 * call order. Create with `createPool()`, end with `close()`.
 */
export class WorkerPool {
  /** "shared" (one shared memory, workers get pointers) or "message" (data and partials posted). */
  readonly transport: TransportName;
  readonly size: number;
  readonly timeout: number;
  /** Per whole-tensor op, the number of values from which it is split (Infinity: never). */
  readonly minSplit: Readonly<Record<SplitOp, number>>;
  /** What the pool does: the implementation in the pool's module (dist/simdnorm-pool.js). */
  private readonly impl: PoolImpl;

  /** Use createPool(). `module` is what the workers instantiate. */
  constructor(transport: TransportName, size: number, o: WorkerPoolOptions, module: WebAssembly.Module) {
    this.impl = new (loadedPoolModule().PoolImpl)(link, transport, size, o, module);
    this.transport = transport;
    this.size = size;
    this.timeout = this.impl.timeout;
    this.minSplit = this.impl.minSplit;
  }

  /** Start every worker; resolves when all are ready. */
  async start(): Promise<this> {
    await this.impl.start();
    return this;
  }

  /** Each worker: index, how many times it was started (1 + replacements) and its state. */
  workers(): { index: number; starts: number; state: SlotState }[] { return this.impl.workers(); }

  get isClosed(): boolean { return this.impl.isClosed; }

  /**
   * Testing aid: the next message for `phase` (any phase when omitted) sent to worker `worker`
   * makes it throw, throw uncaught, exit or hang.
   */
  injectFault(worker: number, fault: Fault): void { this.impl.injectFault(worker, fault); }

  /** End every worker. Ops in flight or queued reject; later calls reject. */
  close(): Promise<void> { return this.impl.close(); }

  // ---- whole-tensor ops: split across the pool when large enough, else on the calling thread ----

  /**
   * Partial statistics (C triples count, mean, M2) of one tensor, its rows split across the
   * workers when it holds at least `minSplit.partialStats` values. Same result as partialStats().
   * Byte images (Uint8Array / Uint8ClampedArray / ImageData or an array of them, with
   * `{ width, height, channels }` as for fromPixels) give the 3 colour channels' statistics in
   * byte units, computed on the calling thread: the exact integer sums of partialStats(), the
   * same result bit for bit (docs/workers.md says why they are not split).
   */
  partialStats(x: TensorLike | Pixels, o: ShapeOptions | PixelShape = {}): Promise<Float64Array> { return this.impl.partialStats(x, o); }

  /** Per-channel mean and variance of one tensor or of byte images (see partialStats). */
  channelStats(x: TensorLike | Pixels, o: ShapeOptions | PixelShape = {}): Promise<ChannelStats> { return this.impl.channelStats(x, o); }

  /**
   * batchNormTrain on one tensor, split across the workers when it holds at least
   * `minSplit.batchNormTrain` values: each normalizes its rows with the merged statistics. Same
   * result as batchNormTrain(); the running statistics are updated once, after everything
   * succeeded.
   */
  batchNormTrain(x: TensorLike, o: BatchNormTrainOptions): Promise<BatchNormTrainResult> { return this.impl.batchNormTrain(x, o); }

  /**
   * batchNormBackward on one tensor, split across the workers when it holds at least
   * `minSplit.batchNormBackward` values (the sums are all-reduced). Same result as
   * batchNormBackward().
   */
  batchNormBackward(x: TensorLike, dy: TensorLike, o: BatchNormBackwardOptions): Promise<BatchNormBackwardResult> { return this.impl.batchNormBackward(x, dy, o); }

  // ---- synchronized ops over shards: shard i runs on worker i mod size ----

  /** Partial statistics over every shard, merged (Chan): the statistics of their concatenation. */
  syncPartialStats(shards: Shard[], o: { layout?: Layout } = {}): Promise<Float64Array> { return this.impl.syncPartialStats(shards, o); }

  /**
   * Synchronized batch norm, forward: every shard is normalized with the statistics of all of
   * them together, and the running statistics (given once, in `o`) are updated once. ys[i], the
   * saved statistics and the running update equal batchNormTrain on the concatenated batch.
   */
  syncBatchNormTrain(shards: Shard[], o: SyncTrainOptions): Promise<SyncTrainResult> { return this.impl.syncBatchNormTrain(shards, o); }

  /**
   * Synchronized batch norm, backward: (Σdy, Σdy·(x−mean)) are all-reduced over the shards, then
   * every shard computes its dx; dgamma and dbeta are summed over the shards. Equals
   * batchNormBackward on the concatenated batch.
   */
  syncBatchNormBackward(shards: BackwardShard[], o: SyncBackwardOptions): Promise<SyncBackwardResult> { return this.impl.syncBatchNormBackward(shards, o); }
}
