// The per-channel work of the channels-last statistics (bn_stats_f32_cl) two channels to an f64x2:
// the shifts from the running triples, the fold of a block's f32 lane sums into f64, its
// cancellation check, and the Chan merge of the pending sums. As scalar loops (a call, two
// divisions and a dozen dependent loads and compares a channel) they cost ~13 ns a channel, which
// at C = 768 outweighed the sweep over a 64 Ki-value tensor (docs/performance.md). Every
// operation is the scalar code's, in its order, lane by lane (f64x2.div is the IEEE division), so
// the results are the same bits. The lanes_* functions take an even channel count; set_shifts,
// flush_pending and bn_stats_f32_cl run the channels left (paired) through the scalar code.
//
// Triples (count, mean, M2) are 24 bytes apart: channels c and c + 1 span three v128 at acc + 24c,
// (n₀, m₀) (M₀, n₁) (m₁, M₁), unpacked to (n₀, n₁) (m₀, m₁) (M₀, M₁) by shuffles and packed back.
import { TINY, SHIFT_FLOOR, shift_of, merge_block, sums_ok } from "./bn_stats";
import { fold_pair, fold_lane } from "./common";

/** Per-channel shifts into kp[0…C) (f32; C even): the running mean where the data so far sits far from zero (mean²·n > M2), else 0 (shift_of). */
export function lanes_shifts(C: i32, acc: usize, kp: usize): void {
  const zero = f64x2.splat(0);
  for (let c = 0; c < C; c += 2) {
    const t = acc + <usize>c * 24, A = v128.load(t), B = v128.load(t, 16), D = v128.load(t, 32);
    const n = v128.shuffle<f64>(A, B, 0, 3), m = v128.shuffle<f64>(A, D, 1, 2), M = v128.shuffle<f64>(B, D, 0, 3);
    const far = v128.and(f64x2.gt(n, zero), f64x2.gt(f64x2.mul(f64x2.mul(m, m), n), M));
    v128.store64_lane(kp + (<usize>c << 2), f32x4.demote_f64x2_zero(v128.and(m, far)), 0);
  }
}

/** sums_ok of two channels in f64x2 lanes (w = 0.75·count): all-ones lanes where it holds. */
@inline function pair_ok(s1: v128, s2: v128, w: v128, inf: v128, tiny: v128, zero: v128): v128 {
  const ok = v128.and(f64x2.le(f64x2.mul(s1, s1), f64x2.mul(w, s2)), f64x2.ne(s2, inf));
  return v128.and(ok, v128.or(f64x2.ge(s2, tiny), f64x2.eq(s2, zero)));
}

/**
 * True when the block sums of channels 0 … C − 1 (C even; patterns sp, qp of L lanes, channel
 * j mod stride: Σ(x − k), Σ(x − k)² of cnt values each) pass bn_stats' sums_ok: (Σd)² ≤ ¾·cnt·Σd²,
 * Σd² finite and not underflowed (≥ 2⁻¹⁰⁰, or 0: then zero_lanes_ok decides).
 */
export function lanes_ok(C: i32, stride: i32, L: i32, sp: usize, qp: usize, cnt: f64): bool {
  const w = f64x2.splat(0.75 * cnt), inf = f64x2.splat(Infinity), tiny = f64x2.splat(TINY), zero = f64x2.splat(0);
  let good = i64x2.splat(-1);
  for (let c = 0; c < C; c += 2) {
    const s1 = fold_pair(stride, L, sp, c), s2 = fold_pair(stride, L, qp, c);
    good = v128.and(good, pair_ok(s1, s2, w, inf, tiny, zero));
  }
  return i64x2.all_true(good);
}

/**
 * False when a lane of the block (nb super-rows of L ≥ 4 values at p; Σd² of each lane at qp,
 * shifts at kp) summed Σd² = 0 (which passes the checks) over values that may not all equal its
 * shift: data within 2⁻⁷⁵ of it (e.g. ±1e-30), whose squares underflowed f32 and whose sums
 * cancelled, would get M2 = 0. Once a block, four lanes at a time; the last L mod 4 lanes in
 * the vector ending at lane L (lanes seen twice: harmless). The block goes in chunks of ≤ 16 KiB
 * of rows, every group of lanes from the first with a zero Σd² down a chunk while it is in L1 (a
 * block is up to 1 MiB: docs/performance.md, dead channels).
 */
export function zero_lanes_ok(p: usize, nb: i32, L: i32, kp: usize, qp: usize): bool {
  const stride = <usize>L << 2, rows = max(1, 16384 / <i32>stride);
  let z: usize = 0;
  while (z < stride && i32x4.all_true(v128.load(qp + min(z, stride - 16)))) z += 16; // ordinary data: no lane has Σd² = 0
  if (z >= stride) return true;
  for (let r0 = 0; r0 < nb; r0 += rows, p += <usize>rows * stride) {
    for (let o = z; o < stride; o += 16) { // the groups before z have no lane with Σd² = 0
      const g = min(o, stride - 16);
      if (!zero_group_ok(p + g, min(rows, nb - r0), stride, kp + g, qp + g)) return false;
    }
  }
  return true;
}

/**
 * zero_lanes_ok for the four lanes at p (kp, qp: their shifts and Σd²): a sum of squares is never
 * −0, so all lanes' bits ≠ 0 settles it (ordinary data). Else a lane with Σd² = 0 and a shift
 * under SHIFT_FLOOR (from there up any other value's square survives f32) must hold its shift down the
 * column, up to the sign (±0 of a dead ReLU channel; −k ≠ k cannot cancel alone: Σd would not be 0
 * — x = −k gives d = −2k, which only an x that differs from k in more than the sign can cancel):
 * one OR of the column's vectors XOR the shifts, no compare a value.
 */
function zero_group_ok(p: usize, nb: i32, stride: usize, kp: usize, qp: usize): bool {
  const q = v128.load(qp);
  if (i32x4.all_true(q)) return true;
  let t = i32x4.splat(0);
  const k = v128.load(kp), m = v128.and(i32x4.eq(q, t), f32x4.lt(f32x4.abs(k), f32x4.splat(SHIFT_FLOOR)));
  for (let i = 0; i < nb; i++, p += stride) t = v128.or(t, v128.xor(v128.load(p), k));
  return !v128.any_true(i32x4.shl(v128.and(t, m), 1)); // the sign bit shifted out
}

/**
 * lanes_ok and the add of the block's folded sums to the pending f64 sums in one pass (each
 * pattern folded once): channels 0 … C − 1 (C even) checked as lanes_ok checks them, t + block
 * written to u (pending Σd at t, Σd² at t + 8·C; u likewise; t is left as it was, for the caller
 * to keep when the block fails). True when every channel passes.
 */
export function lanes_ok_add(C: i32, stride: i32, L: i32, sp: usize, qp: usize, cnt: f64, t: usize, u: usize): bool {
  const w = f64x2.splat(0.75 * cnt), inf = f64x2.splat(Infinity), tiny = f64x2.splat(TINY), zero = f64x2.splat(0);
  const half = <usize>stride << 3;
  let good = i64x2.splat(-1);
  for (let c = 0; c < C; c += 2) {
    const s1 = fold_pair(stride, L, sp, c), s2 = fold_pair(stride, L, qp, c), o = <usize>c << 3;
    good = v128.and(good, pair_ok(s1, s2, w, inf, tiny, zero));
    v128.store(u + o, f64x2.add(v128.load(t + o), s1));
    v128.store(u + half + o, f64x2.add(v128.load(t + half + o), s2));
  }
  return i64x2.all_true(good);
}

/**
 * Chan-merge the sums of channels 0 … C − 1 (C even; cnt > 0 values each around the shifts kp)
 * into the triples at acc: block_merge then chan_merge, lane by lane. The sums: f64 Σd at t1,
 * Σd² at t2 (L = 0), or folded from f32 patterns t1, t2 of L lanes, channel j mod stride (L > 0).
 */
export function lanes_flush(C: i32, acc: usize, kp: usize, t1: usize, t2: usize, cnt: f64, stride: i32, L: i32): void {
  const nb = f64x2.splat(cnt);
  for (let c = 0; c < C; c += 2) {
    const o = <usize>c << 3;
    const s1 = L ? fold_pair(stride, L, t1, c) : v128.load(t1 + o), s2 = L ? fold_pair(stride, L, t2, c) : v128.load(t2 + o);
    merge_pair(acc + <usize>c * 24, nb, f64x2.promote_low_f32x4(v128.load64_zero(kp + (<usize>c << 2))), s1, s2);
  }
}

/**
 * block_merge of two channels in f64x2 lanes: a block of nb values each, summed around the shifts
 * k (Σd = s1, Σd² = s2), Chan-merged into the two triples at t — the scalar code's operations,
 * lane by lane.
 */
@inline export function merge_pair(t: usize, nb: v128, k: v128, s1: v128, s2: v128): void {
  const zero = f64x2.splat(0);
  const A = v128.load(t), B = v128.load(t, 16), D = v128.load(t, 32);
  const na = v128.shuffle<f64>(A, B, 0, 3), ma = v128.shuffle<f64>(A, D, 1, 2), Ma = v128.shuffle<f64>(B, D, 0, 3);
  const mean = f64x2.div(s1, nb);
  let m2 = f64x2.sub(s2, f64x2.mul(s1, mean));
  m2 = v128.bitselect(zero, m2, f64x2.lt(m2, zero));
  const mb = f64x2.add(k, mean);
  const n = f64x2.add(na, nb), d = f64x2.sub(mb, ma), r = f64x2.div(nb, n);
  const m = f64x2.add(ma, f64x2.mul(d, r));
  const M = f64x2.add(f64x2.add(Ma, m2), f64x2.mul(f64x2.mul(d, d), f64x2.mul(na, r)));
  v128.store(t, v128.shuffle<f64>(n, m, 0, 2));
  v128.store(t, v128.shuffle<f64>(M, n, 0, 3), 16);
  v128.store(t, v128.shuffle<f64>(m, M, 1, 3), 32);
}

/**
 * A redone block's shifts (redo_block), channels 0 … E − 1 (E even) in pairs: each channel's
 * block mean k + Σd/cnt around its old shift k, in f64 rounded to f32, into every repeat of the kp
 * pattern — the scalar loop's operations, lane by lane.
 */
export function lanes_means(E: i32, C: i32, L: i32, kp: usize, sp: usize, cnt: f64): void {
  const nb = f64x2.splat(cnt);
  for (let c = 0; c < E; c += 2) {
    const k = f64x2.promote_low_f32x4(v128.load64_zero(kp + (<usize>c << 2)));
    const m = f32x4.demote_f64x2_zero(f64x2.add(k, f64x2.div(fold_pair(C, L, sp, c), nb)));
    for (let j = c; j < L; j += C) v128.store64_lane(kp + (<usize>j << 2), m, 0);
  }
}

/**
 * True when the redone sums of channels 0 … E − 1 (E even) all pass bn_stats' sums_sound: both
 * finite, and Σd² ≥ TINY or a constant block (both sums 0) around a shift |k| ≥ SHIFT_FLOOR.
 */
export function lanes_sound(E: i32, C: i32, L: i32, kp: usize, sp: usize, qp: usize): bool {
  const tiny = f64x2.splat(TINY), zero = f64x2.splat(0), floor = f64x2.splat(<f64>SHIFT_FLOOR);
  let good = i64x2.splat(-1);
  for (let c = 0; c < E; c += 2) {
    const s1 = fold_pair(C, L, sp, c), s2 = fold_pair(C, L, qp, c);
    const k = f64x2.abs(f64x2.promote_low_f32x4(v128.load64_zero(kp + (<usize>c << 2))));
    const finite = v128.and(f64x2.eq(f64x2.sub(s1, s1), zero), f64x2.eq(f64x2.sub(s2, s2), zero));
    const flat = v128.and(v128.and(f64x2.eq(s1, zero), f64x2.eq(s2, zero)), f64x2.ge(k, floor));
    good = v128.and(good, v128.and(finite, v128.or(f64x2.ge(s2, tiny), flat)));
  }
  return i64x2.all_true(good);
}

/**
 * lanes_ok_add for channels E … C − 1 in scalar (fold_lane, sums_ok), stopping at the first that
 * fails; with `chk` only the check. Pending at t (Σd, then Σd² at t + 8·C), pending + block to u.
 */
export function rest_ok_add(E: i32, C: i32, L: i32, sp: usize, qp: usize, cnt: f64, t: usize, u: usize, chk: bool): bool {
  const half = <usize>C << 3;
  for (let c = E; c < C; c++) {
    const s1 = fold_lane(C, L, sp, c), s2 = fold_lane(C, L, qp, c), o = <usize>c << 3;
    if (!sums_ok(s1, s2, cnt)) return false;
    if (chk) continue;
    store<f64>(u + o, load<f64>(t + o) + s1);
    store<f64>(u + half + o, load<f64>(t + half + o) + s2);
  }
  return true;
}

/**
 * Channels whose per-block work runs in f64x2 pairs (the lanes_* functions): all but an odd last one
 * when rows are the pattern (L = C) or C is even; none for patterns of odd C (C = 7: the scalar
 * loops were 1.2× faster there).
 */
@inline export function paired(C: i32, L: i32): i32 {
  return L == C || (C & 1) == 0 ? C & ~1 : 0;
}

/** flush_pending's sources: pending f64 sums zeroed after (for more blocks), the last pending sums, one block's f32 lane patterns. */
export const PENDING = 0, LAST = 1, PATTERNS = 2;

/**
 * Chan-merge per-channel sums (n values around the shifts in kp) into acc, channel pairs in
 * f64x2 lanes (lanes_flush), the rest here. `from` PENDING or LAST: f64 sums at t1, t2 (PENDING
 * zeroes them for the next blocks); PATTERNS: a lone block's f32 lane patterns t1, t2 of L lanes,
 * folded on the way (no pending sums to zero, add and reload: O(C) work a call that at C = 1024
 * and 64 rows cost as much as the rows).
 */
export function flush_pending(C: i32, L: i32, acc: usize, kp: usize, t1: usize, t2: usize, n: f64, from: i32): void {
  if (n == 0) return;
  const E = paired(C, L), pat = from == PATTERNS;
  lanes_flush(E, acc, kp, t1, t2, n, C, pat ? L : 0);
  for (let c = E; c < C; c++) {
    const o = <usize>c << 3;
    const s1 = pat ? fold_lane(C, L, t1, c) : load<f64>(t1 + o), s2 = pat ? fold_lane(C, L, t2, c) : load<f64>(t2 + o);
    merge_block(acc + <usize>c * 24, n, <f64>load<f32>(kp + (<usize>c << 2)), s1, s2);
  }
  if (from == PENDING) memory.fill(t1, 0, <usize>C << 4);
}

/** Per-channel shifts into the kp pattern: 0 while the channel's data sits near zero (|mean| ≤ std), else its running mean. */
export function set_shifts(C: i32, L: i32, acc: usize, kp: usize): void {
  const E = L == C ? C & ~1 : 0; // patterns of repeats: the scalar loop (memory.copy per repeat cost more)
  lanes_shifts(E, acc, kp);
  for (let c = E; c < C; c++) {
    const k = shift_of(acc + <usize>c * 24);
    for (let j = c; j < L; j += C) store<f32>(kp + (<usize>j << 2), k);
  }
}
