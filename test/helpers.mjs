// Shared test helpers: the layouts and SIMD-edge sizes every sweep uses, shapes per layout,
// transposes, and assertions (uvu/assert) that say where they failed.
import * as assert from "uvu/assert";
import { compare, geometry } from "./reference.mjs";

/** Every layout the library accepts. */
export const LAYOUTS = ["NC", "NCL", "NCHW", "NCDHW", "NLC", "NHWC", "NDHWC"];
/** Sizes around every SIMD tail (4 lanes, 16-value patterns, 64-value blocks). */
export const EDGE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65];

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
  assert.unreachable(`${what}: ${r.lengthMismatch ? `length ${r.got}, expected ${r.expected}` : `${where}: got ${r.got}, expected ${r.expected} (${r.count} values off, atol ${atol}, rtol ${rtol})`}${shape ? ` for ${layout} ${JSON.stringify(shape)}` : ""}`);
}

/**
 * The one throw/reject assertion: fn throws (or its promise rejects) an Error whose message
 * contains every fragment. Returns the error (a promise of it for an async fn).
 */
export function throwsWith(fn, ...fragments) {
  const check = (e) => {
    assert.ok(e instanceof Error, `threw ${String(e)}, not an Error`);
    for (const f of fragments) assert.ok(String(e.message).includes(f), `message "${e.message}" does not mention "${f}"`);
    return e;
  };
  const none = () => assert.unreachable(`did not throw (expected: ${fragments.join(" … ")})`);
  let r;
  try { r = fn(); } catch (e) { return check(e); }
  if (r && typeof r.then === "function") return r.then(none, check);
  none();
}

/**
 * throwsWith on fn(args), args = make() (named arrays), then: no array in args changed (nothing
 * the caller gave is written when a call throws).
 */
export function throwsUntouched(make, fn, ...fragments) {
  const a = make();
  const before = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));
  throwsWith(() => fn(a), ...fragments);
  for (const k of Object.keys(a)) {
    assert.ok(a[k].length === before[k].length && a[k].every((v, i) => Object.is(v, before[k][i])), `${k} was modified by a call that threw`);
  }
}
