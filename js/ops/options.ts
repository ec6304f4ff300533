// Every op's options read once (READERS: the names each op reads; any other name is refused),
// and one validator per batch-norm op's options, used by the function, its layer object and the
// worker pool: each reads the options once (a plain copy, before anything is allocated) and
// returns the checked values the op then uses, never the caller's objects again.
import { checkFinite, checkInteger, numVec, affineVec, affineShape, statsVecs, optionsObject, fmt, plainFloat, lengthIs, inWasm } from "../core/errors";
import { typedKind, typedLength, isFloatArray, typedBuffer, bytesOverlap, plainBuffer } from "../core/typed";
import { rememberedTensor } from "../core/tensor";
import { convention, type ConventionInfo } from "./conventions";
import { hasUnknown, onlyKnown } from "../core/option-names";

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
  // A view of wasm memory is copied: the call's allocations may grow the memory and detach it.
  return inWasm(v as Float64Array) ? new Float64Array(v as Float64Array) : (v as Float64Array);
}

/**
 * Synchronized batch norm's statistics: C triples (count, mean, M2) with one count > 0 shared by
 * every channel, finite means and finite M2 ≥ 0. Returns the array (read in place; a copy of a view of wasm memory).
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
  return { sums: p, count: checkInteger("count", count, 1, "a whole number of values") };
}

/**
 * A running statistic a training call updates in place: a Float32Array or Float64Array of its
 * own, not a view of wasm memory (the call may grow memory and detach it; the kernels' memory is
 * no place to write results to).
 */
function updatable(name: string, v: unknown, C: number): string {
  const kind = plainFloat(v);
  if (kind !== undefined) return kind;
  if (!isFloatArray(v)) throw new Error(`${name} must be a Float32Array or Float64Array of ${C} values (updated in place), got ${fmt(v)}`);
  throw new Error(`${name} is a view of wasm memory: give a Float32Array or Float64Array of its own (updated in place)`);
}

/**
 * Per-channel vectors: with `later` only their type and length are checked here (a number[] is
 * read once); the op checks their elements once copied into wasm memory (js/ops/bn-vecs.ts) and
 * on a hit calls this again without `later`, which throws the message naming the element.
 */
const vecOf = (later: boolean) => (later ? affineShape : affineVec);

/** Means and variances: C finite values each, variances ≥ 0 (`later`: type and length only, see vecOf). */
function runningVecs(C: number, opts: Record<string, unknown>, later: boolean) {
  if (later) return { mean: numVec("runningMean", opts.runningMean, C), var: numVec("runningVar", opts.runningVar, C) };
  return statsVecs(C, opts.runningMean, opts.runningVar, ["runningMean", "runningVar"]);
}

/**
 * runningMean and runningVar (updated in place, JS-heap typed arrays: updatable) share no byte
 * with each other or with x or out (a plain array: y is copied into it after the running
 * statistics are written, or x was read before they overwrite it). No allocation: this runs on
 * every training call.
 */
export function runningApart(rm: ArrayBufferView, rv: ArrayBufferView, x: unknown, out: unknown): void {
  const bm = plainBuffer(rm) ?? typedBuffer(rm), bv = plainBuffer(rv) ?? typedBuffer(rv);
  if (bm === bv && bytesOverlap(rm, rv)) throw new Error("runningMean and runningVar overlap: each needs its own array (both are updated in place)");
  // x and out: Tensors (no JS-heap bytes) and absent ones skipped before any intrinsic read.
  if (!rememberedTensor(x) && typedKind(x) !== undefined && touches(x as ArrayBufferView, rm, bm, rv, bv)) throw sharesWith("x");
  if (out !== undefined && out !== null && !rememberedTensor(out) && typedKind(out) !== undefined && touches(out as ArrayBufferView, rm, bm, rv, bv)) throw sharesWith("out");
}

/** u shares a byte with rm (buffer bm) or rv (buffer bv). */
function touches(u: ArrayBufferView, rm: ArrayBufferView, bm: ArrayBufferLike, rv: ArrayBufferView, bv: ArrayBufferLike): boolean {
  const bu = plainBuffer(u) ?? typedBuffer(u);
  return (bu === bm && bytesOverlap(u, rm)) || (bu === bv && bytesOverlap(u, rv));
}

function sharesWith(name: string): Error {
  return new Error(`runningMean or runningVar shares memory with ${name}: give arrays of their own (the running statistics are updated in place)`);
}

/** batchNormTrain's options, checked (C from x's geometry). Running statistics: both or neither, finite, var ≥ 0. */
export function trainOptions(C: number, opts: Record<string, unknown>, later = false) {
  const info = convention(opts.convention);
  const nbt = opts.numBatchesTracked === undefined ? 0 : checkInteger("numBatchesTracked", opts.numBatchesTracked, 0);
  let rm: F | undefined, rv: F | undefined, narrow = false;
  if (opts.runningMean !== undefined || opts.runningVar !== undefined) {
    const km = updatable("runningMean", opts.runningMean, C), kv = updatable("runningVar", opts.runningVar, C);
    if (opts.runningMean === opts.runningVar) throw new Error("runningMean and runningVar must be two arrays, got the same one for both");
    // Typed arrays of the JS heap now (updatable): `later` needs only their lengths checked.
    if (later) { rm = lengthIs("runningMean", opts.runningMean as F, C, "channels"); rv = lengthIs("runningVar", opts.runningVar as F, C, "channels"); }
    else { const r = runningVecs(C, opts, false); rm = r.mean; rv = r.var; }
    narrow = km === "Float32Array" && kv === "Float32Array";
  }
  return {
    info, eps: epsOf(opts.eps, info.eps), momentum: momentumOf(opts.momentum, info, String(opts.convention)), numBatchesTracked: nbt,
    gamma: vecOf(later)("gamma", opts.gamma, C), beta: vecOf(later)("beta", opts.beta, C),
    runningMean: rm, runningVar: rv, /** Both running statistics Float32Arrays (updated from f32 results). */ narrow,
    globalStats: opts.globalStats === undefined ? undefined : checkGlobalStats(C, opts.globalStats),
  };
}

/** batchNormInfer's / batchNormBackwardEval's running statistics, gamma, beta and eps. */
export function inferOptions(C: number, opts: Record<string, unknown>, later = false) {
  const { mean, var: v } = runningVecs(C, opts, later);
  return { eps: epsOf(opts.eps, 1e-5), gamma: vecOf(later)("gamma", opts.gamma, C), beta: vecOf(later)("beta", opts.beta, C), runningMean: mean, runningVar: v };
}

/**
 * batchNormBackward's saved statistics, gamma and the synchronized sums with their count (the
 * values per channel over all shards); without globalSums the count is x's own N·S, and a count
 * given alone is refused (it would scale dx's mean terms against sums it does not describe).
 */
export function backwardOptions(C: number, opts: Record<string, unknown>, localCount: number, later = false) {
  const sync = opts.globalSums === undefined ? undefined : checkGlobalSums(C, opts.globalSums, opts.count);
  if (!sync && opts.count !== undefined) throw new Error(`count is only read with globalSums (the synchronized backward: the values per channel over all shards), got count ${fmt(opts.count)} without globalSums; x's own count is N·spatial`);
  return {
    gamma: vecOf(later)("gamma", opts.gamma, C), saveMean: numVec("saveMean", opts.saveMean, C), saveInvstd: numVec("saveInvstd", opts.saveInvstd, C),
    globalSums: sync?.sums, count: sync ? sync.count : localCount,
  };
}

type O = Record<string, unknown>;

/**
 * Each op's options: the names it reads, read once into an object literal (one getter call per
 * key; a fixed shape V8 keeps fast — a generic keyed copy cost ~0.3 µs a call). Any other name
 * is refused (onlyKnown).
 */
const READERS = {
  shape: (o: O) => ({ shape: o.shape, layout: o.layout }),
  train: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, runningMean: o.runningMean, runningVar: o.runningVar,
    momentum: o.momentum, eps: o.eps, convention: o.convention, numBatchesTracked: o.numBatchesTracked, out: o.out, globalStats: o.globalStats,
    activation: o.activation, saveMeanOut: o.saveMeanOut, saveInvstdOut: o.saveInvstdOut, varOut: o.varOut,
  }),
  infer: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, runningMean: o.runningMean, runningVar: o.runningVar, eps: o.eps, out: o.out, activation: o.activation,
  }),
  backwardEval: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, runningMean: o.runningMean, runningVar: o.runningVar, eps: o.eps, out: o.out, activation: o.activation,
    dgammaOut: o.dgammaOut, dbetaOut: o.dbetaOut,
  }),
  backward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, saveMean: o.saveMean, saveInvstd: o.saveInvstd, out: o.out, globalSums: o.globalSums, count: o.count, activation: o.activation,
    dgammaOut: o.dgammaOut, dbetaOut: o.dbetaOut,
  }),
  partials: (o: O) => ({ shape: o.shape, layout: o.layout, saveMean: o.saveMean }),
  normForward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, eps: o.eps, out: o.out, activation: o.activation,
    meanOut: o.meanOut, invstdOut: o.invstdOut,
  }),
  groupForward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, eps: o.eps, out: o.out, groups: o.groups, activation: o.activation,
    meanOut: o.meanOut, invstdOut: o.invstdOut,
  }),
  normBackward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, mean: o.mean, invstd: o.invstd, out: o.out, activation: o.activation,
    dgammaOut: o.dgammaOut, dbetaOut: o.dbetaOut,
  }),
  groupBackward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, mean: o.mean, invstd: o.invstd, out: o.out, groups: o.groups, activation: o.activation,
    dgammaOut: o.dgammaOut, dbetaOut: o.dbetaOut,
  }),
  shapeOut: (o: O) => ({ shape: o.shape, layout: o.layout, out: o.out }),
  layerBackward: (o: O) => ({ out: o.out, accumulate: o.accumulate }),
  fromPixels: (o: O) => ({ width: o.width, height: o.height, channels: o.channels, layout: o.layout, preset: o.preset, mean: o.mean, std: o.std, scale: o.scale, out: o.out }),
  pixelShape: (o: O) => ({ width: o.width, height: o.height, channels: o.channels }),
  rmsForward: (o: O) => ({ shape: o.shape, layout: o.layout, gamma: o.gamma, unitOffset: o.unitOffset, eps: o.eps, activation: o.activation, out: o.out, invRmsOut: o.invRmsOut, beta: o.beta }),
  rmsBackward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, unitOffset: o.unitOffset, invRms: o.invRms, activation: o.activation, out: o.out, dgammaOut: o.dgammaOut, beta: o.beta, dbetaOut: o.dbetaOut,
  }),
  skipForward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, bias: o.bias, eps: o.eps, activation: o.activation,
    out: o.out, sumOut: o.sumOut, meanOut: o.meanOut, invstdOut: o.invstdOut,
  }),
  skipRmsForward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, bias: o.bias, unitOffset: o.unitOffset, eps: o.eps, activation: o.activation,
    out: o.out, sumOut: o.sumOut, invRmsOut: o.invRmsOut,
  }),
  skipBackward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, mean: o.mean, invstd: o.invstd,
    dsum: o.dsum, bias: o.bias, activation: o.activation, out: o.out, dgammaOut: o.dgammaOut, dbetaOut: o.dbetaOut, dbiasOut: o.dbiasOut,
  }),
  skipRmsBackward: (o: O) => ({
    shape: o.shape, layout: o.layout, gamma: o.gamma, beta: o.beta, unitOffset: o.unitOffset, invRms: o.invRms,
    dsum: o.dsum, bias: o.bias, activation: o.activation, out: o.out, dgammaOut: o.dgammaOut, dbetaOut: o.dbetaOut, dbiasOut: o.dbiasOut,
  }),
};

/**
 * The options of op `k`, read once (undefined/null → none). Anything but an object, or a name
 * `k` neither reads nor takes unread (forwardNames), is an Error.
 */
export function optionsOf<K extends keyof typeof READERS>(o: unknown, k: K): ReturnType<(typeof READERS)[K]> & O {
  // Each reader named, not READERS[k](…): that one keyed load, seen with every op's key, went
  // megamorphic (a generic lookup a call; docs/performance.md, per-call cost, eighth pass).
  const src = optionsObject(o);
  let r: unknown;
  switch (k as keyof typeof READERS) {
    case "shape": r = READERS.shape(src); break;
    case "train": r = READERS.train(src); break;
    case "infer": r = READERS.infer(src); break;
    case "backward": r = READERS.backward(src); break;
    case "partials": r = READERS.partials(src); break;
    case "backwardEval": r = READERS.backwardEval(src); break;
    case "normForward": r = READERS.normForward(src); break;
    case "groupForward": r = READERS.groupForward(src); break;
    case "normBackward": r = READERS.normBackward(src); break;
    case "groupBackward": r = READERS.groupBackward(src); break;
    case "shapeOut": r = READERS.shapeOut(src); break;
    case "layerBackward": r = READERS.layerBackward(src); break;
    case "fromPixels": r = READERS.fromPixels(src); break;
    case "pixelShape": r = READERS.pixelShape(src); break;
    case "rmsForward": r = READERS.rmsForward(src); break;
    case "rmsBackward": r = READERS.rmsBackward(src); break;
    case "skipForward": r = READERS.skipForward(src); break;
    case "skipRmsForward": r = READERS.skipRmsForward(src); break;
    case "skipBackward": r = READERS.skipBackward(src); break;
    case "skipRmsBackward": r = READERS.skipRmsBackward(src); break;
  }
  if (src === own) own = undefined;
  else if (hasUnknown(src, r as object)) onlyKnown(src, r as object, "options", forwardNames(k));
  return r as ReturnType<(typeof READERS)[K]> & O;
}

let own: object | undefined;

/**
 * Marks options simdnorm builds for a call it makes itself (a layer's, the Standardizer's): they
 * hold only names the op reads, some of them undefined, which sends the name check to its slow
 * path (~15 ns a name), so the next optionsOf given this object skips the check.
 * @internal
 */
export function ours<T extends object>(o: T): T {
  own = o;
  return o;
}

/**
 * The names a backward takes unread: its forward's options (and, for backwardPartials, its
 * backward's), so one options object serves both calls. Read off the readers themselves.
 */
function forwardNames(k: keyof typeof READERS): string[] {
  const names = (...ks: (keyof typeof READERS)[]) => ks.flatMap((f) => Object.keys(READERS[f]({})));
  switch (k) {
    case "backward": return names("train");
    case "partials": return names("backward", "train");
    case "backwardEval": return names("infer");
    case "normBackward": return names("normForward");
    case "groupBackward": return names("groupForward");
    case "rmsBackward": return names("rmsForward");
    case "skipBackward": return names("skipForward");
    case "skipRmsBackward": return names("skipRmsForward");
    default: return [];
  }
}
