// WorkerPool: synchronized batch norm across worker threads, and big ops split across them.
//
// The owner thread coordinates (a star all-reduce): each op is a few phases; in each, every
// worker involved gets its parts, the owner waits for all answers, combines them — partial
// statistics merged with Chan's formula, (Σdy, Σdy·(x−mean)) pairs summed — and starts the next
// phase. Two transports:
//   shared   the owner's runtime is the threads build on a shared WebAssembly.Memory; the owner
//            alone allocates (tensors, copies, one scratch arena per worker per op) and workers
//            get pointers. Nothing is copied between threads.
//   message  every thread has its own memory; parts are posted (copied) to the workers, kept
//            there between the phases of one op, and only the partials (Float64Array) and the
//            outputs travel back.
// Faults: every call to a worker has a timeout; a worker that fails, throws, exits or does not
// answer makes the op reject with a WorkerPoolError naming the worker, the op and the phase.
// Failed workers are terminated before the op's memory is released, and replaced. Running
// statistics are written only after every phase succeeded.
import threadsWasm from "../../build/simdnorm-threads.wasm";
import plainWasm from "../../build/simdnorm.wasm";
import { init, rt, isInitialized } from "../core/runtime";
import { Scope } from "../core/scope";
import { Tensor, tensor, type TensorLike } from "../core/tensor";
import { resolveGeometry, sameSize, type ShapeOptions } from "../core/args";
import { geometry, fmtShape, type Geometry, type Layout } from "../core/layout";
import { tempBytes } from "../ops/dispatch";
import { partialStats, finishStats, mergePartials, type ChannelStats } from "../ops/stats";
import {
  batchNormTrain, batchNormBackward,
  type BatchNormTrainOptions, type BatchNormTrainResult, type BatchNormBackwardOptions, type BatchNormBackwardResult,
} from "../ops/batchnorm";
import { checkVec } from "../core/errors";
import { spawn, isNode, workersAvailable, type HostWorker } from "./host";
import type { Fault, FromWorker, PartMsg, Phase, Ref, RunMsg, TransportName } from "./protocol";

export type { TransportName, Fault } from "./protocol";

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
   * fewer values run on the calling thread. Default 2^22 (4M) with shared memory; with message
   * passing the copies cost as much as the op, so by default they never split.
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

/** Why an op failed on a worker. */
export type FaultReason = "failed" | "threw" | "exited" | "timeout" | "closed" | "start";

/** An op rejected because of a worker. `worker` is its index in the pool (0-based). */
export class WorkerPoolError extends Error {
  readonly worker: number;
  readonly op: string;
  readonly phase: string;
  readonly reason: FaultReason;
  constructor(message: string, worker: number, op: string, phase: string, reason: FaultReason) {
    super(message);
    this.name = "WorkerPoolError";
    this.worker = worker; this.op = op; this.phase = phase; this.reason = reason;
  }
}

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_MIN_SPLIT = 1 << 22;
/**
 * Default split thresholds per whole-tensor op when `minSplit` is not given (measured on a
 * 2-vCPU VM, NCHW C = 32): statistics pay from 4M values (1.3× over one thread at 8M); the
 * training forward moves 3× the bytes and pays only from ~16M values (1.28× at 32M, 0.7× at
 * 8M); the backward was slower split at every size measured (up to 32M), so it stays on the
 * calling thread unless `minSplit` asks otherwise.
 */
const DEFAULT_SPLIT: Record<"partialStats" | "batchNormTrain" | "batchNormBackward", number> = {
  partialStats: 1 << 22, batchNormTrain: 1 << 24, batchNormBackward: Infinity,
};
/** The threads build declares its memory with at most 16384 pages (1 GiB). */
const SHARED_MAX_PAGES = 16384;
const ARENA_INIT = 64 * 1024;
const START_TIMEOUT = 30_000;

interface Pending { resolve(r: Record<string, unknown>): void; reject(e: Error): void; }

type SlotState = "starting" | "ready" | "broken" | "closed";

/** One worker place in the pool; its thread is replaced when it fails. */
class Slot {
  host: HostWorker | null = null;
  state: SlotState = "starting";
  starts = 0;
  ready: Promise<void> = Promise.resolve();
  readonly pending = new Map<number, Pending>();
  /** What the slot is doing, for error messages: [op, phase]. */
  doing: [string, string] = ["", ""];
  /** Ends a start in progress (close()). */
  cancel: ((e: Error) => void) | null = null;
  constructor(readonly index: number) {}
}

interface Op { id: number; name: string; slots: Set<Slot>; }

/** A part of an op: which user array, at which offset, with what shape, on which worker. */
interface Part {
  shape: number[]; layout: Layout; size: number;
  x: number; dy: number; out: number; off: number; slot: number;
}

interface OutSpec { name: string; len: number; shape: number[]; layout: Layout; asTensor: boolean; user?: TensorLike; }

/**
 * Memory for one op. Shared: the user's arrays bound by a Scope (zero-copy when they live in the
 * shared memory, else copied in once / out once), plus a scratch arena per worker. Message:
 * parts are copied out of the user's arrays, outputs assembled from the answers.
 */
class Staging {
  private readonly s: Scope | null;
  private readonly ptrs: number[] = [];
  private outs: ReturnType<Scope["output"]>[] = [];
  private values: Float32Array[] = [];
  private readonly arenas: [number, number][] = [];

  constructor(shared: boolean, private readonly inputs: { name: string; arr: TensorLike; len: number }[], private readonly outSpecs: OutSpec[], arenas: number, arenaBytes: number) {
    if (!shared) { this.s = null; this.values = outSpecs.map((o) => new Float32Array(o.len)); return; }
    const s = (this.s = new Scope({ stage: false })); // held across awaits: not from the LIFO stage
    try {
      const args = inputs.map((a) => s.input(a.name, a.arr, a.len));
      const outs = outSpecs.map((o) => s.output(o.name, o.user, o.len, o.asTensor, o.shape, o.layout));
      s.commit(arenas * (arenaBytes + 16));
      for (const a of args) this.ptrs.push(a.ptr);
      this.outs = outs;
      for (let k = 0; k < arenas; k++) { const p = s.temp(arenaBytes); this.arenas.push([p, p + arenaBytes]); }
    } catch (e) {
      s.dispose(true);
      throw e;
    }
  }

  /** What a worker reads for input i from offset off (values); copies made here go in transfer. */
  ref(i: number, off: number, len: number, transfer: Transferable[]): Ref {
    if (this.s) return { ptr: this.ptrs[i] + 4 * off, len };
    const a = this.inputs[i].arr;
    const v = a instanceof Tensor ? a.data : a;
    const sub = v.subarray(off, off + len);
    // Posting a view clones its whole buffer: post the caller's array only when it is all of its
    // buffer (cloned once), else a copy of just the part, moved rather than cloned again.
    if (sub.byteOffset === 0 && sub.byteLength === sub.buffer.byteLength) return sub;
    const copy = sub.slice();
    transfer.push(copy.buffer);
    return copy;
  }

  outRef(o: number, off: number, len: number): { ptr: number; len: number } | undefined {
    return this.s ? { ptr: this.outs[o].ptr + 4 * off, len } : undefined;
  }

  arena(k: number): [number, number] | undefined { return this.s ? this.arenas[k] : undefined; }

  /** Message transport: a worker's output for output o at offset off. */
  put(o: number, off: number, v: Float32Array): void { this.values[o].set(v, off); }

  /** The outputs, once every phase succeeded (plain arrays copied out, tensors made). */
  results(): TensorLike[] {
    if (this.s) return this.outs.map((o) => this.s!.result(o));
    return this.outSpecs.map((o, i) => {
      const v = this.values[i];
      if (o.user instanceof Tensor) { o.user.set(v); return o.user; }
      if (o.user) { o.user.set(v); return o.user; }
      return o.asTensor ? tensor(o.shape, o.layout, v) : v;
    });
  }

  dispose(failed: boolean): void { this.s?.dispose(failed); }
}

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
  readonly minSplit: number;
  /** minSplit as given (undefined: per-op defaults). */
  private readonly splitOption: number | undefined;
  private readonly slots: Slot[];
  private readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private opId = 0;
  private closed = false;
  private faults: { worker: number; fault: Fault }[] = [];

  /** Use createPool(). `module` is what the workers instantiate. */
  constructor(transport: TransportName, size: number, o: WorkerPoolOptions, module: WebAssembly.Module) {
    this.transport = transport;
    this.size = size;
    this.timeout = o.timeout ?? DEFAULT_TIMEOUT;
    this.minSplit = o.minSplit ?? (transport === "shared" ? DEFAULT_MIN_SPLIT : Infinity);
    this.splitOption = o.minSplit;
    this.module = module;
    this.memory = transport === "shared" ? rt().heap.memory : undefined;
    this.slots = Array.from({ length: size }, (_, i) => new Slot(i));
  }

  /** Start every worker; resolves when all are ready. */
  async start(): Promise<this> {
    for (const s of this.slots) this.startSlot(s);
    try {
      await Promise.all(this.slots.map((s) => s.ready));
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

  get isClosed(): boolean { return this.closed; }

  /**
   * Testing aid: the next message for `phase` (any phase when omitted) sent to worker `worker`
   * makes it throw, throw uncaught, exit or hang.
   */
  injectFault(worker: number, fault: Fault): void {
    if (!(worker >= 0 && worker < this.size)) throw new Error(`worker must be an index in [0, ${this.size}), got ${worker}`);
    this.faults.push({ worker, fault });
  }

  /** End every worker. Ops in flight or queued reject; later calls reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map(async (s) => {
      s.state = "closed";
      s.cancel?.(new WorkerPoolError(`the worker pool was closed while worker ${s.index} was starting`, s.index, "start", "init", "closed"));
      this.failPending(s, (op, phase) => new WorkerPoolError(`simdnorm worker ${s.index} was stopped: the pool was closed during ${op} (${phase} phase)`, s.index, op, phase, "closed"));
      const h = s.host;
      s.host = null;
      if (h) await bounded(h.terminate(), 5000);
    }));
  }

  // ---- whole-tensor ops: split across the pool when large enough, else on the calling thread ----

  /**
   * Partial statistics (C triples count, mean, M2) of one tensor, its rows split across the
   * workers when it holds at least `minSplit` values. Same result as partialStats().
   */
  partialStats(x: TensorLike, o: ShapeOptions = {}): Promise<Float64Array> {
    return this.enqueue("partialStats", async (op) => {
      const g = resolveGeometry(x, o);
      const plan = this.plan(g, "partialStats");
      if (!plan) return partialStats(x, o);
      const parts = plan.map((p, i) => ({ ...p, x: 0, dy: -1, out: -1, slot: i % this.size }));
      return this.runStats(op, g.C, parts, [{ name: "x", arr: x, len: g.size }]);
    });
  }

  /** Per-channel mean and variance of one tensor (see partialStats for the split). */
  async channelStats(x: TensorLike, o: ShapeOptions = {}): Promise<ChannelStats> {
    return finishStats(await this.partialStats(x, o));
  }

  /**
   * batchNormTrain on one tensor, split across the workers when it holds at least `minSplit`
   * values: each normalizes its rows with the merged statistics. Same result as batchNormTrain();
   * the running statistics are updated once, after everything succeeded.
   */
  batchNormTrain(x: TensorLike, o: BatchNormTrainOptions): Promise<BatchNormTrainResult> {
    return this.enqueue("batchNormTrain", async (op) => {
      const g = resolveGeometry(x, o ?? {});
      const plan = this.plan(g, "batchNormTrain");
      if (!plan) return batchNormTrain(x, o);
      sameSize("out", o.out, g);
      const parts = plan.map((p, i) => ({ ...p, x: 0, dy: -1, out: 0, slot: i % this.size }));
      const outs: OutSpec[] = [{ name: "out", len: g.size, shape: g.shape, layout: g.layout, asTensor: o.out === undefined && x instanceof Tensor, user: o.out }];
      const r = await this.runTrain(op, g.C, parts, [{ name: "x", arr: x, len: g.size }], outs, o);
      return { ...r.rest, y: r.outputs[0] };
    });
  }

  /**
   * batchNormBackward on one tensor, split across the workers when it holds at least `minSplit`
   * values (the sums are all-reduced). Same result as batchNormBackward().
   */
  batchNormBackward(x: TensorLike, dy: TensorLike, o: BatchNormBackwardOptions): Promise<BatchNormBackwardResult> {
    return this.enqueue("batchNormBackward", async (op) => {
      const g = resolveGeometry(x, o ?? ({} as ShapeOptions));
      const plan = o?.globalSums ? null : this.plan(g, "batchNormBackward");
      if (!plan) return batchNormBackward(x, dy, o);
      sameSize("dy", dy, g);
      sameSize("out", o.out, g);
      const parts = plan.map((p, i) => ({ ...p, x: 0, dy: 1, out: 0, slot: i % this.size }));
      const outs: OutSpec[] = [{ name: "out", len: g.size, shape: g.shape, layout: g.layout, asTensor: o.out === undefined && x instanceof Tensor, user: o.out }];
      const inputs = [{ name: "x", arr: x, len: g.size }, { name: "dy", arr: dy, len: g.size }];
      const r = await this.runBackward(op, g.C, parts, inputs, outs, o, o.count ?? g.N * g.S);
      return { dx: r.outputs[0], dgamma: r.dgamma, dbeta: r.dbeta };
    });
  }

  // ---- synchronized ops over shards: shard i runs on worker i mod size ----

  /** Partial statistics over every shard, merged (Chan): the statistics of their concatenation. */
  syncPartialStats(shards: Shard[], o: { layout?: Layout } = {}): Promise<Float64Array> {
    return this.enqueue("syncPartialStats", async (op) => {
      const { C, parts, inputs } = this.shardParts(shards, o.layout, false);
      return this.runStats(op, C, parts, inputs);
    });
  }

  /**
   * Synchronized batch norm, forward: every shard is normalized with the statistics of all of
   * them together, and the running statistics (given once, in `o`) are updated once. ys[i], the
   * saved statistics and the running update equal batchNormTrain on the concatenated batch.
   */
  syncBatchNormTrain(shards: Shard[], o: SyncTrainOptions): Promise<SyncTrainResult> {
    return this.enqueue("syncBatchNormTrain", async (op) => {
      const { C, parts, inputs, outs } = this.shardParts(shards, o?.layout, false);
      const r = await this.runTrain(op, C, parts, inputs, outs, o ?? {});
      return { ...r.rest, ys: r.outputs };
    });
  }

  /**
   * Synchronized batch norm, backward: (Σdy, Σdy·(x−mean)) are all-reduced over the shards, then
   * every shard computes its dx; dgamma and dbeta are summed over the shards. Equals
   * batchNormBackward on the concatenated batch.
   */
  syncBatchNormBackward(shards: BackwardShard[], o: SyncBackwardOptions): Promise<SyncBackwardResult> {
    return this.enqueue("syncBatchNormBackward", async (op) => {
      const { C, parts, inputs, outs, count } = this.shardParts(shards, o?.layout, true);
      const r = await this.runBackward(op, C, parts, inputs, outs, o ?? ({} as SyncBackwardOptions), o?.count ?? count);
      return { dxs: r.outputs, dgamma: r.dgamma, dbeta: r.dbeta };
    });
  }

  // ---- planning ----

  /** Rows of one tensor split into at most `size` parts, or null: run on the calling thread. */
  private plan(g: Geometry, op: keyof typeof DEFAULT_SPLIT): { shape: number[]; layout: Layout; size: number; off: number }[] | null {
    const min = this.splitOption ?? (this.transport === "shared" ? DEFAULT_SPLIT[op] : Infinity);
    if (this.size < 2 || g.size < min) return null;
    // Channels-last data is R = N·S rows of C values: any row boundary will do (an "NC" view).
    // Channels-first data splits along N only (a channel's values are contiguous per sample).
    const rows = g.channelsLast ? g.N * g.S : g.N;
    const K = Math.min(this.size, rows);
    if (K < 2) return null;
    const per = g.size / rows;
    const out = [];
    for (let k = 0; k < K; k++) {
      const r0 = Math.floor((rows * k) / K), r1 = Math.floor((rows * (k + 1)) / K);
      const shape = g.channelsLast ? [r1 - r0, g.C] : [r1 - r0, ...g.shape.slice(1)];
      out.push({ shape, layout: (g.channelsLast ? "NC" : g.layout) as Layout, size: (r1 - r0) * per, off: r0 * per });
    }
    return out;
  }

  private shardParts(shards: (Shard | BackwardShard)[], layout: Layout | undefined, backward: boolean) {
    if (!Array.isArray(shards) || shards.length === 0) throw new Error(`shards must be a non-empty array of { x, shape }, got ${Array.isArray(shards) ? "an empty array" : typeof shards}`);
    const inputs: { name: string; arr: TensorLike; len: number }[] = [];
    const outs: OutSpec[] = [];
    const parts: Part[] = [];
    let C = -1, count = 0, used = 0;
    shards.forEach((sh, i) => {
      const name = `shards[${i}]`;
      if (!sh || typeof sh !== "object") throw new Error(`${name} must be { x, shape }, got ${String(sh)}`);
      const g = shardGeometry(sh.x, sh.shape, layout, `${name}.x`);
      if (C >= 0 && g.C !== C) throw new Error(`${name} has ${g.C} channels, shards[0] has ${C}`);
      if (parts.length && g.layout !== parts[0].layout) throw new Error(`${name} has layout ${g.layout}, shards[0] ${parts[0].layout}`);
      C = g.C;
      count += g.N * g.S;
      const dy = (sh as BackwardShard).dy;
      if (backward) {
        if (!(dy instanceof Float32Array || dy instanceof Tensor)) throw new Error(`${name}.dy must be a Float32Array or a simdnorm Tensor of ${g.size} values`);
        sameSize(`${name}.dy`, dy, g);
      }
      sameSize(`${name}.out`, sh.out, g);
      inputs.push({ name: `${name}.x`, arr: sh.x, len: g.size });
      if (backward) inputs.push({ name: `${name}.dy`, arr: dy, len: g.size });
      outs.push({ name: `${name}.out`, len: g.size, shape: g.shape, layout: g.layout, asTensor: sh.out === undefined && sh.x instanceof Tensor, user: sh.out });
      const xi = inputs.length - (backward ? 2 : 1);
      parts.push({ shape: g.shape, layout: g.layout, size: g.size, x: xi, dy: backward ? xi + 1 : -1, out: i, off: 0, slot: g.size ? used++ % this.size : -1 });
    });
    return { C, parts, inputs, outs, count };
  }

  // ---- op engines ----

  private async runStats(op: Op, C: number, parts: Part[], inputs: Staging["inputs"]): Promise<Float64Array> {
    const st = this.stage(C, parts, inputs, []);
    let failed = true;
    try {
      const acc = new Float64Array(3 * C);
      for (const r of await this.phase(op, st, parts, "stats", false, () => ({}))) mergePartials(acc, r.partials as Float64Array);
      failed = false;
      return acc;
    } finally {
      st.dispose(failed);
    }
  }

  private async runTrain(op: Op, C: number, parts: Part[], inputs: Staging["inputs"], outs: OutSpec[], o: SyncTrainOptions) {
    if (o.gamma != null) checkVec("gamma", o.gamma, C);
    if (o.beta != null) checkVec("beta", o.beta, C);
    const rm = o.runningMean, rv = o.runningVar;
    if ((rm === undefined) !== (rv === undefined)) throw new Error(`runningMean and runningVar go together: got only ${rm === undefined ? "runningVar" : "runningMean"}`);
    if (rm !== undefined) { checkVec("runningMean", rm, C); checkVec("runningVar", rv, C); }
    if (o.globalStats !== undefined && (!(o.globalStats instanceof Float64Array) || o.globalStats.length !== 3 * C)) {
      throw new Error(`globalStats must be a Float64Array of ${C} triples (count, mean, M2)`);
    }
    const st = this.stage(C, parts, inputs, outs);
    let failed = true;
    try {
      let global = o.globalStats;
      if (!global) {
        global = new Float64Array(3 * C);
        for (const r of await this.phase(op, st, parts, "stats", true, () => ({}))) mergePartials(global, r.partials as Float64Array);
      }
      if (!(global[0] > 1)) throw new Error(`training batch norm needs more than one value per channel: the batch holds ${global[0]}`);
      // The running statistics travel (as f64 copies) to one worker and come back updated.
      const holder = parts.find((p) => p.slot >= 0)!.slot;
      const params = {
        globalStats: global, gamma: o.gamma, beta: o.beta, eps: o.eps, momentum: o.momentum,
        convention: o.convention, numBatchesTracked: o.numBatchesTracked,
      };
      const running = rm ? { runningMean: Float64Array.from(rm), runningVar: Float64Array.from(rv!) } : {};
      const replies = await this.phase(op, st, parts, "normalize", false, (slot) => (slot === holder ? { ...params, ...running } : params));
      const first = replies[0];
      const outputs = st.results();
      const held = replies.find((r) => r.runningMean);
      if (rm && held) { rm.set(held.runningMean as Float64Array); rv!.set(held.runningVar as Float64Array); }
      failed = false;
      return {
        outputs,
        rest: {
          saveMean: first.saveMean as Float32Array, saveInvstd: first.saveInvstd as Float32Array, var: first.var as Float32Array,
          count: global[0], numBatchesTracked: (o.numBatchesTracked ?? 0) + 1,
        },
      };
    } finally {
      st.dispose(failed);
    }
  }

  private async runBackward(op: Op, C: number, parts: Part[], inputs: Staging["inputs"], outs: OutSpec[], o: SyncBackwardOptions, count: number) {
    if (o.gamma != null) checkVec("gamma", o.gamma, C);
    checkVec("saveMean", o.saveMean, C);
    checkVec("saveInvstd", o.saveInvstd, C);
    const st = this.stage(C, parts, inputs, outs);
    let failed = true;
    try {
      const base = { channels: C, saveMean: Float64Array.from(o.saveMean) };
      const sums = new Float64Array(2 * C);
      for (const r of await this.phase(op, st, parts, "sums", true, () => base)) {
        const s = r.sums as Float64Array;
        for (let j = 0; j < sums.length; j++) sums[j] += s[j];
      }
      const params = { ...base, gamma: o.gamma, saveInvstd: o.saveInvstd, globalSums: sums, count };
      const replies = await this.phase(op, st, parts, "backward", false, () => params);
      const dg = new Float64Array(C), db = new Float64Array(C);
      for (const r of replies) {
        const a = r.dgamma as Float64Array, b = r.dbeta as Float64Array;
        for (let c = 0; c < C; c++) { dg[c] += a[c]; db[c] += b[c]; }
      }
      const outputs = st.results();
      failed = false;
      return { outputs, dgamma: Float32Array.from(dg), dbeta: Float32Array.from(db) };
    } finally {
      st.dispose(failed);
    }
  }

  private stage(C: number, parts: Part[], inputs: Staging["inputs"], outs: OutSpec[]): Staging {
    // Scratch a worker needs for one call on its largest part (the kernels' temporaries, the
    // per-channel parameters, accumulators), with room to spare.
    let most = 0;
    for (const p of parts) if (p.size) most = Math.max(most, tempBytes(geometry(p.shape, p.layout)));
    const used = new Set(parts.filter((p) => p.slot >= 0).map((p) => p.slot)).size;
    return new Staging(this.transport === "shared", inputs, outs, used, most + 256 * C + 65536);
  }

  /**
   * One phase: every worker holding parts gets them, the owner waits for all answers (each call
   * bounded by the timeout). Answers come back in worker order. Any failure: the failed workers
   * are terminated and replaced, the others drop what they kept, and the op rejects.
   */
  private async phase(op: Op, st: Staging, parts: Part[], phase: Phase, keep: boolean, params: (slot: number) => Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const bySlot = new Map<number, Part[]>();
    for (const p of parts) if (p.slot >= 0) { if (!bySlot.has(p.slot)) bySlot.set(p.slot, []); bySlot.get(p.slot)!.push(p); }
    const order = [...bySlot.keys()].sort((a, b) => a - b);
    const shared = this.transport === "shared";
    const kept = !shared && op.slots.size > 0 && (phase === "normalize" || phase === "backward");
    const jobs = order.map((k, n) => {
      const slot = this.slots[k];
      op.slots.add(slot);
      const transfer: Transferable[] = [];
      const msgs: PartMsg[] = bySlot.get(k)!.map((p) => {
        const m: PartMsg = { shape: p.shape, layout: p.layout };
        if (!kept) {
          m.x = st.ref(p.x, p.off, p.size, transfer);
          if (p.dy >= 0) m.dy = st.ref(p.dy, p.off, p.size, transfer);
        }
        if (p.out >= 0 && (phase === "normalize" || phase === "backward")) m.out = st.outRef(p.out, p.off, p.size);
        return m;
      });
      const msg: RunMsg = { t: "run", seq: ++this.seq, op: op.id, phase, parts: msgs, keep: keep && !shared, arena: st.arena(n), params: params(k), fault: this.takeFault(k, phase) };
      return this.call(slot, op, msg, transfer);
    });
    const settled = await Promise.allSettled(jobs);
    const bad = settled.map((s, n) => [s, this.slots[order[n]]] as const).filter(([s]) => s.status === "rejected");
    if (bad.length) {
      await this.recover(bad.map(([, slot]) => slot));
      throw (bad[0][0] as PromiseRejectedResult).reason;
    }
    // Outputs posted back (message transport) go to their place in the op's outputs.
    const replies = settled.map((s) => (s as PromiseFulfilledResult<Record<string, unknown>>).value);
    if (!shared) {
      order.forEach((k, n) => {
        const arrays = (replies[n].ys ?? replies[n].dxs) as Float32Array[] | undefined;
        if (arrays) bySlot.get(k)!.forEach((p, j) => st.put(p.out, p.off, arrays[j]));
      });
    }
    return replies;
  }

  /** After a failed phase: replace the failed workers, terminated first (their memory is reused). */
  private async recover(failed: Slot[]): Promise<void> {
    await Promise.all(failed.map((s) => this.replace(s)));
  }

  private takeFault(worker: number, phase: Phase): Fault | undefined {
    const i = this.faults.findIndex((f) => f.worker === worker && (!f.fault.phase || f.fault.phase === phase));
    return i < 0 ? undefined : this.faults.splice(i, 1)[0].fault;
  }

  // ---- calls, workers, faults ----

  private call(slot: Slot, op: Op, msg: RunMsg, transfer: Transferable[]): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (slot.state !== "ready" || !slot.host) {
        reject(new WorkerPoolError(`simdnorm worker ${slot.index} is not available (${slot.state}) for ${op.name} (${msg.phase} phase)`, slot.index, op.name, msg.phase, "start"));
        return;
      }
      slot.doing = [op.name, msg.phase];
      const timer = setTimeout(() => {
        slot.pending.delete(msg.seq);
        slot.state = "broken";
        reject(new WorkerPoolError(`simdnorm worker ${slot.index} did not answer within ${this.timeout} ms during ${op.name} (${msg.phase} phase)`, slot.index, op.name, msg.phase, "timeout"));
      }, this.timeout);
      slot.pending.set(msg.seq, {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      try {
        slot.host.post(msg, transfer);
      } catch (e) {
        slot.pending.get(msg.seq)?.reject(new WorkerPoolError(`could not send ${op.name} (${msg.phase} phase) to simdnorm worker ${slot.index}: ${(e as Error).message}`, slot.index, op.name, msg.phase, "failed"));
        slot.pending.delete(msg.seq);
      }
    });
  }

  private failPending(slot: Slot, make: (op: string, phase: string) => Error): void {
    const [op, phase] = slot.doing;
    for (const p of slot.pending.values()) p.reject(make(op, phase));
    slot.pending.clear();
  }

  private startSlot(slot: Slot): void {
    slot.starts++;
    slot.state = "starting";
    const gen = slot.starts;
    const shared = this.transport === "shared";
    // Warm-up scratch in the shared memory, lent until the worker is ready.
    const arena = shared ? rt().heap.alloc(ARENA_INIT) : -1;
    const lent = () => { if (arena >= 0 && rt().heap.isAllocated(arena)) rt().heap.release(arena); };
    slot.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (e?: Error) => {
        if (settled) return;
        settled = true;
        slot.cancel = null;
        clearTimeout(timer);
        if (e) { slot.state = slot.state === "closed" ? "closed" : "broken"; reject(e); } else { slot.state = "ready"; resolve(); }
      };
      const startError = (why: string) => new WorkerPoolError(`simdnorm worker ${slot.index} could not start: ${why}`, slot.index, "start", "init", "start");
      // Starting a thread can take long on a loaded machine: bounded, but not by the op timeout.
      const bound = Math.max(this.timeout, START_TIMEOUT);
      const timer = setTimeout(() => finish(startError(`no answer within ${bound} ms`)), bound);
      slot.cancel = finish;
      const live = () => slot.starts === gen && !this.closed;
      spawn(`simdnorm-worker-${slot.index}`, {
        message: (d) => {
          if (!live()) return;
          const m = d as FromWorker;
          if (m.t === "ready") { lent(); finish(); return; }
          if (m.t === "init-failed") { finish(startError(m.error)); return; }
          const p = slot.pending.get(m.seq);
          if (!p) return;
          slot.pending.delete(m.seq);
          if (m.t === "done") p.resolve(m.result);
          else {
            slot.state = "broken";
            p.reject(new WorkerPoolError(`simdnorm worker ${slot.index} failed during ${slot.doing[0]} (${slot.doing[1]} phase): ${m.error}`, slot.index, slot.doing[0], slot.doing[1], "failed"));
          }
        },
        error: (err) => {
          if (!live()) return;
          slot.state = "broken";
          const why = `${err && err.message ? err.message : String(err)}`;
          finish(startError(why));
          this.failPending(slot, (op, phase) => new WorkerPoolError(`simdnorm worker ${slot.index} threw during ${op} (${phase} phase): ${why}`, slot.index, op, phase, "threw"));
        },
        exit: (code) => {
          if (!live()) return;
          slot.state = "broken";
          finish(startError(`exited with code ${code}`));
          this.failPending(slot, (op, phase) => new WorkerPoolError(`simdnorm worker ${slot.index} exited (code ${code}) during ${op} (${phase} phase)`, slot.index, op, phase, "exited"));
        },
      }).then((host) => {
        if (!live()) { host.terminate(); return; }
        slot.host = host;
        host.post({ t: "init", index: slot.index, module: this.module, memory: this.memory, arena: shared ? [arena, arena + ARENA_INIT] : undefined });
      }, (e) => finish(startError((e as Error).message)));
    });
    // A worker that never became ready must not keep its scratch.
    slot.ready.catch(() => {}).then(() => { if (slot.state !== "ready") lent(); });
  }

  /** Terminate a slot's thread (waiting until it stopped, so its memory can be reused) and start a new one. */
  private async replace(slot: Slot): Promise<void> {
    if (this.closed) return;
    const h = slot.host;
    slot.host = null;
    slot.state = "broken";
    this.failPending(slot, (op, phase) => new WorkerPoolError(`simdnorm worker ${slot.index} was replaced during ${op} (${phase} phase)`, slot.index, op, phase, "failed"));
    if (h) await bounded(h.terminate(), 5000);
    if (!this.closed) this.startSlot(slot);
  }

  private enqueue<T>(name: string, fn: (op: Op) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new Error(`the worker pool is closed: ${name} cannot run`);
      // Workers that failed earlier (or died while idle) are replaced before the op starts.
      for (const s of this.slots) if (s.state === "broken") await this.replace(s);
      await Promise.all(this.slots.map((s) => s.ready));
      const op: Op = { id: ++this.opId, name, slots: new Set() };
      try {
        return await fn(op);
      } catch (e) {
        // Message transport: workers that kept parts for a later phase let them go.
        if (this.transport === "message") for (const s of op.slots) if (s.host && s.state === "ready") s.host.post({ t: "drop", op: op.id });
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }
}

/** Geometry of a shard; N = 0 (an empty shard) is allowed here, unlike in single ops. */
function shardGeometry(x: TensorLike, shape: number[] | undefined, layout: Layout | undefined, name: string): Geometry {
  const sh = shape ?? (x instanceof Tensor ? x.shape : undefined);
  if (sh && sh[0] === 0 && x instanceof Float32Array) {
    const g = geometry([1, ...Array.from(sh).slice(1)], layout, name);
    if (x.length !== 0) throw new Error(`${name} holds ${x.length} values, the shape ${fmtShape(sh)} needs 0`);
    return { ...g, shape: Array.from(sh), N: 0, size: 0 };
  }
  return resolveGeometry(x, { shape, layout }, name);
}

function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p.then(() => {}, () => {}), new Promise<void>((r) => { timer = setTimeout(r, ms); })]).finally(() => clearTimeout(timer));
}

function canShare(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) return false;
  try { return WebAssembly.validate(threadsWasm() as Uint8Array<ArrayBuffer>); } catch { return false; }
}

function runtimeIsShared(): boolean {
  return typeof SharedArrayBuffer !== "undefined" && rt().heap.buffer instanceof SharedArrayBuffer;
}

async function defaultWorkers(): Promise<number> {
  let n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 0;
  if (!n && isNode()) {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ ["node", "os"].join(":"))) as { availableParallelism?: () => number; cpus(): unknown[] };
    n = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  }
  return Math.max(1, Math.min(16, n || 2));
}

/**
 * Start a pool of worker threads. With the shared transport (the default where possible) the
 * simdnorm runtime of this thread becomes the threads build on a shared memory — create the pool
 * before calling init(), or the pool falls back to message passing ("auto") or throws
 * ("shared"). Rejects when workers are unavailable or a worker cannot start.
 * @example
 * const pool = await createPool({ workers: 2 });
 * const { ys } = await pool.syncBatchNormTrain([{ x: a, shape: [4, 8, 16, 16] }, { x: b, shape: [3, 8, 16, 16] }],
 *   { layout: "NCHW", gamma, beta, runningMean, runningVar });
 * await pool.close();
 */
export async function createPool(o: WorkerPoolOptions = {}): Promise<WorkerPool> {
  o = o ?? {};
  const want = o.transport ?? "auto";
  if (!["auto", "shared", "message"].includes(want)) throw new Error(`transport must be "auto", "shared" or "message", got ${String(want)}`);
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1)) throw new Error(`workers must be an integer ≥ 1, got ${o.workers}`);
  if (o.timeout !== undefined && !(o.timeout > 0)) throw new Error(`timeout must be a positive number of milliseconds, got ${o.timeout}`);
  if (o.minSplit !== undefined && !(o.minSplit >= 0)) throw new Error(`minSplit must be a number of values ≥ 0, got ${o.minSplit}`);
  if (!workersAvailable()) throw new Error("this environment has no workers: the pool needs Node worker_threads or Web Workers");
  let transport: TransportName = "message";
  if (want !== "message") {
    if (!isInitialized() && canShare()) {
      const module = await WebAssembly.compile(threadsWasm() as Uint8Array<ArrayBuffer>);
      const memory = new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true } as WebAssembly.MemoryDescriptor);
      await init({ wasm: module, memory });
    } else await init();
    if (runtimeIsShared()) transport = "shared";
    else if (want === "shared") {
      throw new Error(canShare()
        ? "transport \"shared\" needs the shared-memory runtime, but simdnorm was already initialized with its own memory: create the pool before calling init()"
        : "transport \"shared\" needs SharedArrayBuffer and wasm threads: in browsers the page must be cross-origin isolated (COOP same-origin + COEP require-corp)");
    }
  } else await init();
  // Message-passing workers have memories of their own: they need the plain build, even when
  // this thread runs the threads build (a shared pool may exist too).
  const own = rt().module;
  const importsMemory = WebAssembly.Module.imports(own).some((i) => i.kind === "memory");
  const module = transport === "message" && importsMemory ? await WebAssembly.compile(plainWasm() as Uint8Array<ArrayBuffer>) : own;
  const pool = new WorkerPool(transport, o.workers ?? (await defaultWorkers()), o, module);
  return pool.start();
}
