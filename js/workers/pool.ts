// WorkerPool: synchronized batch norm across worker threads, and big ops split across them.
//
// The owner thread coordinates (a star all-reduce): each op is a few phases (js/workers/phases.ts);
// in each, every worker involved gets its parts (js/workers/plan.ts), the owner waits for all
// answers (js/workers/slots.ts) and combines them, then starts the next phase. Two transports:
//   shared   the owner's runtime is the threads build on a shared WebAssembly.Memory; the owner
//            alone allocates (js/workers/op-memory.ts: tensors, copies, one scratch arena per
//            worker per op) and workers get pointers. Nothing is copied between threads.
//   message  every thread has its own memory; parts are posted (copied) to the workers, kept
//            there between the phases of one op, and only the partials (Float64Array) and the
//            outputs travel back.
// A worker that fails makes the op reject with a WorkerPoolError; failed workers are terminated
// before the op's memory is released, and replaced. Running statistics are written only after
// every phase succeeded.
import { rt } from "../core/runtime";
import type { TensorLike } from "../core/tensor";
import { resolveGeometry, sameSize, type ShapeOptions } from "../core/args";
import type { Layout } from "../core/layout";
import { optionsOf, trainOptions, backwardOptions } from "../ops/options";
import { typedSet } from "../core/typed";
import { partialStats, finishStats, type ChannelStats } from "../ops/stats";
import {
  batchNormTrain, batchNormBackward,
  type BatchNormTrainOptions, type BatchNormTrainResult, type BatchNormBackwardOptions, type BatchNormBackwardResult,
} from "../ops/batchnorm";
import { Threads, type Slot, type SlotState } from "./slots";
import { splitRows, shardPlan, splitThresholds, refuseBytes, type Plan, type SplitOp } from "./plan";
import { isPixels, type Pixels, type PixelShape } from "../ops/pixels-input";
import { opMemory, type OpMemory } from "./op-memory";
import { PHASES, type NormalizeParams, type Outputs, type PhaseDef, type PhaseParams, type PhaseResult } from "./phases";
import type { Fault, PartMsg, Phase, TransportName } from "./protocol";

export type { TransportName, Fault } from "./protocol";
export { WorkerPoolError, type FaultReason } from "./slots";

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

const DEFAULT_TIMEOUT = 60_000;

/** One op in flight: the workers it involved (message transport: they may hold its parts). */
interface Op { id: number; name: string; slots: Set<Slot>; }

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
  private readonly threads: Threads;
  /** The worker places (threads.all). */
  private readonly slots: Slot[];
  private queue: Promise<unknown> = Promise.resolve();
  private opId = 0;

  /** Use createPool(). `module` is what the workers instantiate. */
  constructor(transport: TransportName, size: number, o: WorkerPoolOptions, module: WebAssembly.Module) {
    this.transport = transport;
    this.size = size;
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.minSplit = splitThresholds(transport, o.minSplit);
    this.threads = new Threads(size, transport, this.timeout, module, transport === "shared" ? rt().heap.memory : undefined);
    this.slots = this.threads.all;
  }

  /** Start every worker; resolves when all are ready. */
  async start(): Promise<this> {
    try {
      await this.threads.start();
    } catch (e) {
      await this.close();
      throw e;
    }
    return this;
  }

  /** Each worker: index, how many times it was started (1 + replacements) and its state. */
  workers(): { index: number; starts: number; state: SlotState }[] {
    return this.slots.map((s) => ({ index: s.index, starts: s.starts, state: s.state }));
  }

  get isClosed(): boolean { return this.threads.closed; }

  /**
   * Testing aid: the next message for `phase` (any phase when omitted) sent to worker `worker`
   * makes it throw, throw uncaught, exit or hang.
   */
  injectFault(worker: number, fault: Fault): void { this.threads.injectFault(worker, fault); }

  /** End every worker. Ops in flight or queued reject; later calls reject. */
  async close(): Promise<void> {
    if (!this.threads.closed) await this.threads.close();
  }

  // ---- whole-tensor ops: split across the pool when large enough, else on the calling thread ----

  /**
   * Partial statistics (C triples count, mean, M2) of one tensor, its rows split across the
   * workers when it holds at least `minSplit.partialStats` values. Same result as partialStats().
   * Byte images (Uint8Array / Uint8ClampedArray / ImageData or an array of them, with
   * `{ width, height, channels }` as for fromPixels) give the 3 colour channels' statistics in
   * byte units, computed on the calling thread: the exact integer sums of partialStats(), the
   * same result bit for bit (docs/workers.md says why they are not split).
   */
  partialStats(x: TensorLike | Pixels, o: ShapeOptions | PixelShape = {}): Promise<Float64Array> {
    return this.enqueue("partialStats", async (op) => {
      if (isPixels(x)) return partialStats(x, o as PixelShape);
      const g = resolveGeometry(x, o as ShapeOptions);
      const plan = splitRows(g, this.size, this.minSplit.partialStats, x, { writes: false });
      if (!plan) return partialStats(x, o as ShapeOptions);
      return this.runStats(op, plan);
    });
  }

  /** Per-channel mean and variance of one tensor or of byte images (see partialStats). */
  async channelStats(x: TensorLike | Pixels, o: ShapeOptions | PixelShape = {}): Promise<ChannelStats> {
    return finishStats(await this.partialStats(x, o));
  }

  /**
   * batchNormTrain on one tensor, split across the workers when it holds at least
   * `minSplit.batchNormTrain` values: each normalizes its rows with the merged statistics. Same
   * result as batchNormTrain(); the running statistics are updated once, after everything
   * succeeded.
   */
  batchNormTrain(x: TensorLike, o: BatchNormTrainOptions): Promise<BatchNormTrainResult> {
    return this.enqueue("batchNormTrain", async (op) => {
      refuseBytes("x", x, "batchNormTrain");
      const opts = optionsOf(o, "train") as SyncTrainOptions & { out?: TensorLike };
      const g = resolveGeometry(x, opts);
      const plan = splitRows(g, this.size, this.minSplit.batchNormTrain, x, { out: opts.out, writes: true });
      if (!plan) return batchNormTrain(x, opts);
      sameSize("out", opts.out, g);
      const r = await this.runTrain(op, plan, opts);
      return { y: r.outputs[0], ...r.rest };
    });
  }

  /**
   * batchNormBackward on one tensor, split across the workers when it holds at least
   * `minSplit.batchNormBackward` values (the sums are all-reduced). Same result as
   * batchNormBackward().
   */
  batchNormBackward(x: TensorLike, dy: TensorLike, o: BatchNormBackwardOptions): Promise<BatchNormBackwardResult> {
    return this.enqueue("batchNormBackward", async (op) => {
      refuseBytes("x", x, "batchNormBackward");
      refuseBytes("dy", dy, "batchNormBackward");
      const opts = optionsOf(o, "backward") as SyncBackwardOptions & { out?: TensorLike; globalSums?: unknown };
      const g = resolveGeometry(x, opts as ShapeOptions);
      // An activation's gradient needs dy·act'(v) before the sums: that backward runs on this thread.
      const plan = opts.globalSums !== undefined || opts.activation !== undefined ? null : splitRows(g, this.size, this.minSplit.batchNormBackward, x, { dy, out: opts.out, writes: true });
      if (!plan) return batchNormBackward(x, dy, opts as BatchNormBackwardOptions);
      sameSize("dy", dy, g);
      sameSize("out", opts.out, g);
      const r = await this.runBackward(op, plan, opts);
      return { dx: r.outputs[0], dgamma: r.dgamma, dbeta: r.dbeta };
    });
  }

  // ---- synchronized ops over shards: shard i runs on worker i mod size ----

  /** Partial statistics over every shard, merged (Chan): the statistics of their concatenation. */
  syncPartialStats(shards: Shard[], o: { layout?: Layout } = {}): Promise<Float64Array> {
    return this.enqueue("syncPartialStats", async (op) => this.runStats(op, shardPlan(shards, o.layout, false, this.size, "syncPartialStats")));
  }

  /**
   * Synchronized batch norm, forward: every shard is normalized with the statistics of all of
   * them together, and the running statistics (given once, in `o`) are updated once. ys[i], the
   * saved statistics and the running update equal batchNormTrain on the concatenated batch.
   */
  syncBatchNormTrain(shards: Shard[], o: SyncTrainOptions): Promise<SyncTrainResult> {
    return this.enqueue("syncBatchNormTrain", async (op) => {
      const opts = optionsOf(o, "train") as SyncTrainOptions;
      const r = await this.runTrain(op, shardPlan(shards, opts.layout, false, this.size, "syncBatchNormTrain"), opts);
      return { ys: r.outputs, ...r.rest };
    });
  }

  /**
   * Synchronized batch norm, backward: (Σdy, Σdy·(x−mean)) are all-reduced over the shards, then
   * every shard computes its dx; dgamma and dbeta are summed over the shards. Equals
   * batchNormBackward on the concatenated batch.
   */
  syncBatchNormBackward(shards: BackwardShard[], o: SyncBackwardOptions): Promise<SyncBackwardResult> {
    return this.enqueue("syncBatchNormBackward", async (op) => {
      const opts = optionsOf(o, "backward") as SyncBackwardOptions;
      const plan = shardPlan(shards, opts.layout, true, this.size, "syncBatchNormBackward");
      const r = await this.runBackward(op, plan, opts);
      return { dxs: r.outputs, dgamma: r.dgamma, dbeta: r.dbeta };
    });
  }

  // ---- ops as phases ----

  private runStats(op: Op, plan: Plan): Promise<Float64Array> {
    // Statistics write no outputs (a shard plan names one per shard, for the ops that do).
    return this.withMemory({ parts: plan.parts, C: plan.C, count: plan.count, inputs: plan.inputs, outs: [] }, (mem) => this.phase(op, mem, plan, "stats", false, () => ({})));
  }

  /** o: the options as read once (optionsOf); checked here before any phase starts. */
  private runTrain(op: Op, plan: Plan, o: SyncTrainOptions) {
    const t = trainOptions(plan.C, o as unknown as Record<string, unknown>);
    const rm = t.runningMean, rv = t.runningVar;
    return this.withMemory(plan, async (mem) => {
      const global = t.globalStats ?? (await this.phase(op, mem, plan, "stats", true, () => ({})));
      if (!(global[0] > 1)) throw new Error(`training batch norm needs more than one value per channel: the batch holds ${global[0]}`);
      // The running statistics travel (as f64 copies) to one worker and come back updated.
      const holder = plan.parts.find((p) => p.slot >= 0)!.slot;
      const params = (runningMean?: Float64Array, runningVar?: Float64Array): NormalizeParams => ({
        globalStats: global, gamma: t.gamma, beta: t.beta, eps: t.eps, momentum: t.momentum,
        convention: o.convention, numBatchesTracked: t.numBatchesTracked, activation: o.activation, runningMean, runningVar,
      });
      const rest = params(), held = rm ? params(Float64Array.from(rm), Float64Array.from(rv!)) : rest;
      const r = await this.phase(op, mem, plan, "normalize", false, (slot) => (slot === holder ? held : rest));
      const outputs = mem.results();
      if (rm && r.running) { typedSet(rm, r.running[0]); typedSet(rv!, r.running[1]); }
      return {
        outputs,
        rest: { saveMean: r.saveMean, saveInvstd: r.saveInvstd, var: r.var, count: global[0], numBatchesTracked: t.numBatchesTracked + 1 },
      };
    });
  }

  /** o: the options as read once (optionsOf); checked here before any phase starts. */
  private runBackward(op: Op, plan: Plan, o: SyncBackwardOptions) {
    const b = backwardOptions(plan.C, o as unknown as Record<string, unknown>, plan.count);
    if (o.activation !== undefined) throw new Error("activation: the pool's synchronized backward all-reduces the sums of dy, not of dy·act'; call batchNormBackward per shard on dy already taken through the activation");
    const count = b.count;
    return this.withMemory(plan, async (mem) => {
      const base = { channels: plan.C, saveMean: Float64Array.from(b.saveMean) };
      const globalSums = await this.phase(op, mem, plan, "sums", true, () => base);
      const r = await this.phase(op, mem, plan, "backward", false, () => ({ channels: base.channels, saveMean: base.saveMean, gamma: b.gamma, saveInvstd: b.saveInvstd, globalSums, count }));
      return { outputs: mem.results(), ...r };
    });
  }

  /** fn with the op's memory, released after it (kept intact for the caller if fn succeeded). */
  private async withMemory<T>(plan: Plan, fn: (mem: OpMemory) => Promise<T>): Promise<T> {
    const mem = opMemory(this.transport === "shared", plan.C, plan.parts, plan.inputs, plan.outs);
    let failed = true;
    try {
      const r = await fn(mem);
      failed = false;
      return r;
    } finally {
      mem.dispose(failed);
    }
  }

  /**
   * One phase: every worker holding parts gets them, the owner waits for all answers (each call
   * bounded by the timeout) and combines them (in worker order). Any failure: the failed workers
   * are terminated and replaced, the others drop what they kept, and the op rejects.
   */
  private async phase<K extends Phase>(op: Op, mem: OpMemory, plan: Plan, phase: K, keep: boolean, params: (slot: number) => PhaseParams<K>): Promise<PhaseResult<K>> {
    const def = PHASES[phase] as unknown as PhaseDef<PhaseParams<K>, Record<string, unknown>, PhaseResult<K>>;
    const bySlot = new Map<number, Plan["parts"]>();
    for (const p of plan.parts) if (p.slot >= 0) { if (!bySlot.has(p.slot)) bySlot.set(p.slot, []); bySlot.get(p.slot)!.push(p); }
    const order = [...bySlot.keys()].sort((a, b) => a - b);
    const shared = this.transport === "shared";
    // Message transport: a writing phase after an earlier one uses the parts the workers kept.
    const kept = !shared && op.slots.size > 0 && def.writes;
    const jobs = order.map((k, n) => {
      const slot = this.slots[k];
      op.slots.add(slot);
      const transfer: Transferable[] = [];
      const parts: PartMsg[] = bySlot.get(k)!.map((p) => {
        const m: PartMsg = { shape: p.shape, layout: p.layout };
        if (!kept) {
          m.x = mem.ref(p.x, p.off, p.size, transfer);
          if (p.dy >= 0) m.dy = mem.ref(p.dy, p.off, p.size, transfer);
        }
        if (p.out >= 0 && def.writes) m.out = mem.outRef(p.out, p.off, p.size);
        return m;
      });
      const msg = this.threads.message(k, { op: op.id, phase, parts, keep: keep && !shared, arena: mem.arena(n), params: params(k) as Record<string, unknown> });
      return this.threads.call(slot, op.name, msg, transfer);
    });
    const settled = await Promise.allSettled(jobs);
    const bad = settled.map((s, n) => [s, this.slots[order[n]]] as const).filter(([s]) => s.status === "rejected");
    if (bad.length) {
      await Promise.all(bad.map(([, slot]) => this.threads.replace(slot)));
      throw (bad[0][0] as PromiseRejectedResult).reason;
    }
    const replies = settled.map((s) => (s as PromiseFulfilledResult<Record<string, unknown>>).value);
    // Outputs posted back (message transport) go to their place in the op's outputs.
    if (!shared && def.writes) {
      order.forEach((k, n) => {
        const outs = (replies[n] as unknown as Outputs).outs;
        bySlot.get(k)!.forEach((p, j) => mem.put(p.out, p.off, outs[j]));
      });
    }
    return def.combine(replies, plan.C);
  }

  private enqueue<T>(name: string, fn: (op: Op) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.threads.closed) throw new Error(`the worker pool is closed: ${name} cannot run`);
      await this.threads.ready();
      const op: Op = { id: ++this.opId, name, slots: new Set() };
      try {
        return await fn(op);
      } catch (e) {
        if (this.transport === "message") this.threads.drop(op.id, op.slots);
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }
}

