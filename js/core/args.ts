// Resolving (x, shape, layout) for an op: a Tensor carries its own; a Float32Array needs both.
import { Tensor } from "./tensor";
import { geometry, fmtShape, type Geometry, type Layout } from "./layout";
import { describe, checkNotStale } from "./scope";

export interface ShapeOptions {
  /** Shape of x as stored (row-major). Optional when x is a Tensor. */
  shape?: number[];
  /** Where the channel axis is. Optional when x is a Tensor. */
  layout?: Layout;
}

export function resolveGeometry(x: unknown, o: ShapeOptions, name = "x"): Geometry {
  if (x instanceof Tensor) {
    if (x.freed) throw new Error(`${name} is a freed tensor: it can no longer be used`);
    if (o.shape === undefined && o.layout === undefined) return x.geo as Geometry;
    const shape = o.shape ?? x.shape, layout = o.layout ?? x.layout;
    const g = geometry(shape, layout, name);
    if (g.size !== x.length) throw new Error(`${name} holds ${x.length} values, the shape ${fmtShape(g.shape)} needs ${g.size}`);
    return g;
  }
  if (!(x instanceof Float32Array)) throw new Error(`${name} must be a Float32Array or a simdnorm Tensor, got ${describe(x)}`);
  checkNotStale(name, x);
  const g = geometry(o.shape, o.layout, name);
  if (x.length !== g.size) throw new Error(`${name} holds ${x.length} values, the shape ${fmtShape(g.shape)} needs ${g.size}`);
  return g;
}

/** A second big argument (dy, out) must have x's size. */
export function sameSize(name: string, v: unknown, g: Geometry): void {
  checkNotStale(name, v);
  if (v instanceof Tensor || v instanceof Float32Array) {
    if (v.length !== g.size) throw new Error(`${name} holds ${v.length} values, the shape ${fmtShape(g.shape)} needs ${g.size}`);
  }
}
