// Residual-fused norms over the last axis (ONNX SkipLayerNormalization and
// SkipSimplifiedLayerNormalization), R rows of C: sum = x + skip + bias is stored, then
// y = act(norm(sum)) while the row is in L1 (or, for wide layer-norm rows, L2: below). x and skip
// are read once, sum and y written once. sum may alias x or skip; y may alias neither sum nor
// (when sum does not) the other input. Tails: scalar remainder (assembly/rows.ts).
import { ret0, ret1 } from "./common";
import { row_add_shifted, row_add_sq, row_norm, row_scale, rms_inv, ln_row_stats, row_m, row_a, row_b, row_r, row_h } from "./rows";
import { act_row } from "./act";

// Wide layer-norm rows: a row's working set (x, skip, sum, y streams and the bias, gamma, beta
// vectors reused by every row: 7·4·C bytes, 56 KB at C = 2048) outgrows L1, so the per-channel
// vectors were reloaded from L2 for every row. From WIDE values on, rows are taken in tiles of
// TILE: the sums of every row of the tile first (x + skip + bias → sum, statistics), then the
// normalize in column blocks of BLK values, each block for every row of the tile, so a block of
// gamma and beta is loaded once per tile and the sum rows come back from L2.
const WIDE: i32 = 1024;
const TILE: i32 = 16;
const BLK: i32 = 1024;

/**
 * sum = x + skip + bias; y = act(layer_norm(sum)) (rms = 0: mean and rstd written per row) or
 * act(rms_norm(sum)) (rms = 1: rstd written, beta and mean unused). gamma, beta: C f32; bias: C f32,
 * or 0 for none.
 */
export function skip_forward_f32_cl(R: i32, C: i32, x: usize, skip: usize, bias: usize, gamma: usize, beta: usize, sum: usize, y: usize, mean: usize, rstd: usize, eps: f64, rms: i32, act: i32): void {
  if (!rms && C >= WIDE) { skip_ln_tiles(R, C, x, skip, bias, gamma, beta, sum, y, mean, rstd, eps, act); return; }
  const rs = <usize>C << 2;
  if (rms) {
    for (let r = 0; r < R; r++) {
      const o = <usize>r * rs, ps = sum + o, py = y + o;
      row_add_sq(x + o, skip + o, bias, ps, C);
      const inv = rms_inv(ps, C, ret1, eps);
      store<f32>(rstd + (<usize>r << 2), inv);
      row_scale(ps, py, C, inv, gamma);
      if (act) act_row(py, py, C, act);
    }
    return;
  }
  if (R <= 0) return;
  // Layer norm sums around a shift (see ln_forward.ts). Row r + 1's add and sums run before row
  // r's normalize (they need only the shift), while row r's invstd is still being computed.
  let h: f32 = 0;
  row_add_shifted(x, skip, bias, sum, C, 0);
  for (let r = 0; r < R; r++) {
    const o = <usize>r * rs, ps = sum + o, py = y + o, ro = <usize>r << 2, n = o + rs;
    ln_row_stats(ps, C, h, ret0, ret1, eps, mean + ro, rstd + ro);
    h = row_h;
    const m = row_m, a = row_a, b = row_b;
    if (r + 1 < R) row_add_shifted(x + n, skip + n, bias, sum + n, C, h);
    row_norm(ps, py, C, m, a, b, gamma, beta);
    if (act) act_row(py, py, C, act);
  }
}

/**
 * The layer-norm path for rows of C ≥ WIDE, in tiles of TILE rows (see above). Each row's m and
 * a are its mean and rstd outputs (so it is normalized around its f32 mean, also where the row
 * kernel would go around 0: ln_row_stats' row_r, not row_b); its residue term b is kept in the last value of its y row,
 * which the normalize reads before it writes the block that holds it (the x or skip row y may
 * alias has been read by then).
 */
function skip_ln_tiles(R: i32, C: i32, x: usize, skip: usize, bias: usize, gamma: usize, beta: usize, sum: usize, y: usize, mean: usize, rstd: usize, eps: f64, act: i32): void {
  const rs = <usize>C << 2, last = <usize>(C - 1) << 2;
  let h: f32 = 0;
  for (let r0 = 0; r0 < R; r0 += TILE) {
    const r1 = min(R, r0 + TILE);
    for (let r = r0; r < r1; r++) {
      const o = <usize>r * rs, ro = <usize>r << 2;
      row_add_shifted(x + o, skip + o, bias, sum + o, C, h);
      ln_row_stats(sum + o, C, h, ret0, ret1, eps, mean + ro, rstd + ro);
      store<f32>(y + o + last, row_r);
      h = row_h;
    }
    for (let j = 0; j < C; j += BLK) {
      const n = min(BLK, C - j), jo = <usize>j << 2;
      for (let r = r0; r < r1; r++) {
        const o = <usize>r * rs + jo, ro = <usize>r << 2, py = y + o;
        const b = load<f32>(y + <usize>r * rs + last);
        row_norm(sum + o, py, n, load<f32>(mean + ro), load<f32>(rstd + ro), b, gamma + jo, beta + jo);
        if (act) act_row(py, py, n, act);
      }
    }
  }
}
