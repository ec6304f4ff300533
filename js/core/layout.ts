// Layouts and geometry. Every tensor is seen as channels-first (N, C, S) or channels-last
// (N·S rows, C), S = product of the spatial axes: one kernel shape per layout, not per rank.

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

export function fmtShape(shape: ArrayLike<number>): string {
  return `[${Array.from(shape).join(",")}]`;
}

/** Validate a shape against a layout; throws an Error naming the problem. */
export function geometry(shape: ArrayLike<number> | undefined, layout: string | undefined, what = "x"): Geometry {
  if (layout === undefined) throw new Error(`${what}: a layout is required (one of ${Object.keys(LAYOUTS).join(", ")})`);
  const L = (LAYOUTS as Record<string, { rank: number; channelsLast: boolean }>)[layout];
  if (!L) throw new Error(`unknown layout "${layout}": expected one of ${Object.keys(LAYOUTS).join(", ")}`);
  if (!shape || typeof shape.length !== "number") throw new Error(`${what}: a shape is required for layout ${layout}`);
  const s = Array.from(shape);
  if (s.length !== L.rank) throw new Error(`layout ${layout} needs a ${L.rank}-D shape, got ${fmtShape(s)}`);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isInteger(s[i]) || s[i] < 1) throw new Error(`shape ${fmtShape(s)}: axis ${i} must be a positive integer, got ${s[i]}`);
  }
  const N = s[0];
  const C = L.channelsLast ? s[s.length - 1] : s[1];
  const size = s.reduce((a, b) => a * b, 1);
  if (size > 0x3fffffff) throw new Error(`shape ${fmtShape(s)} holds ${size} values: more than wasm32 memory can address`);
  return { shape: s, layout: layout as Layout, N, C, S: size / (N * C), size, channelsLast: L.channelsLast };
}
