// Activation epilogues of the per-channel normalize (batch norm inference and training,
// instance and group norm), kept apart from dispatch.ts/views.ts: they call in here at one
// place each. Forward: y = act((x − m)·scale + shift) in one pass
// (assembly/act_normalize.ts). Backward: g = dy·act'((x − m)·scale + shift), the pre-activation
// recomputed from x and the forward's parameters, written to a buffer the op's backward then
// reads as its dy (one extra pass; no tensor kept from the forward).
import type { Scope } from "../core/scope";
import type { Geometry } from "../core/layout";
import { rt } from "../core/runtime";
import { scratchBytes } from "../core/kernel-table";
import type { View3 } from "./dispatch";
import { eachNC } from "./family/nc-view";

/** Channels-first with a spatial axis runs the cf kernel; everything else is rows of C. */
const cfOf = (v: View3): boolean => !v.channelsLast && v.S > 1;

/** y = act((x − m)·scale + shift) per channel of the view; m, scale, shift: pointers to C f32. */
export function actNormalize(v: View3, x: number, y: number, pm: number, ps: number, pt: number, act: number): void {
  const k = rt().kernels;
  if (cfOf(v)) k.act_normalize_f32_cf(v.N, v.C, v.S, x, pm, ps, pt, y, act);
  else k.act_normalize_f32_cl(v.N * v.S, v.C, x, pm, ps, pt, y, act);
}

/** Scratch of the gradient kernels (one per call, reused across samples). */
const gradScratch = (s: Scope): number => s.temp(scratchBytes(rt().kernels, "act_normalize_grad_f32_cl", { C: 1 }));

/** g = dy·act'((x − m)·scale + shift) per channel of the view into g (may be dy or x). */
function actNormalizeGrad(v: View3, x: number, dy: number, g: number, pm: number, ps: number, pt: number, act: number, scratch: number): void {
  const k = rt().kernels;
  if (cfOf(v)) k.act_normalize_grad_f32_cf(v.N, v.C, v.S, x, dy, pm, ps, pt, g, act, scratch);
  else k.act_normalize_grad_f32_cl(v.N * v.S, v.C, x, dy, pm, ps, pt, g, act, scratch);
}

/** Per-(n, c) parameters (N·C each, pointers): channels-first as one (1, N·C, S) view, channels-last per sample. */
export function actNormalizeNC(g: Geometry, x: number, y: number, pm: number, ps: number, pt: number, act: number): void {
  eachNC(g, (v, o, p) => actNormalize(v, x + o, y + o, pm + p, ps + p, pt + p, act));
}

/** The gradient buffer: dx's memory, or a temporary when dx is x or dy (both still to be read). */
export function gradTarget(s: Scope, size: number, x: number, dy: number, dx: number): number {
  return dx !== x && dx !== dy ? dx : s.temp(4 * size);
}

/**
 * Batch norm's backward through its activation: g = dy·act'(BN(x)) from the saved mean/invstd
 * (or the running statistics) per channel, written to a buffer; returns its pointer. mu, w, gm,
 * bt: pointers to C f64 means, invstd, γ, β in wasm memory (γ, β: 0 when absent).
 */
export function bnActGrad(s: Scope, v: View3, x: number, dy: number, dx: number, mu: number, w: number, gm: number, bt: number, act: number): number {
  const C = v.C, pp = s.temp(12 * C);
  rt().kernels.bn_params_f32(C, mu, w, gm, bt, -1, pp, pp + 4 * C, pp + 8 * C, 0);
  const g = gradTarget(s, v.N * v.C * v.S, x, dy, dx);
  actNormalizeGrad(v, x, dy, g, pp, pp + 4 * C, pp + 8 * C, act, gradScratch(s));
  return g;
}

/**
 * Group / instance norm's backward through the activation: per-(n, c) m, scale, shift (N·C f32
 * each, pointers) → g = dy·act'(v) in a buffer; returns its pointer.
 */
export function groupActGrad(s: Scope, g: Geometry, x: number, dy: number, dx: number, pm: number, ps: number, pt: number, act: number): number {
  const buf = gradTarget(s, g.size, x, dy, dx), scratch = gradScratch(s);
  eachNC(g, (v, o, p) => actNormalizeGrad(v, x + o, dy + o, buf + o, pm + p, ps + p, pt + p, act, scratch));
  return buf;
}
