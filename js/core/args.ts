// Resolving (x, shape, layout) for an op: a Tensor carries its own; a Float32Array needs both.
import { isTensor } from "./tensor";
import { geometry, fmtShape, type Geometry, type Layout } from "./layout";
import { bigLength } from "./scope";

export interface ShapeOptions {
  /** Shape of x as stored (row-major). Optional when x is a Tensor. */
  shape?: number[];
  /** Where the channel axis is. Optional when x is a Tensor. */
  layout?: Layout;
}

/** x's geometry: a Tensor's own (or shape/layout given for it), else from shape and layout. @internal */
export function resolveGeometry(x: unknown, o: { shape?: unknown; layout?: unknown }, name = "x"): Geometry {
  const t = isTensor(x);
  if (t && o.shape === undefined && o.layout === undefined) {
    if (x.freed) throw new Error(`${name} is a freed tensor: it can no longer be used`);
    return x.geo as Geometry;
  }
  const n = bigLength(name, x);
  const g = t ? geometry(o.shape ?? x.shape, o.layout ?? x.layout, name) : geometry(o.shape, o.layout, name);
  if (n !== g.size) throw new Error(`${name} holds ${n} values, the shape ${fmtShape(g.shape)} needs ${g.size}`);
  return g;
}

/** A second big argument (dy, out), when given, must have x's size. @internal */
export function sameSize(name: string, v: unknown, g: Geometry): void {
  if (v === undefined || v === null) return;
  const n = bigLength(name, v);
  if (n !== g.size) throw new Error(`${name} holds ${n} values, the shape ${fmtShape(g.shape)} needs ${g.size}`);
}

/** A call returns a new Tensor only when x is a Tensor and no `out` was given. @internal */
export function wantsTensor(x: unknown, out: unknown): boolean {
  return (out === undefined || out === null) && isTensor(x);
}
