// Layer objects: own the parameters, running statistics, gradient buffers and the train/eval
// mode; every computation and every argument check is the functional API's. In training mode
// the running statistics are updated by the same call that normalizes (batchNormTrain), so
// "training output computed, moving averages never updated" cannot happen.
// Each call's options are one plain object literal, never `{ ...o, key }`: on Node 18/20 an
// object literal that starts with a spread gets a hidden class of its own (~1 µs per property
// added, and every function reading it goes megamorphic; docs/performance.md).
import { batchNormTrain, batchNormInfer, batchNormBackward, batchNormBackwardEval } from "../ops/batchnorm";
import {
  instanceNorm, instanceNormBackward, groupNorm, groupNormBackward, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward,
  type GroupNormOptions, type GroupNormBackwardOptions,
} from "../ops/family/index";
import { activationId, type Activation } from "../ops/activation";
import { checkGroups, type NormOptions, type NormResult, type NormBackwardOptions, type NormBackwardResult } from "../ops/family/common";
import { convention, type Convention, type ConventionInfo } from "../ops/conventions";
import { epsOf, momentumOf, optionsOf, ours } from "../ops/options";
import { resolveGeometry, type ShapeOptions } from "../core/args";
import { checkFinite, checkInteger, readOptions, isWasmBuffer, fmt, F32_MAX, F32_TINY } from "../core/errors";
import { fmtShape, layoutInfo, type Layout } from "../core/layout";
import { isTensor, type TensorLike } from "../core/tensor";
import { typedKind, typedLength, typedBuffer, typedOffset, typedByteLength, bytesOverlap } from "../core/typed";

export interface ForwardOptions extends ShapeOptions {
  // shape: optional for Tensors and for NC Float32Arrays ([len/C, C]); layout: overrides the
  // layer's (a Tensor's own layout is used by default).
  /** Write y here (Tensor or Float32Array of x's size). Not x nor memory x shares: backward needs x. */
  out?: TensorLike;
}

export interface BackwardOptions {
  /** Write dx here (may be dy). */
  out?: TensorLike;
  /**
   * Add dgamma/dbeta to the gradient buffers instead of overwriting them (a layer used twice per
   * step; each forward's backward must run before the next forward). true or false; default false.
   */
  accumulate?: boolean;
}

export interface NormLayerOptions {
  /** Layout of Float32Array inputs (Tensors carry their own). Default "NC". */
  layout?: Layout;
  /** Learnable per-channel gamma (init 1) and beta (init 0). Default true. */
  affine?: boolean;
  eps?: number;
  /** Activation applied to the output in the same pass (and taken through by backward). Default none. */
  activation?: Activation;
}

/** Which forward a layer ran last (its backward must match). */
type LayerMode = "training" | "eval";

/**
 * What a sample-norm layer's options literal adds: group norm's groups (else undefined), and the
 * layer's gradient arrays as gradient outputs (the row norms write into them; others ignore them).
 */
type Grouped = { groups: number | undefined; dgammaOut?: Float32Array; dbetaOut?: Float32Array };

interface Saved {
  mode: LayerMode;
  x: TensorLike;
  /** The forward's shape options (undefined for a Tensor's own geometry). */
  shape: number[] | undefined;
  layout: Layout | undefined;
  [k: string]: unknown;
}

/** @internal l, when it is a layout name (an own property of LAYOUTS). */
export function knownLayout(l: string): Layout {
  layoutInfo(l);
  return l as Layout;
}

/**
 * Shape/layout of x: given ones win, a Tensor brings its own (left undefined: resolveGeometry
 * then takes the tensor's validated geometry as it is), else `layout`; an NC Float32Array needs
 * no shape ([len/C, C]).
 * @internal
 */
export function placement(x: unknown, C: number, o: ShapeOptions, layout: Layout): ShapeOptions {
  if (isTensor(x)) return { shape: o.shape, layout: o.layout };
  const l = o.layout ?? layout;
  if (o.shape !== undefined || l !== "NC" || typedKind(x) !== "Float32Array") return { shape: o.shape, layout: l };
  const n = typedLength(x as Float32Array);
  if (n % C) throw new Error(`x holds ${n} values, not a multiple of ${C} channels (pass { shape })`);
  return { shape: [n / C, C], layout: l };
}

/** C numbers of an array or typed array, each read once into a Float64Array (a non-number throws naming it). */
function valuesOnce(name: string, a: unknown, C: number): Float64Array {
  const n = typedKind(a) ? typedLength(a as ArrayBufferView) : Array.isArray(a) ? a.length : undefined;
  if (n === undefined) throw new Error(`${name} must be an array or typed array of ${C} values, got ${fmt(a)}`);
  if (n !== C) throw new Error(`${name} has ${n} values, the layer has ${C} channels`);
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const e = (a as ArrayLike<unknown>)[c];
    if (typeof e !== "number") throw new Error(`${name}[${c}] must be a number, got ${fmt(e)}`);
    out[c] = e;
  }
  return out;
}

/** A big argument's values as a typed array (a Tensor: its `data`), or undefined for what is neither (a freed Tensor, a non-array: the op refuses those by name). */
function viewOf(v: unknown): ArrayBufferView | undefined {
  if (isTensor(v)) return v.freed ? undefined : v.data;
  return typedKind(v) ? (v as ArrayBufferView) : undefined;
}

/**
 * A layer's forward keeps x for its backward: `out` may not be x, nor share any of its bytes (a
 * Tensor x's own `data`, another view of its buffer, a view overlapping it in part). Views of
 * wasm memory are one memory whichever buffer object they were made on (a shared memory gives
 * a new one when it grows).
 */
function checkOutApart(x: unknown, out: unknown): void {
  const inPlace = "backward needs the input (normalize in place with the functional API)";
  if (out === x) throw new Error(`out must not be x: ${inPlace}`);
  // Two Tensors: separate allocations (one owner a block), no byte in common.
  if (isTensor(x) && isTensor(out)) return;
  const a = viewOf(x), b = viewOf(out);
  if (!a || !b) return;
  const ba = typedBuffer(a), bb = typedBuffer(b);
  if (ba !== bb && !(isWasmBuffer(ba) && isWasmBuffer(bb))) return;
  if (!bytesOverlap(a, b)) return;
  const as = typedOffset(a), ae = as + typedByteLength(a), bs = typedOffset(b), be = bs + typedByteLength(b);
  const what = isTensor(x) && !isTensor(out) && bs === as && be === ae ? "out is x's own data" : `out: bytes ${bs}…${be}, x: bytes ${as}…${ae} of one ${isWasmBuffer(ba) ? "wasm memory" : "buffer"}`;
  throw new Error(`out must not share memory with x (${what}): ${inPlace}`);
}

/** backward's options, read once: `out`, and `accumulate` (true, false or absent). */
function backwardOptionsOf(o: unknown): { out: TensorLike | undefined; accumulate: boolean } {
  const { out, accumulate } = optionsOf(o, "layerBackward") as { out?: TensorLike; accumulate?: unknown };
  if (accumulate !== undefined && typeof accumulate !== "boolean") throw new Error(`accumulate must be true or false, got ${fmt(accumulate)}`);
  return { out, accumulate: accumulate === true };
}


/** Throws unless v (element i of `name`, finite in f64) is finite in float32 too (stored in a Float32Array). */
function f32Finite(name: string, i: number, v: number, what: string): void {
  if (!Number.isFinite(Math.fround(v))) throw new Error(`${name}[${i}] is ${v}: beyond float32's range (${what} are stored as float32, at most ±${F32_MAX})`);
}

/** A gradient into the layer's buffer: set, or added with `accumulate` (nothing when it is the buffer: an op wrote it there). */
function keepGrad(buf: Float32Array | null, grad: Float32Array | undefined, accumulate: boolean | undefined): void {
  if (!buf || !grad || grad === buf) return;
  if (!accumulate) buf.set(grad);
  else for (let c = 0; c < buf.length; c++) buf[c] += grad[c];
}

/** What the normalization layers share: parameters, gradients, mode, forward/backward bookkeeping. */
export abstract class NormLayer {
  readonly channels: number;
  /** Layout assumed for Float32Array inputs. */
  readonly layout: Layout;
  readonly affine: boolean;
  readonly eps: number;
  /** Per-channel scale (null when affine is false). Edit in place; never replaced. */
  readonly gamma: Float32Array | null;
  readonly beta: Float32Array | null;
  /** Gradients from the last backward (or their sum with `accumulate`). */
  readonly dgamma: Float32Array | null;
  readonly dbeta: Float32Array | null;
  /** The activation applied after the normalization (undefined: none). */
  readonly activation: Activation | undefined;
  /** true after construction and train(); false after eval(). */
  training = true;
  protected saved: Saved | null = null;

  /** withBeta false: a scale-only layer (RMSNorm); gammaInit: gamma's initial value. */
  constructor(channels: number, o: NormLayerOptions, defaultEps: number, withBeta = true, gammaInit = 1) {
    this.channels = checkInteger("channels", channels, 1, "a positive integer");
    this.layout = knownLayout(o.layout ?? "NC");
    if (o.affine !== undefined && typeof o.affine !== "boolean") throw new Error(`affine must be true or false, got ${fmt(o.affine)}`);
    this.affine = o.affine ?? true;
    this.eps = epsOf(o.eps, defaultEps);
    this.activation = activationId(o.activation) ? o.activation : undefined;
    const beta = this.affine && withBeta;
    this.gamma = this.affine ? new Float32Array(channels).fill(gammaInit) : null;
    this.beta = beta ? new Float32Array(channels) : null;
    this.dgamma = this.affine ? new Float32Array(channels) : null;
    this.dbeta = beta ? new Float32Array(channels) : null;
  }

  /** Training mode: batch statistics (and, for BatchNorm, running-statistics updates). train(false) = eval(). */
  train(on = true): this {
    if (typeof on !== "boolean") throw new Error(`train(on): on must be true or false, got ${fmt(on)}`);
    this.training = on;
    return this;
  }

  /** Eval mode: running statistics (BatchNorm), no updates. */
  eval(): this { return this.train(false); }

  zeroGrad(): this { this.dgamma?.fill(0); this.dbeta?.fill(0); return this; }

  /**
   * Shape and layout options of x for this layer's calls (undefined for a Tensor's own: see
   * placement); throws when its channel count differs.
   */
  protected where(x: TensorLike, opts: ForwardOptions): { shape: number[] | undefined; layout: Layout | undefined; out?: TensorLike } {
    const o = optionsOf(opts, "shapeOut") as ForwardOptions;
    const p = placement(x, this.channels, o, this.layout), g = resolveGeometry(x, p);
    if (g.C !== this.channels) throw new Error(`x has ${g.C} channels (shape ${fmtShape(g.shape)}, layout ${g.layout}), the layer has ${this.channels}`);
    if (o.out !== undefined && o.out !== null) checkOutApart(x, o.out);
    // A Tensor's own geometry passes through (already validated); given options are kept as the
    // validated copy, so the caller's shape array is read once and may change after the call.
    return isTensor(x) && p.shape === undefined && p.layout === undefined
      ? { shape: undefined, layout: undefined, out: o.out }
      : { shape: g.shape, layout: g.layout, out: o.out };
  }

  /** The forward this backward belongs to; throws on misuse. */
  protected pending(name: string): Saved {
    const s = this.saved;
    if (!s) throw new Error(`${name}.backward: no forward to differentiate — call forward(x) first (each forward allows one backward, and the layer keeps only its last forward: a layer used twice per step runs forward(a), backward(da), then forward(b), backward(db, { accumulate: true }))`);
    const mode: LayerMode = this.training ? "training" : "eval";
    if (s.mode !== mode) throw new Error(`${name}.backward in ${mode} mode after a forward in ${s.mode} mode: the gradient depends on the mode — call backward before train()/eval(), or run forward again`);
    return s;
  }

  /** Store parameter gradients and drop the saved forward (only after the backward succeeded). */
  protected finish(r: { dgamma: Float32Array; dbeta?: Float32Array }, accumulate: boolean | undefined): void {
    this.saved = null;
    keepGrad(this.dgamma, r.dgamma, accumulate);
    keepGrad(this.dbeta, r.dbeta, accumulate);
  }

  /** Trainable values (2·C when affine, C for a scale-only layer, else 0). */
  get trainableCount(): number { return (this.gamma ? this.channels : 0) + (this.beta ? this.channels : 0); }
}

export interface BatchNormOptions extends NormLayerOptions {
  /** "pytorch" (default), "keras", "onnx", "tf-fused", "caffe": momentum meaning, eps, variance. */
  convention?: Convention;
  /** Meaning set by the convention; default per convention; null = cumulative average (pytorch). */
  momentum?: number | null;
}

/**
 * Batch norm over (N, C, …) in any layout (1D/2D/3D: NC, NCL, NCHW, NCDHW, NLC, NHWC, NDHWC).
 * Training mode (the default, as in PyTorch) normalizes with batch statistics and updates the
 * running statistics in the same call; eval mode normalizes with the running statistics.
 * @example
 * const bn = new BatchNorm(64);                 // NC, pytorch convention
 * const y = bn.forward(x);                      // x: Float32Array of N·64 values
 * const dx = bn.backward(dy);                   // fills bn.dgamma, bn.dbeta
 * bn.eval(); const yTest = bn.forward(xTest);   // running statistics
 */
export class BatchNorm extends NormLayer {
  readonly convention: Convention;
  readonly momentum: number | null;
  /**
   * Running mean, updated in place by training forwards (Float32, as frameworks store it).
   * For the caffe convention: Caffe's blob 0, the λ-weighted sum of batch means (see stats()).
   */
  readonly runningMean: Float32Array;
  /** Running variance (unbiased or biased per convention). caffe: blob 1, a λ-weighted sum. */
  readonly runningVar: Float32Array;
  /** Training batches seen (PyTorch's num_batches_tracked). */
  numBatchesTracked = 0;
  /** caffe: the normalizer blob s (s ← λ·s + 1 per batch; statistics = blob / s). Else 1. */
  normalizer: number;
  private readonly info: ConventionInfo;
  /**
   * The per-channel statistics a forward keeps for its backward, written in place (a step
   * allocates no arrays for them): training's batch mean, invstd and variance (written only when
   * the call succeeds), and two [mean, var] pairs for eval (stats()), taken in turn: an eval
   * forward writes the pair the pending backward does not hold, so a failing one leaves that
   * backward's statistics as they were.
   */
  private readonly trainKept: [Float32Array, Float32Array, Float32Array];
  private readonly evalKept: [Float32Array, Float32Array][];

  constructor(channels: number, opts: BatchNormOptions = {}) {
    const o = readOptions<BatchNormOptions>(opts, ["layout", "affine", "eps", "convention", "momentum", "activation"]);
    const info = convention(o.convention);
    super(channels, o, info.eps);
    this.info = info;
    this.convention = o.convention ?? "pytorch";
    this.momentum = momentumOf(o.momentum, info, this.convention);
    this.runningMean = new Float32Array(channels);
    // Caffe starts every blob at 0 (statistics 0/0 → 0); the others at mean 0, variance 1.
    this.runningVar = new Float32Array(channels).fill(info.weightedSums ? 0 : 1);
    this.normalizer = info.weightedSums ? 0 : 1;
    const all = new Float32Array(7 * channels), at = (i: number) => all.subarray(i * channels, (i + 1) * channels);
    this.trainKept = [at(0), at(1), at(2)];
    this.evalKept = [[at(3), at(4)], [at(5), at(6)]];
  }

  /**
   * y = BN(x). Training: batch statistics, running statistics updated (only if everything
   * succeeded). Eval: running statistics. Returns a Tensor when x is a Tensor (caller frees),
   * else a Float32Array. x must stay unchanged until backward.
   * @throws on a wrong channel count or shape, or (training) one value per channel.
   */
  forward(x: TensorLike, o: ForwardOptions = {}): TensorLike {
    const { shape, layout, out } = this.where(x, o), gamma = this.gamma ?? undefined, beta = this.beta ?? undefined;
    if (!this.training) {
      const [mean, v] = this.evalKept[this.saved?.mean === this.evalKept[0][0] ? 1 : 0];
      this.statsInto(mean, v);
      const y = batchNormInfer(x, ours({ shape, layout, out, gamma, beta, eps: this.eps, activation: this.activation, runningMean: mean, runningVar: v }));
      this.saved = { mode: "eval", x, shape, layout, mean, var: v };
      return y;
    }
    const r = batchNormTrain(x, ours({
      shape, layout, out, gamma, beta, eps: this.eps, activation: this.activation, runningMean: this.runningMean, runningVar: this.runningVar,
      momentum: this.momentum, convention: this.convention, numBatchesTracked: this.numBatchesTracked,
      saveMeanOut: this.trainKept[0], saveInvstdOut: this.trainKept[1], varOut: this.trainKept[2],
    }));
    this.numBatchesTracked = r.numBatchesTracked;
    // Caffe keeps s in a float blob: stay float32 so exported blobs round-trip exactly.
    if (this.info.weightedSums) this.normalizer = Math.fround((this.momentum as number) * this.normalizer + 1);
    this.saved = { mode: "training", x, shape, layout, saveMean: r.saveMean, saveInvstd: r.saveInvstd };
    return r.y;
  }

  /**
   * dx from dy for the last forward, in the mode it ran in (training: through the batch
   * statistics; eval: statistics are constants). Sets dgamma/dbeta (adds with `accumulate`).
   * @throws before any forward, after a forward in the other mode, or twice for one forward.
   */
  backward(dy: TensorLike, opts: BackwardOptions = {}): TensorLike {
    const o = backwardOptionsOf(opts), s = this.pending("BatchNorm");
    const { shape, layout } = s, gamma = this.gamma ?? undefined, beta = this.beta ?? undefined, activation = this.activation, out = o.out;
    const dgammaOut = o.accumulate ? undefined : this.dgamma ?? undefined, dbetaOut = o.accumulate ? undefined : this.dbeta ?? undefined;
    const r = s.mode === "training"
      ? batchNormBackward(s.x, dy, ours({ shape, layout, gamma, beta, activation, out, saveMean: s.saveMean as Float32Array, saveInvstd: s.saveInvstd as Float32Array, dgammaOut, dbetaOut }))
      : batchNormBackwardEval(s.x, dy, ours({ shape, layout, gamma, beta, activation, out, runningMean: s.mean as Float32Array, runningVar: s.var as Float32Array, eps: this.eps, dgammaOut, dbetaOut }));
    this.finish(r, o.accumulate);
    return r.dx;
  }

  /**
   * The statistics eval mode uses, as copies: runningMean/runningVar, or for caffe the blobs
   * divided by the normalizer (0 while the normalizer is 0, as Caffe does).
   */
  stats(): { mean: Float32Array; var: Float32Array } {
    const mean = new Float32Array(this.channels), v = new Float32Array(this.channels);
    this.statsInto(mean, v);
    return { mean, var: v };
  }

  /** stats() written into the given arrays (C values each). */
  private statsInto(mean: Float32Array, v: Float32Array): void {
    const f = this.normalizer === 0 ? 0 : 1 / this.normalizer;
    for (let c = 0; c < this.channels; c++) { mean[c] = this.runningMean[c] * f; v[c] = this.runningVar[c] * f; }
  }

  /**
   * Replace the running statistics (e.g. precise population statistics, imported weights).
   * caffe: the values are stored as the blobs with normalizer s (default 1: the blobs are then
   * the statistics themselves).
   * @throws on wrong lengths or a negative variance; changes nothing then.
   */
  setStats(mean: ArrayLike<number>, variance: ArrayLike<number>, normalizer = 1): this {
    const C = this.channels;
    // Each value read once (a getter or Proxy cannot change them between check and store).
    const m = valuesOnce("mean", mean, C), v = valuesOnce("var", variance, C);
    for (let c = 0; c < C; c++) {
      if (!(v[c] >= 0 && v[c] < Infinity)) throw new Error(`var[${c}] is ${v[c]}: variances must be finite and ≥ 0`);
      if (!Number.isFinite(m[c])) throw new Error(`mean[${c}] is ${m[c]}: means must be finite`);
    }
    checkFinite("normalizer", normalizer, 0);
    if (!this.info.weightedSums && normalizer !== 1) throw new Error(`a normalizer is a caffe state; the ${this.convention} convention stores statistics (normalizer 1), got ${normalizer}`);
    // Stored as float32 (the blobs and Caffe's s are float blobs): what is stored, and what eval
    // uses (blob / s, as statsInto computes it), must be finite there too.
    const s = Math.fround(normalizer);
    if (s === Infinity) throw new Error(`normalizer ${normalizer} is beyond float32's range (Caffe keeps s in a float blob: at most ${F32_MAX})`);
    if (s === 0 && normalizer !== 0) throw new Error(`normalizer ${normalizer} is 0 in float32 (Caffe keeps s in a float blob): give 0 or at least ${F32_TINY}`);
    const f = s === 0 ? 0 : 1 / s;
    for (let c = 0; c < C; c++) {
      f32Finite("mean", c, m[c], "means"); f32Finite("var", c, v[c], "variances");
      const sm = Math.fround(m[c]) * f, sv = Math.fround(v[c]) * f;
      if (!Number.isFinite(Math.fround(sm)) || !Number.isFinite(Math.fround(sv))) {
        throw new Error(`${Number.isFinite(Math.fround(sm)) ? `var[${c}] / normalizer is ${sv}` : `mean[${c}] / normalizer is ${sm}`}: the statistics eval uses (blob / s) are beyond float32's range (at most ${F32_MAX}): normalizer ${normalizer} is too small for these blobs`);
      }
    }
    this.runningMean.set(m);
    this.runningVar.set(v);
    this.normalizer = s;
    return this;
  }

  /** true for conventions whose running variance is unbiased (m/(m−1)). */
  get unbiased(): boolean { return this.info.unbiased; }
}

/**
 * Instance, group and layer norm layers: statistics of each sample, so no running statistics and
 * the same computation in both modes (the mode is still tracked so backward pairs with its forward).
 */
abstract class SampleNormLayer extends NormLayer {
  protected abstract run(x: TensorLike, o: NormOptions & Grouped): NormResult;
  protected abstract grad(x: TensorLike, dy: TensorLike, o: NormBackwardOptions & Grouped): NormBackwardResult;
  /** Group norm's `groups` (undefined for the others), part of every call's options literal. */
  protected get groupCount(): number | undefined { return undefined; }

  /** y = norm(x) with the layer's gamma/beta. Returns a Tensor for a Tensor x, else a Float32Array. */
  forward(x: TensorLike, o: ForwardOptions = {}): TensorLike {
    const { shape, layout, out } = this.where(x, o);
    const r = this.run(x, ours({ shape, layout, out, gamma: this.gamma ?? undefined, beta: this.beta ?? undefined, eps: this.eps, activation: this.activation, groups: this.groupCount }));
    this.saved = { mode: this.training ? "training" : "eval", x, shape, layout, mean: r.mean, invstd: r.invstd };
    return r.y;
  }

  /** dx for the last forward; sets dgamma/dbeta (adds with `accumulate`). Same misuse errors as BatchNorm. */
  backward(dy: TensorLike, opts: BackwardOptions = {}): TensorLike {
    const o = backwardOptionsOf(opts), s = this.pending(this.constructor.name);
    const own = !o.accumulate;
    const r = this.grad(s.x, dy, ours({
      shape: s.shape, layout: s.layout, gamma: this.gamma ?? undefined, beta: this.beta ?? undefined, activation: this.activation, mean: s.mean as Float32Array,
      invstd: s.invstd as Float32Array, out: o.out, groups: this.groupCount, dgammaOut: own ? this.dgamma ?? undefined : undefined, dbetaOut: own ? this.dbeta ?? undefined : undefined,
    }));
    this.finish(r, o.accumulate);
    return r.dx;
  }
}

/**
 * Instance norm: statistics per (sample, channel) over the spatial axes (needs a spatial axis).
 * affine defaults to false, as PyTorch's InstanceNorm1d/2d/3d. eps default 1e-5.
 * @example const inorm = new InstanceNorm(3, { layout: "NCHW", affine: true }); const y = inorm.forward(img);
 */
export class InstanceNorm extends SampleNormLayer {
  constructor(channels: number, o: NormLayerOptions = {}) {
    const opts = readOptions<NormLayerOptions>(o, ["layout", "affine", "eps", "activation"]);
    super(channels, { layout: opts.layout, affine: opts.affine ?? false, eps: opts.eps, activation: opts.activation }, 1e-5);
  }
  protected run(x: TensorLike, o: NormOptions) { return instanceNorm(x, o); }
  protected grad(x: TensorLike, dy: TensorLike, o: NormBackwardOptions) { return instanceNormBackward(x, dy, o); }
}

/**
 * Group norm: statistics per (sample, group of channels/groups consecutive channels), per-channel
 * affine (default true, as PyTorch). eps default 1e-5.
 * @example const gn = new GroupNorm(64, { groups: 32, layout: "NCHW" });
 */
export class GroupNorm extends SampleNormLayer {
  readonly groups: number;
  constructor(channels: number, o: NormLayerOptions & { groups: number }) {
    const opts = readOptions<NormLayerOptions & { groups: number }>(o, ["layout", "affine", "eps", "groups", "activation"]);
    super(channels, opts, 1e-5);
    this.groups = checkGroups(channels, opts.groups);
  }
  protected get groupCount(): number { return this.groups; }
  protected run(x: TensorLike, o: NormOptions & Grouped) { return groupNorm(x, o as GroupNormOptions); }
  protected grad(x: TensorLike, dy: TensorLike, o: NormBackwardOptions & Grouped) { return groupNormBackward(x, dy, o as GroupNormBackwardOptions); }
}

/**
 * Layer norm over the channel axis at each (sample, position): (N, C) features, (N, L, C)
 * sequences (layout NLC), channels-last images; per-channel affine (default true). eps 1e-5.
 * @example const ln = new LayerNorm(512, { layout: "NLC" }); const y = ln.forward(h, { shape: [8, 128, 512] });
 */
export class LayerNorm extends SampleNormLayer {
  constructor(channels: number, o: NormLayerOptions = {}) { super(channels, readOptions<NormLayerOptions>(o, ["layout", "affine", "eps", "activation"]), 1e-5); }
  protected run(x: TensorLike, o: NormOptions) { return layerNorm(x, o); }
  protected grad(x: TensorLike, dy: TensorLike, o: NormBackwardOptions) { return layerNormBackward(x, dy, o); }
}

export interface RMSNormOptions extends NormLayerOptions {
  /** Scale by (1 + gamma), gamma initialized to 0 (Gemma). Default false (gamma initialized to 1). */
  unitOffset?: boolean;
}

/**
 * RMS norm over the channel axis at each (sample, position): LLaMA/T5/Gemma's RMSNorm, PyTorch
 * torch.nn.RMSNorm. A learnable per-channel scale (`gamma`, PyTorch/Hugging Face `weight`, ONNX
 * `scale`), no beta. eps default 1e-6 (Hugging Face LLaMA). Float32Array inputs default to NC:
 * rows of `channels` values (a (tokens, hidden) matrix).
 * @example const norm = new RMSNorm(2048, { eps: 1e-5 }); const y = norm.forward(h); // h: tokens × 2048
 */
export class RMSNorm extends NormLayer {
  readonly unitOffset: boolean;
  constructor(channels: number, opts: RMSNormOptions = {}) {
    const o = readOptions<RMSNormOptions>(opts, ["layout", "affine", "eps", "activation", "unitOffset"]);
    if (o.unitOffset !== undefined && typeof o.unitOffset !== "boolean") throw new Error(`unitOffset must be true or false, got ${fmt(o.unitOffset)}`);
    super(channels, o, 1e-6, false, o.unitOffset ? 0 : 1);
    this.unitOffset = o.unitOffset ?? false;
  }

  /** y = act(x / rms(x) · gamma) with the layer's gamma. Returns a Tensor for a Tensor x, else a Float32Array. */
  forward(x: TensorLike, o: ForwardOptions = {}): TensorLike {
    const { shape, layout, out } = this.where(x, o);
    const r = rmsNorm(x, ours({ shape, layout, out, gamma: this.gamma ?? undefined, unitOffset: this.unitOffset, eps: this.eps, activation: this.activation }));
    this.saved = { mode: this.training ? "training" : "eval", x, shape, layout, invRms: r.invRms };
    return r.y;
  }

  /** dx for the last forward; sets dgamma (adds with `accumulate`). Same misuse errors as BatchNorm. */
  backward(dy: TensorLike, opts: BackwardOptions = {}): TensorLike {
    const o = backwardOptionsOf(opts), s = this.pending("RMSNorm");
    const r = rmsNormBackward(s.x, dy, ours({
      shape: s.shape, layout: s.layout, gamma: this.gamma ?? undefined, unitOffset: this.unitOffset, activation: this.activation, invRms: s.invRms as Float32Array,
      out: o.out, dgammaOut: o.accumulate ? undefined : this.dgamma ?? undefined,
    }));
    this.finish(r, o.accumulate);
    return r.dx;
  }
}
