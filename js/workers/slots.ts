// The pool's worker threads and the messages to them: starting, calling with a timeout, routing
// replies, replacing failed threads, closing. Knows nothing of ops beyond their names.
//
// Faults: every call has a timeout; a worker that fails, throws, exits or does not answer makes
// the call reject with a WorkerPoolError naming the worker, the op and the phase. Failed workers
// are terminated (and awaited, so the op's memory can be reused) before they are replaced.
import { spawn, type HostWorker } from "./spawn";
import type { WorkerPoolError } from "./error";
import type { Fault, FromWorker, RunMsg, SlotState, TransportName } from "./protocol";

/** @internal */
export type Reply = Record<string, unknown>;
interface Pending { resolve(r: Reply): void; reject(e: Error): void; }

const START_TIMEOUT = 30_000;

/** @internal One worker place in the pool; its thread is replaced when it fails. */
export class Slot {
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

/** @internal The pool's slots and the messages to their threads. */
export class Threads {
  readonly all: Slot[];
  closed = false;
  private seq = 0;
  private faults: { worker: number; fault: Fault }[] = [];

  /** `Err`: the WorkerPoolError class of the bundle that made the pool (the class its users test for). */
  constructor(size: number, readonly transport: TransportName, readonly timeout: number, private readonly module: WebAssembly.Module, private readonly memory: WebAssembly.Memory | undefined, private readonly Err: typeof WorkerPoolError) {
    this.all = Array.from({ length: size }, (_, i) => new Slot(i));
  }

  /** Start every worker; resolves when all are ready. */
  async start(): Promise<void> {
    for (const s of this.all) this.startSlot(s);
    await Promise.all(this.all.map((s) => s.ready));
  }

  /** Before an op: replace the workers that failed earlier (or died while idle), wait until all are ready. */
  async ready(): Promise<void> {
    for (const s of this.all) if (s.state === "broken") await this.replace(s);
    await Promise.all(this.all.map((s) => s.ready));
  }

  /** Testing aid: the next message for `fault.phase` (any phase when omitted) to `worker` misbehaves. */
  injectFault(worker: number, fault: Fault): void {
    if (!(worker >= 0 && worker < this.all.length)) throw new Error(`worker must be an index in [0, ${this.all.length}), got ${worker}`);
    this.faults.push({ worker, fault });
  }

  /** A run message for slot k (its sequence number and any injected fault filled in). */
  message(k: number, m: Omit<RunMsg, "t" | "seq" | "fault">): RunMsg {
    const i = this.faults.findIndex((f) => f.worker === k && (!f.fault.phase || f.fault.phase === m.phase));
    const fault = i < 0 ? undefined : this.faults.splice(i, 1)[0].fault;
    return { t: "run", seq: ++this.seq, ...m, fault };
  }

  /** Send one message and wait for its reply, bounded by the timeout. */
  call(slot: Slot, op: string, msg: RunMsg, transfer: Transferable[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (slot.state !== "ready" || !slot.host) {
        reject(new this.Err(`simdnorm worker ${slot.index} is not available (${slot.state}) for ${op} (${msg.phase} phase)`, slot.index, op, msg.phase, "start"));
        return;
      }
      slot.doing = [op, msg.phase];
      const timer = setTimeout(() => {
        slot.pending.delete(msg.seq);
        slot.state = "broken";
        reject(new this.Err(`simdnorm worker ${slot.index} did not answer within ${this.timeout} ms during ${op} (${msg.phase} phase)`, slot.index, op, msg.phase, "timeout"));
      }, this.timeout);
      slot.pending.set(msg.seq, {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      try {
        slot.host.post(msg, transfer);
      } catch (e) {
        slot.pending.get(msg.seq)?.reject(new this.Err(`could not send ${op} (${msg.phase} phase) to simdnorm worker ${slot.index}: ${(e as Error).message}`, slot.index, op, msg.phase, "failed"));
        slot.pending.delete(msg.seq);
      }
    });
  }

  /** A reply to a call: settles the call waiting for it. */
  private reply(slot: Slot, m: Extract<FromWorker, { seq: number }>): void {
    const p = slot.pending.get(m.seq);
    if (!p) return;
    slot.pending.delete(m.seq);
    if (m.t === "done") { p.resolve(m.result); return; }
    slot.state = "broken";
    const [op, phase] = slot.doing;
    p.reject(new this.Err(`simdnorm worker ${slot.index} failed during ${op} (${phase} phase): ${m.error}`, slot.index, op, phase, "failed"));
  }

  /** The thread threw or exited: every call waiting on it rejects. */
  private failPending(slot: Slot, make: (op: string, phase: string) => Error): void {
    const [op, phase] = slot.doing;
    for (const p of slot.pending.values()) p.reject(make(op, phase));
    slot.pending.clear();
  }

  /** Message transport: workers that kept parts of a failed op let them go. */
  drop(opId: number, slots: Iterable<Slot>): void {
    for (const s of slots) if (s.host && s.state === "ready") s.host.post({ t: "drop", op: opId });
  }

  private startSlot(slot: Slot): void {
    slot.starts++;
    slot.state = "starting";
    const gen = slot.starts;
    const shared = this.transport === "shared";
    const live = () => slot.starts === gen && !this.closed;
    slot.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (e?: Error) => {
        if (settled) return;
        settled = true;
        slot.cancel = null;
        clearTimeout(timer);
        if (e) { slot.state = slot.state === "closed" ? "closed" : "broken"; reject(e); } else { slot.state = "ready"; resolve(); }
      };
      const startError = (why: string) => new this.Err(`simdnorm worker ${slot.index} could not start: ${why}`, slot.index, "start", "init", "start");
      // Starting a thread can take long on a loaded machine: bounded, but not by the op timeout.
      const bound = Math.max(this.timeout, START_TIMEOUT);
      const timer = setTimeout(() => finish(startError(`no answer within ${bound} ms`)), bound);
      slot.cancel = finish;
      const died = (why: string, reason: "threw" | "exited", during: (op: string, phase: string) => string) => {
        slot.state = "broken";
        finish(startError(why));
        this.failPending(slot, (op, phase) => new this.Err(`simdnorm worker ${slot.index} ${during(op, phase)}`, slot.index, op, phase, reason));
      };
      spawn(`simdnorm-worker-${slot.index}`, {
        message: (d) => {
          if (!live()) return;
          const m = d as FromWorker;
          if (m.t === "ready") finish();
          else if (m.t === "init-failed") finish(startError(m.error));
          else this.reply(slot, m);
        },
        error: (err) => {
          if (!live()) return;
          const why = `${err && err.message ? err.message : String(err)}`;
          died(why, "threw", (op, phase) => `threw during ${op} (${phase} phase): ${why}`);
        },
        exit: (code) => {
          if (!live()) return;
          died(`exited with code ${code}`, "exited", (op, phase) => `exited (code ${code}) during ${op} (${phase} phase)`);
        },
      }).then((host) => {
        if (!live()) { host.terminate(); return; }
        slot.host = host;
        host.post({ t: "init", index: slot.index, module: this.module, memory: this.memory, arena: shared ? [0, 0] : undefined });
      }, (e) => finish(startError((e as Error).message)));
    });
    // Waiters see the failure; the promise itself must not count as an unhandled rejection.
    slot.ready.catch(() => {});
  }

  /** Terminate a slot's thread (waiting until it stopped, so its memory can be reused) and start a new one. */
  async replace(slot: Slot): Promise<void> {
    if (this.closed) return;
    const h = slot.host;
    slot.host = null;
    slot.state = "broken";
    this.failPending(slot, (op, phase) => new this.Err(`simdnorm worker ${slot.index} was replaced during ${op} (${phase} phase)`, slot.index, op, phase, "failed"));
    if (h) await bounded(h.terminate(), 5000);
    if (!this.closed) this.startSlot(slot);
  }

  /** End every worker; calls in flight reject. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map(async (s) => {
      s.state = "closed";
      s.cancel?.(new this.Err(`the worker pool was closed while worker ${s.index} was starting`, s.index, "start", "init", "closed"));
      this.failPending(s, (op, phase) => new this.Err(`simdnorm worker ${s.index} was stopped: the pool was closed during ${op} (${phase} phase)`, s.index, op, phase, "closed"));
      const h = s.host;
      s.host = null;
      if (h) await bounded(h.terminate(), 5000);
    }));
  }
}

/** p, or nothing after ms milliseconds (a thread that does not stop must not hang close()). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p.then(() => {}, () => {}), new Promise<void>((r) => { timer = setTimeout(r, ms); })]).finally(() => clearTimeout(timer));
}
