// Per-channel statistics of byte images, exact: the kernel (assembly/px_stats.ts) adds integer
// Σbyte and Σbyte² per colour channel into u64 sums; the (count, mean, M2) triple is formed once
// per call from them with M2 = (n·Σx² − (Σx)²)/n, its numerator computed exactly in BigInt. So
// no float rounding happens before the final division: the statistics of any number of images
// do not depend on their order, their chunking or their offset.
import { withScope } from "../core/scope";
import { rt } from "../core/runtime";
import { pixelGeometry, feedRuns, runBytes, type Pixels, type PixelShape } from "./pixels-input";
import { optionsOf } from "./options";

/**
 * Partial statistics of byte images in byte units (0…255): a Float64Array of 3 triples
 * (count, mean, M2), one per colour channel (alpha is not counted). Merge them like any other
 * partials (mergePartials, StatsAccumulator).
 * @throws on the same bad input as fromPixels (byte length, channels, width, height).
 */
export function pixelPartials(pixels: Pixels, opts: PixelShape = {}): Float64Array {
  const g = pixelGeometry(pixels, optionsOf(opts, "pixelShape") as PixelShape);
  const sums = withScope((s) => {
    s.commit(runBytes(g) + 64);
    const buf = s.temp(runBytes(g)), acc = s.temp(48);
    new BigUint64Array(s.heap.buffer, acc, 6).fill(0n);
    const k = rt().kernels;
    feedRuns(s, g, buf, (ptr, _first, count) => k.px_stats_u8(count, g.C, ptr, acc));
    return new BigUint64Array(s.heap.buffer, acc, 6).slice();
  });
  const n = g.N * g.H * g.W, bn = BigInt(n);
  const p = new Float64Array(9);
  for (let c = 0; c < 3; c++) {
    const sx = sums[c], sxx = sums[3 + c];
    p[3 * c] = n;
    p[3 * c + 1] = Number(sx) / n;
    p[3 * c + 2] = Number(bn * sxx - sx * sx) / n;
  }
  return p;
}
