// The phases of the pool's ops, one table for both sides: what a worker computes on its parts
// (`work`, in js/workers/worker.ts) and how the owner combines the workers' replies (`combine`,
// in js/workers/pool.ts). Ops are sequences of phases:
//   statistics   stats
//   training     stats → normalize       (stats skipped when globalStats is given)
//   backward     sums → backward
// Every `work` is the public single-threaded function on one part, so a part computes exactly
// what a single-threaded call on it would; combining is Chan's merge for statistics and f64
// sums for (Σdy, Σdy·(x−mean)) pairs and dgamma/dbeta.
import type { TensorLike } from "../core/tensor";
import type { Layout } from "../core/layout";
import { partialStats, mergePartials } from "../ops/stats";
import {
  batchNormTrain, backwardPartials, batchNormBackward,
  type BatchNormTrainOptions, type BatchNormBackwardOptions,
} from "../ops/batchnorm";
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

interface NormalizeReply extends Outputs {
  saveMean: Float32Array; saveInvstd: Float32Array; var: Float32Array;
  runningMean?: Float64Array; runningVar?: Float64Array;
}
interface BackwardReply extends Outputs { dgamma: Float64Array; dbeta: Float64Array; }

/** What the owner knows after the training forward's normalize phase. */
export interface NormalizeResult {
  saveMean: Float32Array; saveInvstd: Float32Array; var: Float32Array;
  /** The updated running statistics, when they were sent. */
  running?: [Float64Array, Float64Array];
}

export interface PhaseDef<P, R, T> {
  /** Writes the op's outputs: message-transport workers use the parts kept from an earlier phase. */
  writes: boolean;
  /** On a worker: its parts and the owner's parameters → its reply. */
  work(parts: WorkPart[], p: P): R;
  /** On the owner: the replies of every worker involved (in worker order) → the phase's result. */
  combine(replies: R[], C: number): T;
}

interface PhaseTypes {
  stats: [Record<string, never>, { partials: Float64Array }, Float64Array];
  normalize: [NormalizeParams, NormalizeReply, NormalizeResult];
  sums: [SumsParams, { sums: Float64Array }, Float64Array];
  backward: [BackwardParams, BackwardReply, { dgamma: Float32Array; dbeta: Float32Array }];
}
export type PhaseParams<K extends Phase> = PhaseTypes[K][0];
export type PhaseReply<K extends Phase> = PhaseTypes[K][1];
export type PhaseResult<K extends Phase> = PhaseTypes[K][2];

const geo = (p: WorkPart) => ({ shape: p.shape, layout: p.layout });

/** A new f64 array of len values with every reply folded in, in order. */
function foldReplies<R>(replies: R[], len: number, into: (acc: Float64Array, r: R) => void): Float64Array {
  const acc = new Float64Array(len);
  for (const r of replies) into(acc, r);
  return acc;
}

/** acc += v, elementwise; returns acc. */
function addInto(acc: Float64Array, v: ArrayLike<number>): Float64Array {
  for (let i = 0; i < acc.length; i++) acc[i] += v[i];
  return acc;
}

export const PHASES: { [K in Phase]: PhaseDef<PhaseParams<K>, PhaseReply<K>, PhaseResult<K>> } = {
  stats: {
    writes: false,
    work(parts) {
      let acc: Float64Array | null = null;
      for (const p of parts) {
        const s = partialStats(p.x, geo(p));
        acc = acc ? mergePartials(acc, s) : s;
      }
      return { partials: acc! };
    },
    combine: (replies, C) => foldReplies(replies, 3 * C, (acc, r) => mergePartials(acc, r.partials)),
  },

  normalize: {
    writes: true,
    work(parts, P) {
      const outs: Float32Array[] = [];
      let first: ReturnType<typeof batchNormTrain> | null = null;
      const { runningMean, runningVar } = P;
      parts.forEach((p, i) => {
        // The running statistics are updated once: on this worker's first part, if it got them.
        const upd = i === 0 && !!runningMean;
        const r = batchNormTrain(p.x, {
          shape: p.shape, layout: p.layout, gamma: P.gamma, beta: P.beta, eps: P.eps, momentum: P.momentum, convention: P.convention,
          numBatchesTracked: P.numBatchesTracked, globalStats: P.globalStats, out: p.out, activation: P.activation,
          runningMean: upd ? runningMean : undefined, runningVar: upd ? runningVar : undefined,
        });
        outs.push(r.y as Float32Array);
        first = first ?? r;
      });
      const f = first!;
      return { outs, saveMean: f.saveMean, saveInvstd: f.saveInvstd, var: f.var, runningMean, runningVar };
    },
    combine(replies) {
      const f = replies[0];
      const held = replies.find((r) => r.runningMean);
      return { saveMean: f.saveMean, saveInvstd: f.saveInvstd, var: f.var, running: held ? [held.runningMean!, held.runningVar!] : undefined };
    },
  },

  sums: {
    writes: false,
    work(parts, P) {
      const sums = new Float64Array(2 * P.channels);
      for (const p of parts) addInto(sums, backwardPartials(p.x, p.dy!, { shape: p.shape, layout: p.layout, saveMean: P.saveMean }));
      return { sums };
    },
    combine: (replies, C) => foldReplies(replies, 2 * C, (acc, r) => addInto(acc, r.sums)),
  },

  backward: {
    writes: true,
    work(parts, P) {
      const outs: Float32Array[] = [];
      const dgamma = new Float64Array(P.channels), dbeta = new Float64Array(P.channels);
      for (const p of parts) {
        const r = batchNormBackward(p.x, p.dy!, {
          shape: p.shape, layout: p.layout, gamma: P.gamma, saveMean: P.saveMean, saveInvstd: P.saveInvstd!,
          globalSums: P.globalSums, count: P.count, out: p.out,
        });
        outs.push(r.dx as Float32Array);
        addInto(dgamma, r.dgamma);
        addInto(dbeta, r.dbeta);
      }
      return { outs, dgamma, dbeta };
    },
    combine: (replies, C) => ({
      dgamma: Float32Array.from(foldReplies(replies, C, (acc, r) => addInto(acc, r.dgamma))),
      dbeta: Float32Array.from(foldReplies(replies, C, (acc, r) => addInto(acc, r.dbeta))),
    }),
  },
};
