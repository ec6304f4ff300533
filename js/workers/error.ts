// The pool's error class: exported by the bundles (instanceof), made by the pool's implementation
// (dist/simdnorm-pool.js) through the link it is given.

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
