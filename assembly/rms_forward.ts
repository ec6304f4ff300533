// RMS norm over the last axis as a row kernel: R rows of C contiguous values, one statistic
// per row, gamma per column (Gemma's 1 + gamma is made by JS). Row r is scaled (y = x·invRms·γ,
// from L1) in the same loop that reads row r + 1 from memory and sums its squares, so reads and
// writes stream together (a read phase then a write phase per row ran at half the copy rate);
// the activation then runs over row r. y may alias x. Tails: scalar remainder.
import { BLOCK, hsum } from "./common";
import { row_sumsq, row_scale, rms_inv } from "./rows";
import { act_row } from "./act";
import { short_rows } from "./ln_forward";

/**
 * y[cur] = x[cur]·a·gamma over C values while Σ x[next]² is returned (f64; f32 lanes flushed per
 * BLOCK). y may alias x (cur); next is another row.
 */
function scale_and_sumsq(cur: usize, py: usize, next: usize, C: i32, a: f32, gamma: usize): f64 {
  const av = f32x4.splat(a);
  let total: f64 = 0;
  for (let j0 = 0; j0 < C; j0 += BLOCK) {
    const end = min(C, j0 + BLOCK), e16 = j0 + ((end - j0) & ~15), e8 = j0 + ((end - j0) & ~7);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    let j = j0;
    // 16 values per iteration (one address per stream), the squares added in the order of the
    // 8-value loop below (the same bits).
    for (; j < e16; j += 16) {
      const o = <usize>j << 2, n = next + o, c = cur + o, g = gamma + o, y = py + o;
      const u0 = v128.load(n), u1 = v128.load(n, 16), u2 = v128.load(n, 32), u3 = v128.load(n, 48);
      s0 = f32x4.add(f32x4.add(s0, f32x4.mul(u0, u0)), f32x4.mul(u2, u2));
      s1 = f32x4.add(f32x4.add(s1, f32x4.mul(u1, u1)), f32x4.mul(u3, u3));
      v128.store(y, f32x4.mul(f32x4.mul(v128.load(c), av), v128.load(g)));
      v128.store(y, f32x4.mul(f32x4.mul(v128.load(c, 16), av), v128.load(g, 16)), 16);
      v128.store(y, f32x4.mul(f32x4.mul(v128.load(c, 32), av), v128.load(g, 32)), 32);
      v128.store(y, f32x4.mul(f32x4.mul(v128.load(c, 48), av), v128.load(g, 48)), 48);
    }
    for (; j < e8; j += 8) {
      const o = <usize>j << 2;
      const u = v128.load(next + o), w = v128.load(next + o, 16);
      s0 = f32x4.add(s0, f32x4.mul(u, u)); s1 = f32x4.add(s1, f32x4.mul(w, w));
      v128.store(py + o, f32x4.mul(f32x4.mul(v128.load(cur + o), av), v128.load(gamma + o)));
      v128.store(py + o, f32x4.mul(f32x4.mul(v128.load(cur + o, 16), av), v128.load(gamma + o, 16)), 16);
    }
    let t = hsum(f32x4.add(s0, s1));
    for (; j < end; j++) {
      const o = <usize>j << 2;
      const u = <f64>load<f32>(next + o);
      t += u * u;
      store<f32>(py + o, load<f32>(cur + o) * a * load<f32>(gamma + o));
    }
    total += t;
  }
  return total;
}

/** y = act(x·rstd·gamma), rstd = 1/sqrt(mean(x²) + eps) per row (R f32 written). gamma: C f32. */
export function rms_forward_f32_cl(R: i32, C: i32, x: usize, gamma: usize, y: usize, rstd: usize, eps: f64, act: i32): void {
  if (R <= 0) return;
  const rs = <usize>C << 2;
  let ss = row_sumsq(x, C);
  for (let r = 0; r < R; r++) {
    const px = x + <usize>r * rs, py = y + <usize>r * rs;
    const inv = rms_inv(px, C, ss, eps);
    store<f32>(rstd + (<usize>r << 2), inv);
    if (r + 1 < R) ss = scale_and_sumsq(px, py, px + rs, C, inv, gamma);
    else row_scale(px, py, C, inv, gamma);
    if (act) act_row(py, py, C, act);
  }
}

/**
 * rms_forward_f32_cl for rows of 1 ≤ C ≤ 32 values, four rows at a time (ln_forward.ts
 * short_rows with rms: Σx² of four rows folded into one vector's lanes, one f32x4 square root
 * and division for four rows); groups f32 cannot hold to the row kernel. scratch as
 * ln_forward_short_f32_cl's.
 */
export function rms_forward_short_f32_cl(R: i32, C: i32, x: usize, gamma: usize, y: usize, rstd: usize, eps: f64, act: i32, scratch: usize): void {
  short_rows(R, C, x, gamma, 0, y, 0, rstd, eps, act, scratch, true);
}
