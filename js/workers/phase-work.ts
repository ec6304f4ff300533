// What a worker computes in each phase of the pool's ops (js/workers/phases.ts has the phases'
// types and how the owner combines the replies): the public single-threaded function on each of
// its parts, so a part computes exactly what a single-threaded call on it would. Bundled into the
// worker script (js/workers/worker.ts) only.
import { partialStats, mergePartials } from "../ops/stats";
import { batchNormTrain, backwardPartials, batchNormBackward } from "../ops/batchnorm";
import { addInto, type PhaseParams, type PhaseReply, type WorkPart } from "./phases";
import type { Phase } from "./protocol";

/** On a worker: its parts and the owner's parameters → its reply. */
export type Work<P, R> = (parts: WorkPart[], p: P) => R;

const geo = (p: WorkPart) => ({ shape: p.shape, layout: p.layout });

export const WORK: { [K in Phase]: Work<PhaseParams<K>, PhaseReply<K>> } = {
  stats(parts) {
    let acc: Float64Array | null = null;
    for (const p of parts) {
      const s = partialStats(p.x, geo(p));
      acc = acc ? mergePartials(acc, s) : s;
    }
    return { partials: acc! };
  },

  normalize(parts, P) {
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

  sums(parts, P) {
    const sums = new Float64Array(2 * P.channels);
    for (const p of parts) addInto(sums, backwardPartials(p.x, p.dy!, { shape: p.shape, layout: p.layout, saveMean: P.saveMean }));
    return { sums };
  },

  backward(parts, P) {
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
};
