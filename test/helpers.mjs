// Shared test helpers: shapes per layout, transposes, and assertions that say where they failed.
import { compare, geometry } from "./reference.mjs";

/** A shape of the given layout with N, C and spatial size S (spatial axes: 1 × … × S). */
export function shapeFor(layout, N, C, S) {
  switch (layout) {
    case "NC": return [N, C];
    case "NCL": return [N, C, S];
    case "NCHW": return [N, C, 1, S];
    case "NCDHW": return [N, C, 1, 1, S];
    case "NLC": return [N, S, C];
    case "NHWC": return [N, 1, S, C];
    case "NDHWC": return [N, 1, 1, S, C];
  }
  throw new Error(layout);
}

/** Channels-first (N, C, S) flat → channels-last (N, S, C) flat. */
export function toChannelsLast(x, N, C, S) {
  const y = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) y[(n * S + s) * C + c] = x[(n * C + c) * S + s];
  return y;
}

/** Assert |got − expected| ≤ atol + rtol·|expected| everywhere, naming the first failure's place. */
export function close(got, expected, atol, rtol, what, shape, layout) {
  const a = got && typeof got.toArray === "function" ? got.toArray() : got;
  const r = compare(a, expected, atol, rtol);
  if (!r) return;
  let where = `index ${r.index}`;
  if (shape && layout && !r.lengthMismatch) {
    const g = geometry(shape, layout);
    const c = expected.length === g.C ? r.index : g.cl ? r.index % g.C : Math.floor(r.index / g.S) % g.C;
    where += `, channel ${c}`;
  }
  throw new Error(`${what}: ${r.lengthMismatch ? `length ${r.got}, expected ${r.expected}` : `${where}: got ${r.got}, expected ${r.expected} (${r.count} values off, atol ${atol}, rtol ${rtol})`}${shape ? ` for ${layout} ${JSON.stringify(shape)}` : ""}`);
}

/** Assert fn throws an Error whose message contains every fragment. */
export function throwsWith(fn, ...fragments) {
  try { fn(); } catch (e) {
    for (const f of fragments) if (!String(e.message).includes(f)) throw new Error(`message "${e.message}" does not mention "${f}"`);
    return e;
  }
  throw new Error(`did not throw (expected: ${fragments.join(" … ")})`);
}
