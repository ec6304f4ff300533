// Shared helpers for the kernels: channels-last lane patterns, Chan's merge, multi-value "returns".
//
// Channels-last rows of C values are processed as one flat stream whose lane pattern repeats
// every L values, so the kernels can run 4 independent vectors per step down "super-rows" of L
// values. For narrow C, L is a multiple of C and of 16 (lcm(C, 4), doubled until 16 divides it)
// and every SIMD lane always meets "its" channel: C = 3 images stay vectorized (L = 48). That
// pattern is kept only while it is ≤ MAX_PATTERN values; wider C (where lcm(C, 16) would be up
// to 16·C: 1.6 M values for C = 99999) take L = C, one row per super-row, and the kernels run
// the last L mod 16 (or mod 8) columns of every row in scalar. So L ≤ max(C, MAX_PATTERN): the
// scratch of every channels-last kernel is O(C).

/** Longest lane pattern of L = lcm-style super-rows (values): its f32 patterns stay in L1. */
export const MAX_PATTERN: i32 = 1024;

/**
 * Values of one channel summed in f32 lanes before the sums go to f64 (16 KB: stays in L1, and
 * an f32 sum of ≤ 4096 values loses < 2⁻¹² relative). One definition for every kernel file.
 */
export const BLOCK: i32 = 4096;

/** Rows whose f32 column sums are added before they go to f64 (64 rows of ≤ BLOCK-value sums). */
export const FLUSH_ROWS: i32 = 64;

/**
 * Super-rows per column sweep of an L-long pattern (statistics: 16 lanes, 8 accumulators): 8 for
 * 32–64-value and ≥ 256-value patterns, else ~8 KB of rows (the sweeps after the first then hit
 * L1). Wide rows swept 16 at a time are 16 strided streams, which the prefetchers serve worse:
 * 8 rows win at 1024 values (docs/performance.md has the measurements).
 */
@inline export function sweep_rows(L: i32): i32 {
  return (L >= 32 && L <= 64) || L >= 256 ? 8 : max(2048 / L, 16);
}

/**
 * Super-rows per column sweep of the backward sums (8 lanes, 4 accumulators): 4 from 96-value
 * patterns up (faster than 16-row sweeps from 96 values: docs/performance.md).
 */
@inline export function reduce_rows(L: i32): i32 {
  return L >= 96 ? 4 : sweep_rows(L);
}

let sink: i32 = 0;

/**
 * Tensors up to this many values (4 MiB) are treated as cache-resident by the channels-last
 * kernels: their wide-row variants (two rows per parameter load; sweeps without touch_lines)
 * win there and lose past the caches, where one long sequential stream matters most. The
 * crossover lies between 1 and 2 Mi values (docs/performance.md).
 */
export const CACHED_VALUES: i32 = 1 << 20;

/**
 * Values past which wide rows (patterns of ≥ 96 values) leave their cache-resident loops: 1.5 Mi
 * (normalize's two-row loops, the sums' and the statistics' plain sweeps still won at 1.2 Mi;
 * docs/performance.md).
 */
export const WIDE_CACHED: i32 = CACHED_VALUES + (CACHED_VALUES >> 1);

/** Values past which a tensor is read from memory (16 MiB): the switches of narrow rows and of the memory-order loops. */
export const FAR_VALUES: i32 = CACHED_VALUES << 2;

/**
 * Values past which a channels-last backward's x, dy and dx (12 bytes a value) no longer fit the
 * caches (8 MiB of x): 48–95-value patterns take their memory-order loops there
 * (docs/performance.md, "Channels-last backward sums between 2 and 4 Mi values").
 */
export const BACKWARD_FAR: i32 = CACHED_VALUES << 1;

/** True when R rows of C values hold more than `limit` values (CACHED_VALUES, WIDE_CACHED, BACKWARD_FAR, FAR_VALUES). */
@inline export function past(R: i32, C: i32, limit: i32): bool {
  return <u64>R * <u64>C > <u64>limit;
}

/**
 * Read one word per 64-byte line of [p, p + bytes) in memory order, before a column sweep of
 * channels-last rows reads them: rows of wide C are streams too short for the hardware
 * prefetchers (the sweep visits a few rows at a time); past the caches the touch makes one long
 * sequential stream and the sweeps then hit the cache (on cache-resident data it does not pay,
 * so it is only used past CACHED_VALUES; figures in docs/performance.md). wasm has
 * no prefetch instruction; the sum goes to a global so the loads stay.
 */
export function touch_lines(p: usize, bytes: usize): void {
  let t: i32 = 0;
  for (let o: usize = 0; o < bytes; o += 64) t += load<i32>(p + o);
  sink += t;
}

/**
 * Pattern length: a multiple of C and of 16 when that is ≤ MAX_PATTERN values, else C (rows
 * then end in L mod 16 scalar columns). Never more than max(C, MAX_PATTERN).
 */
export function pattern_len(C: i32): i32 {
  if (C > MAX_PATTERN) return C;
  let a = C, b = 4;
  while (b != 0) { const t = a % b; a = b; b = t; }
  let L = (C / a) * 4;
  while (L & 15) L <<= 1;
  return L <= MAX_PATTERN ? L : C;
}

/**
 * True when the shift m is +0 (bits 0), what JS passes for data near zero: x − m is then x itself
 * for every x, so the kernels' loops without the subtraction give the same bits (for m = −0,
 * −0 − (−0) would be +0).
 */
@inline export function zero_shift(m: f32): bool {
  return reinterpret<u32>(m) == 0;
}

/**
 * True when the C f32 shifts at p are all +0 (zero_shift). Four at a time (a call per kernel
 * scans every row's shift of instance norm's (1, N·C, S) view: N·C of them), the rest one by one.
 */
export function zero_f32(p: usize, C: i32): bool {
  let i = 0;
  for (; i + 4 <= C; i += 4) if (v128.any_true(v128.load(p + (<usize>i << 2)))) return false;
  for (; i < C; i++) if (load<u32>(p + (<usize>i << 2)) != 0) return false;
  return true;
}

/** Expand a per-channel f32 array (length C) into an L-long pattern (L/C copies; no division per lane: C can be 10⁵). */
export function expand_pattern(C: i32, L: i32, src: usize, dst: usize): void {
  const bytes = <usize>C << 2;
  for (let j = 0; j < L; j += C) memory.copy(dst + (<usize>j << 2), src, bytes);
}

/**
 * Lane pattern of K interleaved per-channel vectors (interleave_all): the 4-lane group g (lanes
 * 4g … 4g + 3, lane j meets channel j mod C) holds K vectors at pp + 16·K·g; this call writes
 * vector k of every group from src (C f32). One stream, one address for all K parameters of a chunk. Lanes past L
 * in the last group are left as they are (no kernel reads them). Needs 4·K·⌈L⌉₄ bytes at pp.
 */
function interleave(C: i32, L: i32, src: usize, pp: usize, k: i32, K: i32): void {
  const g = <usize>K << 4, base = pp + (<usize>k << 4);
  let c = 0;
  for (let j = 0; j < L; j++) {
    store<f32>(base + <usize>(j >> 2) * g + (<usize>(j & 3) << 2), load<f32>(src + (<usize>c << 2)));
    if (++c == C) c = 0;
  }
}

/**
 * interleave of the per-channel vectors p0, p1, p2 (and p3 when K = 4) into one pattern at pp.
 * When 4 divides C, or the pattern is one row (L = C, lane j is channel j), every whole 4-lane
 * group holds four consecutive channels: one vector per parameter and group (a scalar store per
 * lane cost ~1.7 ns, 4 µs a call at C = 768: docs/performance.md), then the last L mod 4 lanes.
 */
export function interleave_all(C: i32, L: i32, pp: usize, K: i32, p0: usize, p1: usize, p2: usize, p3: usize): void {
  if ((C & 3) == 0 || L == C) {
    const g = <usize>K << 4, end = pp + (<usize>L >> 2) * g, wrap = <usize>C << 2;
    let o: usize = 0;
    for (let q = pp; q < end; q += g) {
      v128.store(q, v128.load(p0 + o));
      v128.store(q, v128.load(p1 + o), 16);
      v128.store(q, v128.load(p2 + o), 32);
      if (K == 4) v128.store(q, v128.load(p3 + o), 48);
      o += 16;
      if (o == wrap) o = 0;
    }
    for (let j = L & ~3; j < L; j++) {
      const q = pp + <usize>(j >> 2) * g + (<usize>(j & 3) << 2), c = <usize>j << 2;
      store<f32>(q, load<f32>(p0 + c));
      store<f32>(q, load<f32>(p1 + c), 16);
      store<f32>(q, load<f32>(p2 + c), 32);
      if (K == 4) store<f32>(q, load<f32>(p3 + c), 48);
    }
    return;
  }
  interleave(C, L, p0, pp, 0, K);
  interleave(C, L, p1, pp, 1, K);
  interleave(C, L, p2, pp, 2, K);
  if (K == 4) interleave(C, L, p3, pp, 3, K);
}

/** Fold an L-long f32 pattern of partial sums into one f64 per channel (sum over repeats). */
@inline export function fold_lane(C: i32, L: i32, pat: usize, c: i32): f64 {
  let s: f64 = 0;
  for (let j = c; j < L; j += C) s += <f64>load<f32>(pat + (<usize>j << 2));
  return s;
}

/**
 * fold_lane of channels c and c + 1 at once: Σ over the repeats in an f32 pattern of L lanes
 * (lane j meets channel j mod stride) in the f64x2 lanes, in fold_lane's order.
 */
@inline export function fold_pair(stride: i32, L: i32, pat: usize, c: i32): v128 {
  let s = f64x2.splat(0);
  for (let j = c; j < L; j += stride) s = f64x2.add(s, f64x2.promote_low_f32x4(v128.load64_zero(pat + (<usize>j << 2))));
  return s;
}

/**
 * Chan's merge of a block (n_b, mean_b, M2_b) into the triple at acc, in f64.
 * n = nA + nB; δ = μB − μA; μ = μA + δ·nB/n; M2 = M2A + M2B + δ²·nA·nB/n.
 */
@inline export function chan_merge(acc: usize, n_b: f64, mean_b: f64, m2_b: f64): void {
  if (n_b == 0) return;
  const n_a = load<f64>(acc);
  const mean_a = load<f64>(acc, 8);
  const n = n_a + n_b;
  const d = mean_b - mean_a;
  const r = n_b / n; // one division: this runs once per block
  store<f64>(acc, n);
  store<f64>(acc, mean_a + d * r, 8);
  store<f64>(acc, load<f64>(acc, 16) + m2_b + d * d * (n_a * r), 16);
}

/** Block statistics from shifted sums: the block was centred on `shift`. */
@inline export function block_merge(acc: usize, cnt: f64, shift: f64, s1: f64, s2: f64): void {
  const mean = s1 / cnt;
  let m2 = s2 - s1 * mean;
  // Cauchy–Schwarz makes m2 ≥ 0; rounding can undershoot by an ulp. Keep NaN as NaN.
  if (m2 < 0) m2 = 0;
  chan_merge(acc, cnt, shift + mean, m2);
}

// Multi-value returns go through globals (exports cannot return tuples or v128).
export let ret0: f64 = 0;
export let ret1: f64 = 0;

@inline export function hsum(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) +
         <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}
