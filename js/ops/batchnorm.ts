// Batch norm: training forward (statistics + normalize + running update in one call),
// inference forward, backward from saved statistics, and the eval-mode backward.
import { withScope, type Scope } from "../core/scope";
import { aligned } from "../core/heap";
import { statsInto, normalize, backwardReduce, backwardDx, tempBytes, fusable, trainFused, backwardFused } from "./dispatch";
import { resolveGeometry, sameSize, wantsTensor, type ShapeOptions } from "../core/args";
import { numVec, affineVec, affineShape, type Vec } from "../core/errors";
import { updateBatchWeight, updateKeepWeight, type Convention } from "./conventions";
import { optionsOf, trainOptions, inferOptions, backwardOptions, runningApart } from "./options";
import { splitHi, splitMeans } from "./split";
import { channelVecs, vecAt, vecBytes, vecCheckMismatch } from "./bn-vecs";
import { rt } from "../core/runtime";
import type { TensorLike } from "../core/tensor";
import { resultsAt32, copyOut } from "../core/typed";
import { bnOutputs, gradOutputs, resultArrays, type GradOutputs } from "./family/outputs";
import { fmtShape, type Geometry } from "../core/layout";
import { activationId, type Activation } from "./activation";
import { bnActGrad } from "./act-dispatch";

export interface BatchNormTrainOptions extends ShapeOptions {
  /** Per-channel scale (affine). Omit for affine=false. */
  gamma?: Vec;
  /** Per-channel shift (affine). */
  beta?: Vec;
  /** Running mean, updated in place (a Float32Array or Float64Array of its own: a view of wasm memory is refused). */
  runningMean?: Float32Array | Float64Array;
  /** Running variance, updated in place. */
  runningVar?: Float32Array | Float64Array;
  /** Meaning set by `convention`; null = cumulative average (pytorch). Default per convention. */
  momentum?: number | null;
  /** Default per convention (1e-5 pytorch/onnx, 1e-3 keras/tf-fused). */
  eps?: number;
  /**
   * "pytorch" (default), "keras", "onnx", "tf-fused", "caffe". For caffe, runningMean/runningVar
   * are Caffe's blobs (λ-weighted sums: blob ← λ·blob + batch); the caller keeps the normalizer
   * s ← λ·s + 1 (the BatchNorm layer does) and uses blob / s as the statistics.
   */
  convention?: Convention;
  /** Batches seen before this one (for momentum null). Default 0. */
  numBatchesTracked?: number;
  /** Write y here (a Tensor or Float32Array of x's size; may be x itself: in place). */
  out?: TensorLike;
  /**
   * Global statistics to normalize with instead of x's own: C triples (count, mean, M2) merged
   * over every shard (synchronized batch norm). The running update uses their count.
   */
  globalStats?: Float64Array;
  /** Activation applied to the normalized output in the same pass (default none). */
  activation?: Activation;
  /**
   * Write saveMean, saveInvstd and var into these (Float32Arrays of C values of their own, in the
   * JS heap) instead of fresh arrays: a training loop gives the same arrays every step.
   */
  saveMeanOut?: Float32Array;
  saveInvstdOut?: Float32Array;
  varOut?: Float32Array;
}

export interface BatchNormTrainResult {
  /** Normalized output: a Tensor when x was a Tensor (caller frees), else a Float32Array. */
  y: TensorLike;
  /** Batch mean per channel (saved for backward). */
  saveMean: Float32Array;
  /** 1/sqrt(var + eps) per channel (saved for backward). */
  saveInvstd: Float32Array;
  /** Biased batch variance per channel. */
  var: Float32Array;
  /** Values per channel in the batch (all shards). */
  count: number;
  /** numBatchesTracked + 1. */
  numBatchesTracked: number;
}

/**
 * Training-mode batch norm in one call: batch statistics (Welford), normalize, affine, and the
 * running-statistics update (in place, only after everything else succeeded).
 * @throws on bad shapes/lengths, eps < 0, negative running variance, or one value per channel.
 * @example
 * const { y, saveMean, saveInvstd } = batchNormTrain(x, { shape: [8, 16, 32, 32], layout: "NCHW",
 *   gamma, beta, runningMean, runningVar });
 */
export function batchNormTrain(x: TensorLike, opts: BatchNormTrainOptions): BatchNormTrainResult {
  const o = optionsOf(opts, "train");
  const g = resolveGeometry(x, o);
  const C = g.C;
  const p = trainOptions(C, o, true);
  const count = p.globalStats ? p.globalStats[0] : g.N * g.S;
  if (count <= 1) throw new Error(`training batch norm needs more than one value per channel: the shape ${fmtShape(g.shape)} (${g.layout}) gives ${count}`);
  sameSize("out", o.out, g);
  if (p.runningMean) runningApart(p.runningMean, p.runningVar!, x, o.out);
  const act = activationId(o.activation), L = trainBlock(C);
  const outs = bnOutputs(C, o, [x, o.out, o.gamma, o.beta, o.runningMean, o.runningVar, o.globalStats]);

  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(tempBytes(g, "forward") + vecBytes(C) + L.bytes);
    const vs = channelVecs(s, C, p.gamma, p.beta, p.runningMean, p.runningVar, 4, true);
    if (vs < 0) { trainOptions(C, o); vecCheckMismatch(); }
    const gm = vecAt(vs, C, 0, p.gamma), bt = vecAt(vs, C, 1, p.beta);
    const prm = vecAt(vs, C, 2, p.runningMean), prv = vecAt(vs, C, 3, p.runningVar);
    const fused = !act && !p.globalStats && fusable(g);
    // Temporaries first (taking one may grow memory), whole-memory views after the kernels.
    const acc = s.temp(L.bytes), st = acc + L.st, pp = acc + L.pp, sv = acc + L.sv, k = rt().kernels;
    if (p.globalStats) s.heap.F64.set(p.globalStats, acc >>> 3);
    else {
      s.heap.F64.fill(0, acc >>> 3, (acc >>> 3) + 3 * C);
      // Channels-first: statistics and normalize fused per channel (second pass from L2).
      if (fused) trainFused(s, g, xa.ptr, ya.ptr, acc, p.eps, p.gamma, p.beta);
      else statsInto(s, g, xa.ptr, acc);
    }
    // Mean, biased and unbiased variance planes; the normalize parameters and the f32 results
    // mean | invstd | var, all by kernels.
    k.bn_params_finish_f64(C, acc, st);
    k.bn_params_f32(C, st, st + 8 * C, gm, bt, p.eps, pp, pp + 4 * C, pp + 8 * C, sv);
    if (!fused) normalize(s, g, xa.ptr, ya.ptr, pp, pp + 4 * C, pp + 8 * C, act);
    const y = s.result(ya);
    const [saveMean, saveInvstd, bvar] = resultsOut(s.heap.F32, sv >>> 2, C, true, outs.mean, outs.invstd, outs.var);
    // The running statistics last, once everything else succeeded: updated in f64 by a kernel
    // on their copies in wasm memory, copied back with the rounding of an element store.
    const rm = p.runningMean, rv = p.runningVar;
    if (rm && rv) {
      const w = updateBatchWeight(p.info, p.momentum, p.numBatchesTracked), keep = updateKeepWeight(p.info, p.momentum, w);
      // Two Float32Arrays get f32 results, copied without a conversion (copyOut: a loop for a
      // few values, else the intrinsic set).
      const narrow = p.narrow, sh = narrow ? 2 : 3;
      k.bn_params_running_f64(C, prm, prv, st, st + 8 * (p.info.unbiased ? 2 * C : C), keep, w, narrow ? 1 : 0);
      const F = narrow ? s.heap.F32 : s.heap.F64;
      copyOut(rm, F, prm >>> sh);
      copyOut(rv, F, prv >>> sh);
    }
    return { y, saveMean, saveInvstd, var: bvar, count, numBatchesTracked: p.numBatchesTracked + 1 };
  });
}

/**
 * batchNormTrain's temporaries after the vectors, one block (byte offsets from its start, and its
 * size, which the call reserves): the C triples (count, mean, M2), the three f64 planes, the
 * normalize parameters m | scale | shift (C f32 each), the f32 results mean | invstd | var.
 */
function trainBlock(C: number) {
  const st = aligned(24 * C), pp = st + aligned(24 * C), sv = pp + aligned(12 * C);
  return { st, pp, sv, bytes: sv + aligned(12 * C) };
}

export interface BatchNormInferOptions extends ShapeOptions {
  gamma?: Vec;
  beta?: Vec;
  runningMean: Vec;
  runningVar: Vec;
  /** Default 1e-5. */
  eps?: number;
  out?: TensorLike;
  /** Activation applied to the normalized output in the same pass (default none). */
  activation?: Activation;
}

/**
 * Inference-mode batch norm with running statistics: y = (x − mean)·gamma/sqrt(var + eps) + beta,
 * folded per channel so each value costs one subtract and one multiply-add.
 * @throws on bad shapes/lengths, eps < 0 or a negative running variance.
 */
export function batchNormInfer(x: TensorLike, opts: BatchNormInferOptions): TensorLike {
  const o = optionsOf(opts, "infer");
  const g = resolveGeometry(x, o);
  const C = g.C;
  const { eps, gamma, beta, runningMean, runningVar } = inferOptions(C, o, true);
  sameSize("out", o.out, g);
  const act = activationId(o.activation);
  return withScope((s) => {
    const xa = s.input("x", x, g.size);
    const ya = s.output("out", o.out, g.size, wantsTensor(x, o.out), g.shape, g.layout);
    s.commit(tempBytes(g, "forward") + vecBytes(C) + aligned(12 * C));
    // The vectors in wasm memory, checked there; m, scale, shift (C f32 each) by a kernel.
    const vs = channelVecs(s, C, gamma, beta, runningMean, runningVar, 4, true);
    if (vs < 0) { inferOptions(C, o); vecCheckMismatch(); }
    const gm = vecAt(vs, C, 0, gamma), bt = vecAt(vs, C, 1, beta), mu = vecAt(vs, C, 2, runningMean), v = vecAt(vs, C, 3, runningVar);
    const pp = s.temp(12 * C);
    rt().kernels.bn_params_f32(C, mu, v, gm, bt, eps, pp, pp + 4 * C, pp + 8 * C, 0);
    normalize(s, g, xa.ptr, ya.ptr, pp, pp + 4 * C, pp + 8 * C, act);
    return s.result(ya);
  });
}

export interface BatchNormBackwardOptions extends ShapeOptions {
  gamma?: Vec;
  /** From the training forward. */
  saveMean: Vec;
  saveInvstd: Vec;
  /** Write dx here (may be dy or x: in place). */
  out?: TensorLike;
  /**
   * Global (Σdy, Σdy·(x − mean)) per channel summed over every shard (synchronized batch norm),
   * from backwardPartials; with `count`, the values per channel over all shards.
   */
  globalSums?: Float64Array;
  count?: number;
  /** The forward's beta: needed only with `activation`. */
  beta?: Vec;
  /** The forward's activation: the gradient goes through it (its input recomputed from x and the saved statistics). */
  activation?: Activation;
  /** Write dgamma, dbeta into these (Float32Arrays of C values of their own) instead of fresh arrays. */
  dgammaOut?: Float32Array;
  dbetaOut?: Float32Array;
}

export interface BatchNormBackwardResult {
  dx: TensorLike;
  /** Σ dy·x̂ per channel. */
  dgamma: Float32Array;
  /** Σ dy per channel. */
  dbeta: Float32Array;
}

/**
 * (Σdy, Σdy·(x − mean)) per channel as a Float64Array of C pairs: the unit to all-reduce for a
 * synchronized backward (sum the pairs of every shard, then call batchNormBackward with
 * globalSums and the global count).
 */
export function backwardPartials(x: TensorLike, dy: TensorLike, opts: ShapeOptions & { saveMean: Vec }): Float64Array {
  const o = optionsOf(opts, "partials");
  const g = resolveGeometry(x, o);
  const saveMean = numVec("saveMean", o.saveMean, g.C);
  sameSize("dy", dy, g);
  return withScope((s) => {
    const xa = s.input("x", x, g.size), da = s.input("dy", dy, g.size, g.shape, g.layout);
    s.commit(tempBytes(g));
    const at = reduceExact(s, g, xa.ptr, da.ptr, saveMean).at;
    return s.heap.F64.slice(at, at + 2 * g.C);
  });
}

/**
 * Kernel sums around the f32 mean, corrected to the exact f64 mean: Σdy(x−μ) = Σdy(x−m_hi) −
 * m_lo·Σdy. Returns `at`, the f64 index of the C sum pairs in wasm memory (read them through a
 * current s.heap.F64), and pm, the pointer of the C f32 m_hi (m_lo = mean − m_hi).
 */
function reduceExact(s: Scope, g: Geometry, x: number, dy: number, mean: Vec, invstd?: ArrayLike<number>) {
  const r = reduceAround(s, g, x, dy, mean, invstd), C = g.C, F = s.heap.F32, S = s.heap.F64;
  for (let c = 0; c < C; c++) S[r.at + 2 * c + 1] -= (mean[c] - F[(r.pm >>> 2) + c]) * S[r.at + 2 * c];
  return r;
}

/** reduceExact's kernel sums around the f32 mean m_hi, not yet corrected (the caller folds m_lo in). */
function reduceAround(s: Scope, g: Geometry, x: number, dy: number, mean: Vec, invstd?: ArrayLike<number>) {
  const C = g.C;
  const pm = s.temp(4 * C), F = s.heap.F32;
  for (let c = 0; c < C; c++) F[(pm >>> 2) + c] = splitHi(mean[c], invstd?.[c]);
  return { at: backwardReduce(s, g, x, dy, pm) >>> 3, pm };
}

/**
 * batchNormBackward's temporaries after the vectors (the two-pass path), one block (byte offsets
 * from its start, and its size, which the call reserves): m (with two planes bn_params_f32 also
 * writes: C f32 each), k | c1 | c0 (C f32 each), the parameter gradients dgamma | dbeta (C f32
 * each), the synchronized sums (C f64 pairs). The fused path's temporaries, and the repeated
 * parameters of pseudo-channels, are the kernels' own (tempBytes).
 */
function backwardBlock(C: number) {
  const pk = aligned(12 * C), grads = pk + aligned(12 * C), gs = grads + aligned(8 * C);
  return { pk, grads, gs, bytes: gs + aligned(16 * C) };
}

/** Binds a backward call's big arguments (x, dy in; dx out) and reserves its temporaries (and `own` bytes more). */
function bindBackward(s: Scope, g: Geometry, x: TensorLike, dy: TensorLike, out: TensorLike | undefined, own = 0) {
  const xa = s.input("x", x, g.size), da = s.input("dy", dy, g.size, g.shape, g.layout);
  const oa = s.output("out", out, g.size, wantsTensor(x, out), g.shape, g.layout);
  s.commit(tempBytes(g) + own);
  return { xa, da, oa };
}

/**
 * dgamma = Σdy·(x − μ)·invstd and dbeta = Σdy from the C (Σdy, Σdy·(x − μ)) pairs at sums[at…],
 * into the caller's arrays where given.
 */
function paramGrads(sums: Float64Array, at: number, invstd: ArrayLike<number>, C: number, outs: GradOutputs) {
  const [dgamma, dbeta] = resultArrays(C, [outs.dgamma, outs.dbeta]) as Float32Array[];
  for (let c = 0; c < C; c++) { dgamma[c] = sums[at + 2 * c + 1] * invstd[c]; dbeta[c] = sums[at + 2 * c]; }
  return { dgamma, dbeta };
}

/**
 * n f32 result planes of C values at F[at…] (element index): into the caller's arrays where given,
 * fresh ones for the rest (one store and one native copy when none is given: resultsAt32).
 */
function resultsOut(F: Float32Array, at: number, C: number, keep: boolean, ...given: (Float32Array | undefined)[]): Float32Array[] {
  let any = false;
  for (let i = 0; i < given.length; i++) if (given[i] !== undefined) any = true;
  if (!any) return resultsAt32(F, at, given.length, C, keep);
  const r = resultArrays(C, given, keep) as Float32Array[];
  for (let i = 0; i < r.length; i++) copyOut(r[i], F, at + i * C);
  return r;
}

/** Checks shared by both backwards: the options read once, x's geometry, dy and out of its size. */
function backwardGeometry<K extends "backward" | "backwardEval">(x: TensorLike, dy: TensorLike, opts: unknown, k: K) {
  const o = optionsOf(opts, k);
  const g = resolveGeometry(x, o);
  sameSize("dy", dy, g);
  sameSize("out", o.out, g);
  return { g, o };
}

/**
 * Training-mode backward from saved statistics: dx, dgamma, dbeta. Two passes: per-channel sums,
 * then dx = γ·invstd·(dy − Σdy/m − (x−μ)·invstd²·Σdy(x−μ)/m), kept in the (x − μ) form.
 */
export function batchNormBackward(x: TensorLike, dy: TensorLike, opts: BatchNormBackwardOptions): BatchNormBackwardResult {
  const { g, o } = backwardGeometry(x, dy, opts, "backward");
  const C = g.C;
  const { gamma, saveMean: mean, saveInvstd, globalSums, count: m } = backwardOptions(C, o, g.N * g.S, true);
  const beta = affineShape("beta", o.beta, C), act = activationId(o.activation);
  if (act && globalSums) throw new Error("activation cannot be combined with globalSums: take the gradient through the activation before backwardPartials");
  const outs = gradOutputs(C, o, [x, dy, o.out, o.gamma, o.beta, o.saveMean, o.saveInvstd, o.globalSums]);
  return withScope((s) => {
    const L = backwardBlock(C);
    const { xa, da: d0, oa } = bindBackward(s, g, x, dy, o.out as TensorLike | undefined, vecBytes(C) + L.bytes);
    const vs = channelVecs(s, C, gamma, beta, mean, saveInvstd, 2, false);
    if (vs < 0) { backwardOptions(C, o, g.N * g.S); affineVec("beta", o.beta, C); vecCheckMismatch(); }
    const gm = vecAt(vs, C, 0, gamma), bt = vecAt(vs, C, 1, beta), mu = vecAt(vs, C, 2, mean), w = vecAt(vs, C, 3, saveInvstd);
    // With an activation, dy becomes dy·act'(v) (v recomputed), in dx's memory or a temporary.
    const da = act ? bnActGrad(s, g, xa.ptr, d0.ptr, oa.ptr, mu, w, gm, bt, act) : d0.ptr;
    if (!globalSums && fusable(g)) {
      // Channels-first: sums and dx fused per channel (the dx pass reads x, dy from L2).
      const { hi, lo } = splitMeans(mean, saveInvstd);
      const sums = backwardFused(s, g, xa.ptr, da, oa.ptr, hi, lo, saveInvstd, m, gamma);
      const { dgamma, dbeta } = paramGrads(sums, 0, saveInvstd, C, outs);
      return { dx: s.result(oa), dgamma, dbeta };
    }
    // The split mean m (bn_params_f32 with invstd given), the sums around it,
    // then per channel by a kernel: the exact sums (m's residue folded in), the local shard's
    // parameter gradients (sum them across shards like any gradient) and k, c1, c0 from the
    // local or the global sums.
    const pp = s.temp(L.bytes), pk = pp + L.pk, grads = pp + L.grads, gs = globalSums ? pp + L.gs : 0, k = rt().kernels;
    if (globalSums) s.heap.F64.set(globalSums, gs >>> 3);
    k.bn_params_f32(C, mu, w, 0, 0, -1, pp, pp + 4 * C, pp + 8 * C, 0);
    const sums = backwardReduce(s, g, xa.ptr, da, pp);
    k.bn_params_backward_f32(C, sums, mu, w, gm, gs, m, pp, pk, pk + 4 * C, pk + 8 * C, grads);
    backwardDx(s, g, xa.ptr, da, oa.ptr, pp, pk, pk + 4 * C, pk + 8 * C);
    const [dgamma, dbeta] = resultsOut(s.heap.F32, grads >>> 2, C, false, outs.dgamma, outs.dbeta);
    return { dx: s.result(oa), dgamma, dbeta };
  });
}

export interface BatchNormBackwardEvalOptions extends ShapeOptions {
  gamma?: Vec;
  runningMean: Vec;
  runningVar: Vec;
  eps?: number;
  out?: TensorLike;
  /** The forward's beta: needed only with `activation`. */
  beta?: Vec;
  /** The forward's activation. */
  activation?: Activation;
  /** Write dgamma, dbeta into these (Float32Arrays of C values of their own) instead of fresh arrays. */
  dgammaOut?: Float32Array;
  dbetaOut?: Float32Array;
}

/**
 * Eval-mode backward (statistics are constants): dx = dy·γ/sqrt(running_var + eps),
 * dgamma = Σ dy·(x − running_mean)/sqrt(running_var + eps), dbeta = Σ dy.
 */
export function batchNormBackwardEval(x: TensorLike, dy: TensorLike, opts: BatchNormBackwardEvalOptions): BatchNormBackwardResult {
  const { g, o } = backwardGeometry(x, dy, opts, "backwardEval");
  const C = g.C;
  const { eps, gamma, beta, runningMean, runningVar } = inferOptions(C, o);
  const act = activationId(o.activation), outs = gradOutputs(C, o, [x, dy, o.out, o.gamma, o.beta, o.runningMean, o.runningVar]);
  return withScope((s) => {
    const { xa, da: d0, oa } = bindBackward(s, g, x, dy, o.out as TensorLike | undefined);
    const invs = new Float64Array(C);
    for (let c = 0; c < C; c++) invs[c] = 1 / Math.sqrt(runningVar[c] + eps);
    let da = d0.ptr;
    if (act) {
      const vs = channelVecs(s, C, gamma, beta, runningMean, invs, 0, false); // (checked by inferOptions)
      da = bnActGrad(s, g, xa.ptr, d0.ptr, oa.ptr, vecAt(vs, C, 2, runningMean), vecAt(vs, C, 3, invs), vecAt(vs, C, 0, gamma), vecAt(vs, C, 1, beta), act);
    }
    const r = reduceExact(s, g, xa.ptr, da, runningMean, invs);
    // k, then C zeros for both c1 and c0.
    const pk = s.temp(8 * C), F = s.heap.F32, b = pk >>> 2;
    F.fill(0, b + C, b + 2 * C);
    for (let c = 0; c < C; c++) F[b + c] = (gamma ? gamma[c] : 1) * invs[c];
    backwardDx(s, g, xa.ptr, da, oa.ptr, r.pm, pk, pk + 4 * C, pk + 4 * C);
    const { dgamma, dbeta } = paramGrads(s.heap.F64, r.at, invs, C, outs);
    return { dx: s.result(oa), dgamma, dbeta };
  });
}
