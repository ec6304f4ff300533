// Planning: which values of which user array each worker gets. A whole tensor is split into row
// ranges (one per worker) when it is large enough; synchronized ops give shard i to worker i mod
// size. Nothing here allocates or talks to a worker. `L` is the runtime of the bundle that made
// the pool (js/workers/link.ts).
import type { TensorLike } from "../core/tensor";
import type { Geometry, Layout } from "../core/layout";
import type { PoolLink } from "./link";
import type { SplitOp, TransportName } from "./protocol";

/**
 * Split thresholds (values) per whole-tensor op when `minSplit` is not given and memory is
 * shared: statistics pay from 4M values; the training forward moves 3× the bytes and pays only
 * from ~16M; the backward stays on the calling thread (docs/performance.md has the figures).
 */
const DEFAULT_SPLIT: Record<SplitOp, number> = {
  partialStats: 1 << 22, batchNormTrain: 1 << 24, batchNormBackward: Infinity,
};

/**
 * The threshold of every whole-tensor op: `minSplit` for all when given, else the defaults
 * (shared memory) or never (message passing: the copies cost as much as the op).
 * @internal
 */
export function splitThresholds(transport: TransportName, minSplit: number | undefined): Readonly<Record<SplitOp, number>> {
  const t = {} as Record<SplitOp, number>;
  for (const op of Object.keys(DEFAULT_SPLIT) as SplitOp[]) t[op] = minSplit ?? (transport === "shared" ? DEFAULT_SPLIT[op] : Infinity);
  return Object.freeze(t);
}

/** @internal A user input array of an op. */
export interface Input { name: string; arr: TensorLike; len: number; }

/** @internal An output of an op: where it goes (user) or how to make it. */
export interface OutSpec { name: string; len: number; shape: number[]; layout: Layout; asTensor: boolean; user?: TensorLike; }

/**
 * A part of an op: `size` values from offset `off` of inputs `x` and `dy` (indices into the op's
 * inputs, −1: none) and of output `out`, with its shape, run on worker `slot` (−1: an empty
 * shard, no worker).
 * @internal
 */
export interface Part {
  shape: number[]; layout: Layout; size: number;
  x: number; dy: number; out: number; off: number; slot: number;
}

/** @internal A planned op: its channels, parts, inputs, outputs and (sync backward) value count per channel. */
export interface Plan { C: number; parts: Part[]; inputs: Input[]; outs: OutSpec[]; count: number; }

/**
 * One tensor split by rows into at most `workers` parts when it holds at least `min` values, or
 * null: run on the calling thread. Input 0 is x, input 1 dy (when given); output 0 is `out` of
 * an op that writes one (`writes`). The caller checks dy and out.
 * @internal
 */
export function splitRows(L: PoolLink, g: Geometry, workers: number, min: number, x: TensorLike, extra: { dy?: TensorLike; out?: TensorLike; writes: boolean }): Plan | null {
  if (workers < 2 || g.size < min) return null;
  // Channels-last data is R = N·S rows of C values: any row boundary will do (an "NC" view).
  // Channels-first data splits along N only (a channel's values are contiguous per sample).
  const rows = g.channelsLast ? g.N * g.S : g.N;
  const K = Math.min(workers, rows);
  if (K < 2) return null;
  const per = g.size / rows;
  const parts: Part[] = [];
  for (let k = 0; k < K; k++) {
    const r0 = Math.floor((rows * k) / K), r1 = Math.floor((rows * (k + 1)) / K);
    const shape = g.channelsLast ? [r1 - r0, g.C] : [r1 - r0, ...g.shape.slice(1)];
    parts.push({
      shape, layout: (g.channelsLast ? "NC" : g.layout) as Layout, size: (r1 - r0) * per, off: r0 * per,
      x: 0, dy: extra.dy !== undefined ? 1 : -1, out: extra.writes ? 0 : -1, slot: k,
    });
  }
  const inputs: Input[] = [{ name: "x", arr: x, len: g.size }];
  if (extra.dy !== undefined) inputs.push({ name: "dy", arr: extra.dy, len: g.size });
  const outs = extra.writes ? [outSpec(L, "out", g, extra.out, x)] : [];
  return { C: g.C, parts, inputs, outs, count: g.N * g.S };
}

/** @internal Shards of a synchronized op, checked (same channels and layout): shard i on worker i mod size, empty shards on none. */
export function shardPlan(L: PoolLink, shards: { x: TensorLike; shape?: number[]; out?: TensorLike; dy?: TensorLike }[], layout: Layout | undefined, backward: boolean, workers: number, op: string): Plan {
  if (!Array.isArray(shards) || shards.length === 0) throw new Error(`shards must be a non-empty array of { x, shape }, got ${Array.isArray(shards) ? "an empty array" : L.fmt(shards)}`);
  const inputs: Input[] = [];
  const outs: OutSpec[] = [];
  const parts: Part[] = [];
  let C = -1, count = 0, used = 0;
  shards.forEach((sh, i) => {
    const name = `shards[${i}]`;
    if (!sh || typeof sh !== "object") throw new Error(`${name} must be { x, shape }, got ${L.fmt(sh)}`);
    refuseBytes(L, `${name}.x`, sh.x, op);
    if (backward) refuseBytes(L, `${name}.dy`, sh.dy, op);
    const g = shardGeometry(L, sh.x, sh.shape, layout, `${name}.x`);
    if (C >= 0 && g.C !== C) throw new Error(`${name} has ${g.C} channels, shards[0] has ${C}`);
    if (parts.length && g.layout !== parts[0].layout) throw new Error(`${name} has layout ${g.layout}, shards[0] ${parts[0].layout}`);
    C = g.C;
    count += g.N * g.S;
    if (backward) {
      if (!(L.typedKind(sh.dy) === "Float32Array" || L.isTensor(sh.dy))) throw new Error(`${name}.dy must be a Float32Array or a simdnorm Tensor of ${g.size} values`);
      L.sameSize(`${name}.dy`, sh.dy, g);
    }
    L.sameSize(`${name}.out`, sh.out, g);
    inputs.push({ name: `${name}.x`, arr: sh.x, len: g.size });
    if (backward) inputs.push({ name: `${name}.dy`, arr: sh.dy!, len: g.size });
    outs.push(outSpec(L, `${name}.out`, g, sh.out, sh.x));
    const xi = inputs.length - (backward ? 2 : 1);
    parts.push({ shape: g.shape, layout: g.layout, size: g.size, x: xi, dy: backward ? xi + 1 : -1, out: i, off: 0, slot: g.size ? used++ % workers : -1 });
  });
  return { C, parts, inputs, outs, count };
}

/**
 * Byte images (Uint8Array, Uint8ClampedArray, ImageData or an array of them) given to a pool op
 * that takes float32 values: a clear error naming the argument and what to do instead.
 * @internal
 */
export function refuseBytes(L: PoolLink, name: string, v: unknown, op: string): void {
  if (!L.isPixels(v)) return;
  const what = Array.isArray(v) ? "an array of byte images" : ArrayBuffer.isView(v) ? `a ${L.typedKind(v)} (byte image data)` : "an ImageData (byte image data)";
  throw new Error(`${name} is ${what}: pool.${op} takes float32 values (a Float32Array or a simdnorm Tensor); convert the bytes with fromPixels() first. Of the pool's ops only partialStats and channelStats read byte images`);
}

/** An output like x: the user's `out`, else a new array (a Tensor when x is one). */
function outSpec(L: PoolLink, name: string, g: Geometry, out: TensorLike | undefined, x: TensorLike): OutSpec {
  return { name, len: g.size, shape: g.shape, layout: g.layout, asTensor: L.wantsTensor(x, out), user: out };
}

/** Geometry of a shard; N = 0 (an empty shard) is allowed here, unlike in single ops. */
function shardGeometry(L: PoolLink, x: TensorLike, shape: number[] | undefined, layout: Layout | undefined, name: string): Geometry {
  const sh = shape ?? (L.isTensor(x) ? x.shape : undefined);
  if (sh && sh[0] === 0 && L.typedKind(x) === "Float32Array") {
    const g = L.geometry([1, ...Array.from(sh).slice(1)], layout, name);
    if (L.typedLength(x as Float32Array) !== 0) throw new Error(`${name} holds ${L.typedLength(x as Float32Array)} values, the shape ${L.fmtShape(sh)} needs 0`);
    return { shape: Array.from(sh), layout: g.layout, N: 0, C: g.C, S: g.S, size: 0, channelsLast: g.channelsLast };
  }
  return L.resolveGeometry(x, { shape, layout }, name);
}
