// Messages between a WorkerPool (owner thread) and its workers. Both sides import this file.
//
// One op is a short conversation in phases: the owner sends every worker its parts, waits for
// all of them, combines (merge partials / sum pairs) and sends the next phase. Workers never
// talk to each other and never allocate in a shared memory outside the arena the owner lent
// them for the current message.
import type { Layout } from "../core/layout";

export type TransportName = "shared" | "message";

/** Phases of the ops a worker can run. */
export type Phase = "stats" | "normalize" | "sums" | "backward";

/**
 * The phases that write the op's outputs: message-transport workers use the parts kept from an
 * earlier phase of the op.
 * @internal
 */
export const WRITES: Readonly<Record<Phase, boolean>> = { stats: false, normalize: true, sums: false, backward: true };

/** State of one worker place: "broken" slots are replaced before the next op. */
export type SlotState = "starting" | "ready" | "broken" | "closed";

/** The whole-tensor ops a pool may split across its workers. */
export type SplitOp = "partialStats" | "batchNormTrain" | "batchNormBackward";

/** @internal A float32 array a worker reads or writes: a place in the shared memory, or the values. */
export type Ref = { ptr: number; len: number } | Float32Array;

/** @internal One part of an op: a shard (sync BN) or a slice of one big tensor. */
export interface PartMsg {
  shape: number[];
  layout: Layout;
  x?: Ref;
  dy?: Ref;
  /** Shared memory only: where y (normalize) or dx (backward) goes. */
  out?: { ptr: number; len: number };
}

/** Fault injection for tests: the worker misbehaves at the start of the given phase. */
export interface Fault {
  /** throw: the op throws; uncaught: an error escapes the handler; exit: the worker ends; hang: it never answers. */
  kind: "throw" | "uncaught" | "exit" | "hang";
  phase?: Phase;
}

/** @internal */
export interface InitMsg {
  t: "init";
  index: number;
  module: WebAssembly.Module;
  /** Shared transport: the owner's memory; `arena` is empty (init allocates nothing; each run message lends one). */
  memory?: WebAssembly.Memory;
  arena?: [number, number];
}

/** @internal */
export interface RunMsg {
  t: "run";
  seq: number;
  /** Op id: a message-transport worker keeps its parts' data under it between phases. */
  op: number;
  phase: Phase;
  parts: PartMsg[];
  /** Keep the parts (message transport) for a later phase of the same op. */
  keep?: boolean;
  /** Shared transport: scratch [start, end) for this message. */
  arena?: [number, number];
  params?: Record<string, unknown>;
  fault?: Fault;
}

/** @internal */
export interface DropMsg { t: "drop"; op: number; }

/** @internal */
export type ToWorker = InitMsg | RunMsg | DropMsg;

/** @internal */
export type FromWorker =
  | { t: "ready" }
  | { t: "init-failed"; error: string }
  | { t: "done"; seq: number; result: Record<string, unknown> }
  | { t: "failed"; seq: number; error: string };
