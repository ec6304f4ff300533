// Timing with benchmark.js, interleaved so ratios survive a shared, noisy machine.
//
// benchmark.js times one benchmark to completion before starting the next; on a machine whose
// load changes from second to second, the systems of one table would then be measured under
// different loads. So one (op, shape) is measured in several ROUNDS: each round is a
// Benchmark.Suite holding every system once (in a rotated order), each with a short maxTime;
// a system's samples from all rounds are pooled and the median taken. A benchmark.js sample is
// the mean time per call over one cycle (enough calls to last ≥ minTime).
//
// Synchronous systems run their cycles back to back (benchmark.js `async: false`): with
// `async: true` benchmark.js puts a setTimeout between cycles, ≥ 1 ms in Node, and on a shared
// VM the idle gap lets the vCPU be descheduled and its caches refilled by others — measured on
// 8×64×56×56, every system then timed 1.3–1.8× slower and far noisier (copy 0.27–0.42 ms vs
// 0.20 ms back to back), the more so the more state a call touches.
// Async systems (onnxruntime's session.run returns a promise) are deferred benchmarks
// (`defer: true`, deferred.resolve() when the promise settles): benchmark.js handles them, and
// the time includes the promise's settling, which is what a caller of that API waits for.
// Test functions are closures, so benchmark.js's source decompilation (which would inline the
// function body and lose its closure) is turned off.
import Benchmark from 'benchmark';

Benchmark.support.decompilation = false;

export const median = (a) => {
  if (!a.length) return NaN;
  const s = [...a].sort((p, q) => p - q), h = s.length >> 1;
  return s.length & 1 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** The q-quantile (0 ≤ q ≤ 1) of the samples a, without interpolation: the ⌊q·n⌋-th smallest (the largest for q = 1). */
export function quantile(a, q) { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; }

/** The lower quartile of the samples a: the timing benchmarks' robust figure on a shared machine. */
export const lowerQuartile = (a) => quantile(a, 0.25);

/**
 * One system in a measurement: `fn` runs the op once (may return a promise when async).
 * @typedef {{ name: string, fn: () => any, async?: boolean, rounds?: number, group?: string }} Entry
 */

/**
 * Measures entries in `rounds` interleaved benchmark.js suites.
 * @param {Entry[]} entries  entry.rounds caps how many rounds that entry joins (slow systems).
 * @param {{ rounds: number, maxTime: number, minTime: number, onRound?: (r: number, name: string) => void }} opts
 *   maxTime: seconds per benchmark per round (benchmark.js stops sampling after it; a call
 *   longer than that gives one sample). minTime: seconds per benchmark.js cycle.
 * @returns {Promise<Map<string, { samples: number[], ms: number, calls: number, rounds: number[], error?: string }>>}
 *   rounds: the median of each round the entry joined (index = round, for entries in every round).
 */
export async function interleaved(entries, { rounds, maxTime, minTime, onRound }) {
  const out = new Map(entries.map((e) => [e.name, { samples: [], ms: NaN, calls: 0, rounds: [] }]));
  const counts = new Map();
  for (let r = 0; r < rounds; r++) {
    const these = entries.filter((e) => (e.rounds ?? rounds) > r);
    if (!these.length) break;
    // Rotate the order each round, so no system always runs right after the same one; entries
    // sharing a `group` stay next to each other (the pairs a target compares, e.g. simdnorm
    // and the copy ceiling, then see the same load).
    const rot = (a) => { const k = r % a.length; return [...a.slice(k), ...a.slice(0, k)]; };
    const groups = [];
    for (const e of these) {
      const g = e.group && groups.find((x) => x.id === e.group);
      if (g) g.items.push(e); else groups.push({ id: e.group, items: [e] });
    }
    const order = rot(groups).flatMap((g) => rot(g.items));
    const suite = new Benchmark.Suite(`round ${r + 1}`);
    for (const e of order) {
      const rec = out.get(e.name);
      const opts = {
        maxTime, minTime, minSamples: 1, delay: 0, initCount: counts.get(e.name) ?? 1, async: false,
        onStart: () => onRound?.(r, e.name),
      };
      if (e.async) {
        suite.add(e.name, (d) => {
          Promise.resolve().then(e.fn).then(() => d.resolve(), (err) => { rec.error ??= String(err?.message ?? err); d.benchmark.abort(); d.resolve(); });
        }, { ...opts, defer: true });
      } else {
        suite.add(e.name, e.fn, opts);
      }
    }
    await new Promise((resolve) => {
      suite.on('cycle', (ev) => {
        const b = ev.target, rec = out.get(b.name);
        if (b.error) rec.error ??= String(b.error.message ?? b.error);
        if (!b.aborted && !b.error) {
          rec.samples.push(...b.stats.sample.map((s) => s * 1e3));
          rec.rounds.push(median(b.stats.sample) * 1e3); // this round's median, for per-round ratios
          rec.calls += b.stats.sample.length * b.count;
          counts.set(b.name, b.count);
        }
      });
      suite.on('complete', resolve);
      suite.run({}); // each benchmark's own `async` (false); deferred ones are async regardless
    });
  }
  for (const rec of out.values()) rec.ms = rec.error ? NaN : median(rec.samples);
  return out;
}
