// Layouts and geometry. Every tensor is seen as channels-first (N, C, S) or channels-last
// (N·S rows, C), S = product of the spatial axes: one kernel shape per layout, not per rank.
import { fmt, ownEntry } from "./errors";
import { typedKind, typedLength } from "./typed";

/** Layout names users pass. The batch axis is always axis 0. */
export type Layout = "NC" | "NCL" | "NCHW" | "NCDHW" | "NLC" | "NHWC" | "NDHWC";

export const LAYOUTS: Record<Layout, { rank: number; channelsLast: boolean }> = {
  NC: { rank: 2, channelsLast: false },
  NCL: { rank: 3, channelsLast: false },
  NCHW: { rank: 4, channelsLast: false },
  NCDHW: { rank: 5, channelsLast: false },
  NLC: { rank: 3, channelsLast: true },
  NHWC: { rank: 4, channelsLast: true },
  NDHWC: { rank: 5, channelsLast: true },
};

export interface Geometry {
  shape: number[];
  layout: Layout;
  /** Batch size (axis 0). */
  N: number;
  /** Channels. */
  C: number;
  /** Product of the spatial axes (1 for NC). */
  S: number;
  /** Total values. */
  size: number;
  channelsLast: boolean;
}

/** A shape for messages: [2,3,4,4]. @internal */
export function fmtShape(shape: ArrayLike<number>): string {
  return `[${Array.from(shape, (v) => (typeof v === "number" ? String(v) : fmt(v))).join(",")}]`;
}

/** The layout's entry, looked up as an own property only ("toString" is no layout). @internal */
export function layoutInfo(layout: unknown, what = "x"): { rank: number; channelsLast: boolean } {
  if (layout === undefined) throw new Error(`${what}: a layout is required (one of ${Object.keys(LAYOUTS).join(", ")})`);
  const L = ownEntry(LAYOUTS as Record<string, { rank: number; channelsLast: boolean }>, layout);
  if (!L) throw new Error(`unknown layout ${typeof layout === "string" ? `"${layout}"` : fmt(layout)}: expected one of ${Object.keys(LAYOUTS).join(", ")}`);
  return L;
}

/** The shape's axes, read once: an Array or typed array of numbers (a string is refused). */
function shapeAxes(shape: unknown, layout: string, rank: number, what: string): number[] {
  if (shape === undefined || shape === null) throw new Error(`${what}: a shape is required for layout ${layout}`);
  if (!Array.isArray(shape) && !typedKind(shape)) throw new Error(`${what}: shape must be an array of positive integers, got ${fmt(shape)}`);
  const n = Array.isArray(shape) ? shape.length : typedLength(shape as ArrayBufferView);
  // The rank first: a shape of a billion holes is refused before any of it is read.
  if (n !== rank) throw new Error(`layout ${layout} needs a ${rank}-D shape, got ${n <= 8 ? fmtShape(Array.from(shape as ArrayLike<number>)) : `${n} axes`}`);
  const s = new Array<number>(n);
  for (let i = 0; i < n; i++) s[i] = (shape as ArrayLike<number>)[i];
  return s;
}

/** The geometry of a shape and layout already validated by `geometry` (op results): not checked again. @internal */
export function knownGeometry(shape: number[], layout: Layout): Geometry {
  const L = LAYOUTS[layout], s = shape.slice(), N = s[0], C = L.channelsLast ? s[s.length - 1] : s[1];
  let size = 1;
  for (let i = 0; i < s.length; i++) size *= s[i];
  return { shape: s, layout, N, C, S: size / (N * C), size, channelsLast: L.channelsLast };
}

/** Validate a shape against a layout; throws an Error naming the problem. @internal */
export function geometry(shape: unknown, layout: unknown, what = "x"): Geometry {
  const L = layoutInfo(layout, what);
  const s = shapeAxes(shape, layout as string, L.rank, what);
  for (let i = 0; i < s.length; i++) {
    if (typeof s[i] !== "number" || !Number.isInteger(s[i]) || s[i] < 1) throw new Error(`shape ${fmtShape(s)}: axis ${i} must be a positive integer, got ${fmt(s[i])}`);
  }
  const N = s[0];
  const C = L.channelsLast ? s[s.length - 1] : s[1];
  const size = s.reduce((a, b) => a * b, 1);
  if (size > 0x3fffffff) throw new Error(`shape ${fmtShape(s)} holds ${size} values: more than wasm32 memory can address`);
  return { shape: s, layout: layout as Layout, N, C, S: size / (N * C), size, channelsLast: L.channelsLast };
}
