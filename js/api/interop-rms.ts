// Weights in and out of RMSNorm layers in the forms frameworks store them. Imports check
// everything before changing anything.
import { fmt, F32_MAX } from "../core/errors";
import { typedKind, typedLength, isFakeTyped } from "../core/typed";
import type { RMSNorm } from "./layers";

/** RMSNorm weights: PyTorch / Hugging Face state_dict { weight }, ONNX RMSNormalization { scale }, Keras [scale]. */
export type RmsWeights = { weight: Float32Array } | { scale: Float32Array; attributes: { epsilon: number } } | Float32Array[];

/**
 * The length of an array-like v (a typed array's through the intrinsic getter), or undefined for
 * anything else (a Proxy of a typed array or an object posing as one included: its `length`
 * getter would throw a TypeError). @internal
 */
export function lengthOf(v: unknown): number | undefined {
  if (v === null || typeof v !== "object" || isFakeTyped(v)) return undefined;
  if (typedKind(v)) return typedLength(v as ArrayBufferView);
  const n = (v as ArrayLike<unknown>).length;
  return typeof n === "number" ? n : undefined;
}

/**
 * A weight array of C numbers finite in float32 (the layers store Float32Arrays), each read once
 * into the Float64Array returned (names what is wrong). @internal
 */
export function vec(what: string, v: unknown, C: number): Float64Array {
  const a = v as ArrayLike<unknown>, n = lengthOf(v);
  if (n === undefined) throw new Error(`${what} must be an array of ${C} numbers, got ${v === null ? "null" : isFakeTyped(v) ? fmt(v) : typeof v}`);
  if (n !== C) throw new Error(`${what} has ${n} values, the layer has ${C} channels`);
  const r = new Float64Array(C);
  for (let i = 0; i < C; i++) {
    const e = a[i];
    if (typeof e !== "number" || !Number.isFinite(e)) throw new Error(`${what}[${i}] is ${typeof e === "number" ? String(e) : fmt(e)}: expected a finite number`);
    if (!Number.isFinite(Math.fround(e))) throw new Error(`${what}[${i}] is ${e}: beyond float32's range (weights are stored as float32, at most ±${F32_MAX})`);
    r[i] = e;
  }
  return r;
}

/** A name as error messages show it: a string in quotes, anything else as fmt reads it. */
const quoted = (v: unknown) => (typeof v === "string" ? `"${v}"` : fmt(v));

/** The multiplier the layer applies: gamma, or 1 + gamma with unitOffset. */
function multiplier(l: RMSNorm): Float32Array {
  const g = l.gamma!;
  return l.unitOffset ? Float32Array.from(g, (v) => 1 + v) : Float32Array.from(g);
}

function requireAffine(l: RMSNorm): void {
  if (!l.gamma) throw new Error("the RMSNorm layer has affine: false: it holds no weights");
}

/**
 * Export: pytorch { weight } (the stored value: Gemma's unit-offset weight stays around 0),
 * onnx { scale, attributes: { epsilon } } and keras [scale] (the multiplier: 1 + weight with
 * unitOffset).
 */
export function exportRms(l: RMSNorm, format: string): RmsWeights {
  requireAffine(l);
  switch (format) {
    case "pytorch": return { weight: Float32Array.from(l.gamma!) };
    case "onnx": return { scale: multiplier(l), attributes: { epsilon: l.eps } };
    case "keras": return [multiplier(l)];
    default: throw new Error(`unknown weight format ${quoted(format)} for RMSNorm: expected pytorch, onnx or keras`);
  }
}

/** Import the forms exportRms writes (pytorch with an optional key prefix). @throws before changing anything. */
export function importRms(l: RMSNorm, format: string, w: unknown, prefix = ""): RMSNorm {
  requireAffine(l);
  const C = l.channels;
  if (w === null || typeof w !== "object") throw new Error(`${format} weights must be an object or array, got ${w === null ? "null" : typeof w}`);
  let stored: ArrayLike<number>, offset = l.unitOffset ? -1 : 0;
  switch (format) {
    case "pytorch": {
      const d = w as Record<string, unknown>;
      const unknown = Object.keys(d).filter((k) => k.startsWith(prefix) && k.slice(prefix.length) !== "weight");
      if (unknown.length) throw new Error(`unexpected key(s) in state_dict: ${unknown.join(", ")}`);
      if (d[prefix + "weight"] === undefined) throw new Error(`missing key(s) in state_dict: ${prefix}weight`);
      stored = vec(prefix + "weight", d[prefix + "weight"], C);
      offset = 0;
      break;
    }
    case "onnx": stored = vec("scale", (w as { scale?: unknown }).scale, C); break;
    case "keras": {
      const a = w as unknown[];
      if (!Array.isArray(a) || a.length !== 1) throw new Error(`keras weights must be a list of 1 array [scale], got ${Array.isArray(a) ? a.length + " arrays" : typeof a}`);
      stored = vec("scale", a[0], C);
      break;
    }
    default: throw new Error(`unknown weight format ${quoted(format)} for RMSNorm: expected pytorch, onnx or keras`);
  }
  for (let c = 0; c < C; c++) l.gamma![c] = stored[c] + offset;
  return l;
}
