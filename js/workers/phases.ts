// The phases of the pool's ops: their messages' types for both sides, and how the owner combines
// the workers' replies (COMBINE, in the pool's module; what a worker computes on its parts is in
// js/workers/phase-work.ts, in the worker script). Ops are sequences of phases:
//   statistics   stats
//   training     stats → normalize       (stats skipped when globalStats is given)
//   backward     sums → backward
// Every phase's work is the public single-threaded function on one part, so a part computes
// exactly what a single-threaded call on it would; combining is Chan's merge for statistics and
// f64 sums for (Σdy, Σdy·(x−mean)) pairs and dgamma/dbeta.
import type { TensorLike } from "../core/tensor";
import type { Layout } from "../core/layout";
import type { BatchNormTrainOptions, BatchNormBackwardOptions } from "../ops/batchnorm";
import type { PoolLink } from "./link";
import type { Phase } from "./protocol";

/** One part as a worker sees it. */
export interface WorkPart {
  x: TensorLike;
  dy?: TensorLike;
  shape: number[];
  layout: Layout;
  /** Writing phases: where the output goes (a view of the shared memory, or a new array posted back). */
  out?: Float32Array;
}

/** Replies of writing phases carry the outputs of the worker's parts (message transport; empty with shared memory). */
export interface Outputs { outs: Float32Array[]; }

export interface NormalizeParams extends Pick<BatchNormTrainOptions, "gamma" | "beta" | "eps" | "momentum" | "convention" | "numBatchesTracked" | "activation"> {
  globalStats: Float64Array;
  /** Only to the one worker that updates them (f64 copies, sent back updated). */
  runningMean?: Float64Array;
  runningVar?: Float64Array;
}
export interface SumsParams { channels: number; saveMean: Float64Array; }
export interface BackwardParams extends SumsParams, Pick<BatchNormBackwardOptions, "gamma" | "saveInvstd"> {
  globalSums: Float64Array;
  count: number;
}

export interface NormalizeReply extends Outputs {
  saveMean: Float32Array; saveInvstd: Float32Array; var: Float32Array;
  runningMean?: Float64Array; runningVar?: Float64Array;
}
export interface BackwardReply extends Outputs { dgamma: Float64Array; dbeta: Float64Array; }

/** What the owner knows after the training forward's normalize phase. */
export interface NormalizeResult {
  saveMean: Float32Array; saveInvstd: Float32Array; var: Float32Array;
  /** The updated running statistics, when they were sent. */
  running?: [Float64Array, Float64Array];
}

/** On the owner: the replies of every worker involved (in worker order) → the phase's result. */
export type Combine<R, T> = (replies: R[], C: number, L: PoolLink) => T;

interface PhaseTypes {
  stats: [Record<string, never>, { partials: Float64Array }, Float64Array];
  normalize: [NormalizeParams, NormalizeReply, NormalizeResult];
  sums: [SumsParams, { sums: Float64Array }, Float64Array];
  backward: [BackwardParams, BackwardReply, { dgamma: Float32Array; dbeta: Float32Array }];
}
export type PhaseParams<K extends Phase> = PhaseTypes[K][0];
export type PhaseReply<K extends Phase> = PhaseTypes[K][1];
export type PhaseResult<K extends Phase> = PhaseTypes[K][2];

/** A new f64 array of len values with every reply folded in, in order. */
function foldReplies<R>(replies: R[], len: number, into: (acc: Float64Array, r: R) => void): Float64Array {
  const acc = new Float64Array(len);
  for (const r of replies) into(acc, r);
  return acc;
}

/** acc += v, elementwise; returns acc. */
export function addInto(acc: Float64Array, v: ArrayLike<number>): Float64Array {
  for (let i = 0; i < acc.length; i++) acc[i] += v[i];
  return acc;
}

export const COMBINE: { [K in Phase]: Combine<PhaseReply<K>, PhaseResult<K>> } = {
  stats: (replies, C, L) => foldReplies(replies, 3 * C, (acc, r) => L.mergePartials(acc, r.partials)),
  normalize(replies) {
    const f = replies[0];
    const held = replies.find((r) => r.runningMean);
    return { saveMean: f.saveMean, saveInvstd: f.saveInvstd, var: f.var, running: held ? [held.runningMean!, held.runningVar!] : undefined };
  },
  sums: (replies, C) => foldReplies(replies, 2 * C, (acc, r) => addInto(acc, r.sums)),
  backward: (replies, C) => ({
    dgamma: Float32Array.from(foldReplies(replies, C, (acc, r) => addInto(acc, r.dgamma))),
    dbeta: Float32Array.from(foldReplies(replies, C, (acc, r) => addInto(acc, r.dbeta))),
  }),
};
