// One validator per batch-norm op's options, used by the function, its layer object and the
// worker pool: each reads the options once (a plain copy, before anything is allocated) and
// returns the checked values the op then uses, never the caller's objects again.
import { checkFinite, checkInteger, numVec, affineVec, statsVecs, readOptions, fmt } from "../core/errors";
import { typedKind, typedLength } from "../core/typed";
import { convention, type ConventionInfo } from "./conventions";

type F = Float32Array | Float64Array;

/** eps: a finite number ≥ 0, or the default when absent. */
export function epsOf(eps: unknown, dflt: number): number {
  return eps === undefined ? dflt : checkFinite("eps", eps, 0);
}

/** momentum in [0, 1], the convention's default when absent; null (cumulative) only where allowed. */
export function momentumOf(m: unknown, info: ConventionInfo, name: string): number | null {
  if (m === undefined) return info.momentum;
  if (m === null) {
    if (!info.allowsCumulative) throw new Error(`momentum null (cumulative average) is a pytorch convention, not ${name}`);
    return null;
  }
  if (checkFinite("momentum", m, 0) > 1) throw new Error(`momentum must be in [0, 1], got ${m}`);
  return m as number;
}

/** A Float64Array of exactly n values (intrinsic length), or throws naming what it is. */
function f64Of(name: string, v: unknown, n: number, what: string): Float64Array {
  if (typedKind(v) !== "Float64Array") throw new Error(`${name} must be a Float64Array of ${what}, got ${fmt(v)}`);
  const len = typedLength(v as Float64Array);
  if (len !== n) throw new Error(`${name} has ${len} values, expected ${n} (${what})`);
  return v as Float64Array;
}

/**
 * Synchronized batch norm's statistics: C triples (count, mean, M2) with one count > 0 shared by
 * every channel, finite means and finite M2 ≥ 0. Returns the array (read in place).
 */
export function checkGlobalStats(C: number, v: unknown): Float64Array {
  const p = f64Of("globalStats", v, 3 * C, `${C} triples (count, mean, M2)`);
  const n = p[0];
  for (let c = 0; c < C; c++) {
    const cnt = p[3 * c], mean = p[3 * c + 1], m2 = p[3 * c + 2];
    if (!(cnt > 0 && cnt < Infinity)) throw new Error(`globalStats count of channel ${c} is ${cnt}: counts must be finite and > 0`);
    if (cnt !== n) throw new Error(`globalStats counts differ: channel ${c} has ${cnt}, channel 0 has ${n} (every channel sees the same values)`);
    if (!Number.isFinite(mean)) throw new Error(`globalStats mean of channel ${c} is ${mean}: means must be finite`);
    if (!(m2 >= 0 && m2 < Infinity)) throw new Error(`globalStats M2 of channel ${c} is ${m2}: M2 (the sum of squared deviations) must be finite and ≥ 0`);
  }
  return p;
}

/** Synchronized backward's sums: C finite pairs (Σdy, Σdy·(x − mean)), with a count ≥ 1. */
export function checkGlobalSums(C: number, v: unknown, count: unknown): { sums: Float64Array; count: number } {
  const p = f64Of("globalSums", v, 2 * C, `${C} pairs (Σdy, Σdy·(x−mean))`);
  for (let i = 0; i < 2 * C; i++) {
    if (!Number.isFinite(p[i])) throw new Error(`globalSums[${i}] is ${p[i]}: sums must be finite`);
  }
  if (count === undefined) throw new Error("count (values per channel over all shards) is required with globalSums");
  return { sums: p, count: checkFinite("count", count, 1) };
}

/** Running mean and variance (C finite values each, variances ≥ 0). */
function runningStats(C: number, rm: unknown, rv: unknown) {
  const { mean, var: v } = statsVecs(C, rm, rv, ["runningMean", "runningVar"]);
  return { runningMean: mean, runningVar: v };
}

/** The running statistics a training call updates in place: both or neither, finite, var ≥ 0. */
function runningPair(C: number, rm: unknown, rv: unknown): { runningMean?: F; runningVar?: F } {
  if (rm === undefined && rv === undefined) return {};
  for (const [name, v] of [["runningMean", rm], ["runningVar", rv]] as const) {
    const k = typedKind(v);
    if (k !== "Float32Array" && k !== "Float64Array") throw new Error(`${name} must be a Float32Array or Float64Array of ${C} values (updated in place), got ${fmt(v)}`);
  }
  return runningStats(C, rm, rv);
}

export const SHAPE_KEYS = ["shape", "layout"] as const;
const TRAIN_KEYS = [...SHAPE_KEYS, "gamma", "beta", "runningMean", "runningVar", "momentum", "eps", "convention", "numBatchesTracked", "out", "globalStats"];

/** batchNormTrain's options, checked (C from x's geometry). */
export function trainOptions(C: number, opts: Record<string, unknown>) {
  const info = convention(opts.convention);
  const nbt = opts.numBatchesTracked === undefined ? 0 : checkInteger("numBatchesTracked", opts.numBatchesTracked, 0);
  return {
    info, eps: epsOf(opts.eps, info.eps), momentum: momentumOf(opts.momentum, info, String(opts.convention)), numBatchesTracked: nbt,
    gamma: affineVec("gamma", opts.gamma, C), beta: affineVec("beta", opts.beta, C),
    ...runningPair(C, opts.runningMean, opts.runningVar),
    globalStats: opts.globalStats === undefined ? undefined : checkGlobalStats(C, opts.globalStats),
  };
}

/** batchNormInfer's / batchNormBackwardEval's running statistics, gamma, beta and eps. */
export function inferOptions(C: number, opts: Record<string, unknown>) {
  return {
    eps: epsOf(opts.eps, 1e-5), gamma: affineVec("gamma", opts.gamma, C), beta: affineVec("beta", opts.beta, C),
    ...runningStats(C, opts.runningMean, opts.runningVar),
  };
}

/** batchNormBackward's saved statistics, gamma and the synchronized sums (count defaults to N·S). */
export function backwardOptions(C: number, opts: Record<string, unknown>, localCount: number) {
  const sync = opts.globalSums === undefined ? undefined : checkGlobalSums(C, opts.globalSums, opts.count);
  return {
    gamma: affineVec("gamma", opts.gamma, C), saveMean: numVec("saveMean", opts.saveMean, C), saveInvstd: numVec("saveInvstd", opts.saveInvstd, C),
    globalSums: sync?.sums, count: sync ? sync.count : opts.count === undefined ? localCount : checkFinite("count", opts.count, 1),
  };
}

/** Option keys each op reads (once, at entry). */
export const KEYS = {
  train: TRAIN_KEYS,
  infer: [...SHAPE_KEYS, "gamma", "beta", "runningMean", "runningVar", "eps", "out"],
  backward: [...SHAPE_KEYS, "gamma", "saveMean", "saveInvstd", "out", "globalSums", "count"],
  partials: [...SHAPE_KEYS, "saveMean"],
} as const;

/** The options of op `k`, read once. */
export function optionsOf(o: unknown, k: keyof typeof KEYS): Record<string, unknown> {
  return readOptions<Record<string, unknown>>(o, KEYS[k]);
}
