// Per-(sample, channel) parameters on the per-channel kernels: every (n, c) pair is a "channel".
// Channels-first (N, C, S) is then one (1, N·C, S) view; channels-last (N·S rows of C) is one
// (1, C, S) channels-last view per sample, at byte offsets into the tensor and the parameters.
import type { Geometry } from "../../core/layout";
import type { View3 } from "../dispatch";

/** The channels-first tensor as one (1, N·C, S) view. */
export const ncView = (g: Geometry): View3 => ({ N: 1, C: g.N * g.C, S: g.S, channelsLast: false });

/**
 * Calls fn once per view covering the tensor with N·C parameters: channels-first once with
 * ncView(g) at offset 0; channels-last once per sample n with its (1, C, S) view, the tensor's
 * byte offset 4·n·S·C and the parameters' byte offset 4·n·C.
 */
export function eachNC(g: Geometry, fn: (v: View3, o: number, p: number) => void): void {
  if (!g.channelsLast) { fn(ncView(g), 0, 0); return; }
  const { N, C, S } = g, v: View3 = { N: 1, C, S, channelsLast: true };
  for (let n = 0; n < N; n++) fn(v, 4 * n * S * C, 4 * n * C);
}
