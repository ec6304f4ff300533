// Helpers for the tests that call bn_stats_f32_cf and bn_stats_f32_cl on the raw wasm: the kernel with a scratch
// canary, and triples compared against float64.
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { exactTriples, randomArray } from "./reference.mjs";

/** The release wasm on a memory of its own (the raw kernels, no JS layer). */
export const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL("../build/simdnorm.wasm", import.meta.url))),
  { env: { abort() { throw new Error("abort"); } } }).exports;

/**
 * bn_stats_f32_cf on (N, C, S) x merged into `prior` (C triples): the merged triples. The
 * `scratch` bytes start as garbage (the kernel sets what it uses); the 64 bytes after them must
 * stay as they were.
 */
export const cfStats = (N, C, S, x, prior, scratch) => rawStats((p, acc, at) => wasm.bn_stats_f32_cf(N, C, S, p, acc, at), `(${N}, ${C}, ${S})`, C, x, prior, scratch);

/** bn_stats_f32_cl on (R, C) channels-last x merged into `prior`, as cfStats. */
export const clStats = (R, C, x, prior, scratch) => rawStats((p, acc, at) => wasm.bn_stats_f32_cl(R, C, p, acc, at), `(${R}, ${C})`, C, x, prior, scratch);

function rawStats(call, what, C, x, prior, scratch) {
  const base = (wasm.heap_base() + 63) & ~63, acc = base + ((4 * x.length + 63) & ~63), at = acc + ((24 * C + 63) & ~63);
  const top = at + scratch + 64;
  if (top > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((top - wasm.memory.buffer.byteLength) / 65536));
  new Float32Array(wasm.memory.buffer, base, x.length).set(x);
  new Float64Array(wasm.memory.buffer, acc, 3 * C).set(prior);
  new Float32Array(wasm.memory.buffer, at, (scratch + 64) >> 2).fill(-7.5);
  call(base, acc, at);
  const canary = new Float32Array(wasm.memory.buffer, at + scratch, 16);
  assert.ok(canary.every((v) => v === -7.5), `${what}: the kernel wrote past its ${scratch} bytes of scratch`);
  return new Float64Array(wasm.memory.buffer, acc, 3 * C).slice();
}

/** Counts exact, means within 1e-6 of a standard deviation, M2 within 1e-5 relative; NaN matches NaN; channels in `skip` not compared. */
export function agreeTriples(got, want, what, skip = []) {
  for (let c = 0; c < want.length / 3; c++) {
    if (skip.includes(c)) continue;
    const [n, m, m2] = want.subarray(3 * c, 3 * c + 3), [gn, gm, gm2] = got.subarray(3 * c, 3 * c + 3);
    const at = `${what}, channel ${c}: got (${gn}, ${gm}, ${gm2}), want (${n}, ${m}, ${m2})`;
    if (Number.isNaN(m2)) { assert.ok(Number.isNaN(gm2), at); continue; }
    assert.is(gn, n, at);
    assert.ok(Math.abs(gm - m) <= 1e-6 * Math.sqrt(m2 / n) + 1e-12 * Math.abs(m) + 1e-300, `${at} (mean)`);
    assert.ok(Math.abs(gm2 - m2) <= 1e-5 * m2, `${at} (M2)`);
  }
}

/**
 * `kernel(N, C, S, x, prior)` on x alone (fresh triples) and merged onto the triples of a prior
 * 2-sample chunk `first`, each against float64.
 */
export function agreeFreshAndOnPrior(kernel, N, C, S, x, first, what) {
  agreeTriples(kernel(N, C, S, x, new Float64Array(3 * C)), exactTriples([{ x, N }], C, S), what);
  const prior = exactTriples([{ x: first, N: 2 }], C, S);
  agreeTriples(kernel(N, C, S, x, prior), exactTriples([{ x: first, N: 2 }, { x, N }], C, S), `${what} onto a prior chunk`);
}

/** Rows of C in one block of bn_stats_f32_cl: max(4096 / L, 256) super-rows of L / C rows (L = pattern_len(C)). */
export const clBlockRows = (C) => { const L = wasm.pattern_len(C); return Math.max(Math.floor(4096 / L), 256) * (L / C); };

/**
 * R rows of C channels-last (randomArray around `offset`): channel c mod 4 = 1 at + 1e4, c mod 4
 * = 2 at + 1e4 drifting by half a standard deviation a block (a block fails the check around the
 * shift every ~4 blocks, after others passed), channel 0 constant 3, the last channel 0.
 */
export function clData(R, C, seed, offset = 0) {
  const v = 0.5 / clBlockRows(C);
  const x = randomArray(R * C, seed, { offset });
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
    const i = r * C + c;
    if (c === 0) x[i] = 3;
    else if (c === C - 1) x[i] = 0;
    else if (c % 4 === 1) x[i] += 1e4;
    else if (c % 4 === 2) x[i] += 1e4 + v * r;
  }
  return x;
}
