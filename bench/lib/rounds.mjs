// Same-process A/B timing of a few systems (simdnorm builds, onnxruntime): each round times every
// system back to back, the order rotating each round (whichever system runs right after
// onnxruntime was measured up to 1.6× slower here, its threads still busy), and ratios are
// medians over rounds of that round's pair — the figure that survives the load of a shared VM.
import { median } from "./timing.mjs";

/** ms per call of fn over reps calls (awaiting promises). */
export async function perCall(fn, reps) {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) { const p = fn(); if (p && p.then) await p; }
  return (performance.now() - t0) / reps;
}

/**
 * ms per call of each system in each of `rounds` rotating rounds (t[i][r]); each system's calls
 * per sample are doubled until a sample lasts ≥ 2 ms.
 */
export async function rotatingRounds(sys, rounds) {
  const reps = [];
  for (const fn of sys) { let r = 1; await perCall(fn, 3); while (r < 4096 && (await perCall(fn, r)) * r < 2) r *= 2; reps.push(r); }
  const t = sys.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < sys.length; j++) { const i = (j + r) % sys.length; t[i].push(await perCall(sys[i], reps[i])); }
  }
  return t;
}

/** Median over rounds of t[i][r] / t[j][r]: how many times faster system j ran than system i. */
export const pairRatio = (t, i, j) => median(t[i].map((v, r) => v / t[j][r]));
