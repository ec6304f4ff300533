// The worker pool's implementation, in the pool's module (dist/simdnorm-pool.js): WorkerPool
// (js/workers/pool.ts) delegates to it. Synchronized batch norm across worker threads, and big ops
// split across them.
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
// every phase succeeded. Everything of the runtime comes from `L` (js/workers/link.ts): the
// bundle that made the pool.
import type { TensorLike } from "../core/tensor";
import type { ShapeOptions } from "../core/args";
import type { ChannelStats } from "../ops/stats";
import type { BatchNormTrainOptions, BatchNormTrainResult, BatchNormBackwardOptions, BatchNormBackwardResult } from "../ops/batchnorm";
import type { Pixels, PixelShape } from "../ops/pixels-input";
import type { Layout } from "../core/layout";
import type { PoolLink } from "./link";
import type { BackwardShard, Shard, SyncBackwardOptions, SyncBackwardResult, SyncTrainOptions, SyncTrainResult, WorkerPoolOptions } from "./pool";
import { Threads, type Slot } from "./slots";
import { splitRows, shardPlan, splitThresholds, refuseBytes, type Plan } from "./plan";
import { opMemory, type OpMemory } from "./op-memory";
import { COMBINE, type Combine, type NormalizeParams, type Outputs, type PhaseParams, type PhaseResult } from "./phases";
import { WRITES, type Fault, type PartMsg, type Phase, type SlotState, type SplitOp, type TransportName } from "./protocol";

const DEFAULT_TIMEOUT = 60_000;

/** One op in flight: the workers it involved (message transport: they may hold its parts). */
interface Op { id: number; name: string; slots: Set<Slot>; }

/**
 * What a WorkerPool does (js/workers/pool.ts documents each method). Ops run one at a time in
 * call order.
 * @internal
 */
export class PoolImpl {
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

  /** `L`: the runtime of the bundle that made the pool; `module`: what the workers instantiate. */
  constructor(private readonly L: PoolLink, transport: TransportName, size: number, o: WorkerPoolOptions, module: WebAssembly.Module) {
    this.transport = transport;
    this.size = size;
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.minSplit = splitThresholds(transport, o.minSplit);
    this.threads = new Threads(size, transport, this.timeout, module, transport === "shared" ? L.rt().heap.memory : undefined, L.WorkerPoolError);
    this.slots = this.threads.all;
  }

  async start(): Promise<void> {
    try {
      await this.threads.start();
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  workers(): { index: number; starts: number; state: SlotState }[] {
    return this.slots.map((s) => ({ index: s.index, starts: s.starts, state: s.state }));
  }

  get isClosed(): boolean { return this.threads.closed; }

  injectFault(worker: number, fault: Fault): void { this.threads.injectFault(worker, fault); }

  async close(): Promise<void> {
    if (!this.threads.closed) await this.threads.close();
  }

  // ---- whole-tensor ops: split across the pool when large enough, else on the calling thread ----

  partialStats(x: TensorLike | Pixels, o: ShapeOptions | PixelShape = {}): Promise<Float64Array> {
    const L = this.L;
    return this.enqueue("partialStats", async (op) => {
      if (L.isPixels(x)) return L.partialStats(x, o as PixelShape);
      const so = L.optionsOf(o, "shape") as ShapeOptions;
      const g = L.resolveGeometry(x, so);
      const plan = splitRows(L, g, this.size, this.minSplit.partialStats, x, { writes: false });
      if (!plan) return L.partialStats(x, so);
      return this.runStats(op, plan);
    });
  }

  async channelStats(x: TensorLike | Pixels, o: ShapeOptions | PixelShape = {}): Promise<ChannelStats> {
    return this.L.finishStats(await this.partialStats(x, o));
  }

  batchNormTrain(x: TensorLike, o: BatchNormTrainOptions): Promise<BatchNormTrainResult> {
    const L = this.L;
    return this.enqueue("batchNormTrain", async (op) => {
      refuseBytes(L, "x", x, "batchNormTrain");
      const opts = L.optionsOf(o, "train") as SyncTrainOptions & { out?: TensorLike };
      const g = L.resolveGeometry(x, opts);
      const plan = splitRows(L, g, this.size, this.minSplit.batchNormTrain, x, { out: opts.out, writes: true });
      if (!plan) return L.batchNormTrain(x, opts);
      L.sameSize("out", opts.out, g);
      const r = await this.runTrain(op, plan, opts, [x, opts.out]);
      return { y: r.outputs[0], ...r.rest };
    });
  }

  batchNormBackward(x: TensorLike, dy: TensorLike, o: BatchNormBackwardOptions): Promise<BatchNormBackwardResult> {
    const L = this.L;
    return this.enqueue("batchNormBackward", async (op) => {
      refuseBytes(L, "x", x, "batchNormBackward");
      refuseBytes(L, "dy", dy, "batchNormBackward");
      const opts = L.optionsOf(o, "backward") as SyncBackwardOptions & { out?: TensorLike; globalSums?: unknown };
      const g = L.resolveGeometry(x, opts as ShapeOptions);
      // An activation's gradient needs dy·act'(v) before the sums: that backward runs on this thread.
      const plan = opts.globalSums !== undefined || opts.activation !== undefined ? null : splitRows(L, g, this.size, this.minSplit.batchNormBackward, x, { dy, out: opts.out, writes: true });
      if (!plan) return L.batchNormBackward(x, dy, opts as BatchNormBackwardOptions);
      L.sameSize("dy", dy, g);
      if (L.isTensor(dy)) L.sameShape("dy", dy, g.shape, g.layout, "x");
      L.sameSize("out", opts.out, g);
      const r = await this.runBackward(op, plan, opts, [x, dy, opts.out]);
      return { dx: r.outputs[0], dgamma: r.dgamma, dbeta: r.dbeta };
    });
  }

  // ---- synchronized ops over shards: shard i runs on worker i mod size ----

  syncPartialStats(shards: Shard[], o: { layout?: Layout } = {}): Promise<Float64Array> {
    return this.enqueue("syncPartialStats", async (op) => {
      const { layout } = this.L.readOptions<{ layout?: Layout }>(o, ["layout"]);
      return this.runStats(op, shardPlan(this.L, shards, layout, false, this.size, "syncPartialStats"));
    });
  }

  syncBatchNormTrain(shards: Shard[], o: SyncTrainOptions): Promise<SyncTrainResult> {
    return this.enqueue("syncBatchNormTrain", async (op) => {
      const opts = this.L.optionsOf(o, "train") as SyncTrainOptions;
      perShard(opts, "syncBatchNormTrain");
      const r = await this.runTrain(op, shardPlan(this.L, shards, opts.layout, false, this.size, "syncBatchNormTrain"), opts, shardArrays(shards));
      return { ys: r.outputs, ...r.rest };
    });
  }

  syncBatchNormBackward(shards: BackwardShard[], o: SyncBackwardOptions): Promise<SyncBackwardResult> {
    return this.enqueue("syncBatchNormBackward", async (op) => {
      const opts = this.L.optionsOf(o, "backward") as SyncBackwardOptions;
      perShard(opts, "syncBatchNormBackward");
      const plan = shardPlan(this.L, shards, opts.layout, true, this.size, "syncBatchNormBackward");
      const r = await this.runBackward(op, plan, opts, shardArrays(shards));
      return { dxs: r.outputs, dgamma: r.dgamma, dbeta: r.dbeta };
    });
  }

  // ---- ops as phases ----

  private runStats(op: Op, plan: Plan): Promise<Float64Array> {
    // Statistics write no outputs (a shard plan names one per shard, for the ops that do).
    return this.withMemory({ parts: plan.parts, C: plan.C, count: plan.count, inputs: plan.inputs, outs: [] }, (mem) => this.phase(op, mem, plan, "stats", false, () => ({})));
  }

  /**
   * o: the options as read once (optionsOf); checked here before any phase starts. data: the
   * op's tensors and arrays (x, dy, out of each shard), which the result arrays the caller gives
   * (saveMeanOut, saveInvstdOut, varOut) must not share.
   */
  private runTrain(op: Op, plan: Plan, o: SyncTrainOptions, data: unknown[]) {
    const t = this.L.trainOptions(plan.C, o as unknown as Record<string, unknown>);
    const rm = t.runningMean, rv = t.runningVar;
    const outs = this.L.bnOutputs(plan.C, o as unknown as Record<string, unknown>, [o.gamma, o.beta, rm, rv, o.globalStats, ...data]);
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
      if (rm && r.running) { this.L.typedSet(rm, r.running[0]); this.L.typedSet(rv!, r.running[1]); }
      return {
        outputs,
        rest: {
          saveMean: into(this.L, outs.mean, r.saveMean), saveInvstd: into(this.L, outs.invstd, r.saveInvstd), var: into(this.L, outs.var, r.var),
          count: global[0], numBatchesTracked: t.numBatchesTracked + 1,
        },
      };
    });
  }

  /** o: the options as read once (optionsOf); checked here before any phase starts. data: as runTrain's (dgammaOut, dbetaOut). */
  private runBackward(op: Op, plan: Plan, o: SyncBackwardOptions, data: unknown[]) {
    const b = this.L.backwardOptions(plan.C, o as unknown as Record<string, unknown>, plan.count);
    if (o.activation !== undefined) throw new Error("activation: the pool's synchronized backward all-reduces the sums of dy, not of dy·act'; call batchNormBackward per shard on dy already taken through the activation");
    const outs = this.L.gradOutputs(plan.C, o as unknown as Record<string, unknown>, [o.gamma, o.beta, o.saveMean, o.saveInvstd, ...data]);
    const count = b.count;
    return this.withMemory(plan, async (mem) => {
      const base = { channels: plan.C, saveMean: Float64Array.from(b.saveMean) };
      const globalSums = await this.phase(op, mem, plan, "sums", true, () => base);
      const r = await this.phase(op, mem, plan, "backward", false, () => ({ channels: base.channels, saveMean: base.saveMean, gamma: b.gamma, saveInvstd: b.saveInvstd, globalSums, count }));
      return { outputs: mem.results(), dgamma: into(this.L, outs.dgamma, r.dgamma), dbeta: into(this.L, outs.dbeta, r.dbeta) };
    });
  }

  /** fn with the op's memory, released after it (kept intact for the caller if fn succeeded). */
  private async withMemory<T>(plan: Plan, fn: (mem: OpMemory) => Promise<T>): Promise<T> {
    const mem = opMemory(this.L, this.transport === "shared", plan.C, plan.parts, plan.inputs, plan.outs);
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
    const combine = COMBINE[phase] as unknown as Combine<Record<string, unknown>, PhaseResult<K>>, writes = WRITES[phase];
    const bySlot = new Map<number, Plan["parts"]>();
    for (const p of plan.parts) if (p.slot >= 0) { if (!bySlot.has(p.slot)) bySlot.set(p.slot, []); bySlot.get(p.slot)!.push(p); }
    const order = [...bySlot.keys()].sort((a, b) => a - b);
    const shared = this.transport === "shared";
    // Message transport: a writing phase after an earlier one uses the parts the workers kept.
    const kept = !shared && op.slots.size > 0 && writes;
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
        if (p.out >= 0 && writes) m.out = mem.outRef(p.out, p.off, p.size);
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
    if (!shared && writes) {
      order.forEach((k, n) => {
        const outs = (replies[n] as unknown as Outputs).outs;
        bySlot.get(k)!.forEach((p, j) => mem.put(p.out, p.off, outs[j]));
      });
    }
    return combine(replies, plan.C, this.L);
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

/** The result r, or a copy of it in the caller's array when one was given (then returned). */
function into(L: PoolLink, given: Float32Array | undefined, r: Float32Array): Float32Array {
  if (!given) return r;
  L.typedSet(given, r);
  return given;
}

/** The x, dy and out of every shard (the arrays a given result array must not share). */
/** shape and out belong to each shard ({ x, shape, out }), not to the synchronized call's options. */
function perShard(opts: object, op: string): void {
  const o = opts as { shape?: unknown; out?: unknown };
  for (const [k, v] of [["shape", o.shape], ["out", o.out]] as const) {
    if (v !== undefined && v !== null) throw new Error(`${k} is not an option of ${op}: each shard gives its own ({ x, shape, out })`);
  }
}

function shardArrays(shards: readonly (Shard | BackwardShard)[]): unknown[] {
  const out: unknown[] = [];
  for (const sh of shards) {
    const s = sh as { x?: unknown; dy?: unknown; out?: unknown };
    out.push(s.x, s.dy, s.out);
  }
  return out;
}
