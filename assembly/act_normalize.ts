// Per-channel normalize with an activation epilogue, and the gradient through that activation,
// for the kernels that normalize with per-channel parameters (batch norm inference and
// training, instance and group norm):
//
//   v = (x − m[c])·scale[c] + shift[c],   y = act(v),   g = dy·act'(v)
//
// Work goes in chunks of ≤ CHUNK values (whole rows of either layout — channels-first rows of S,
// channels-last rows of C — or a piece of one longer row): v is made for the chunk, then the
// activation (or its gradient) runs over it while it is in L1 — one pass over memory.
// Channels-first (N, C, S): parameters splat per row. Channels-last (R rows of C): parameters
// read as vectors per column. Tails: scalar remainder for the last len % 4 values of a
// normalized run; the activation's own (assembly/act.ts) once per chunk.
// y may alias x; g may alias x or dy (every value is read before it is written, at the same
// index; v goes to scratch: CHUNK f32, 16-byte aligned).
import { act_row, act_grad_row } from "./act";
import { normalize_row } from "./bn_normalize";

const CHUNK: i32 = 1024;

/** q = (p − m)·s + t for `rows` rows of columns j0 … j0+len−1 (row stride C), into a dense block. */
function norm_cols(p: usize, q: usize, rows: i32, C: i32, j0: i32, len: i32, m: usize, s: usize, t: usize): void {
  const len4 = len & ~3, po = <usize>j0 << 2;
  for (let r = 0; r < rows; r++) {
    const pr = p + (<usize>r * <usize>C << 2) + po, qr = q + (<usize>r * <usize>len << 2);
    let j = 0;
    for (; j < len4; j += 4) {
      const o = <usize>j << 2;
      v128.store(qr + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(pr + o), v128.load(m + po + o)), v128.load(s + po + o)), v128.load(t + po + o)));
    }
    for (; j < len; j++) {
      const o = <usize>j << 2;
      store<f32>(qr + o, (load<f32>(pr + o) - load<f32>(m + po + o)) * load<f32>(s + po + o) + load<f32>(t + po + o));
    }
  }
}

// Channels-first walk over the N·C rows of S (row r has channel r % C). Rows of S ≤ CHUNK go in
// blocks of whole rows (contiguous in memory): each row normalized with its channel's
// parameters, then one activation pass over the block — short rows (UNet 8×8, ResNet 7×7) would
// otherwise pay the activation's per-call cost and its tail once per row. Longer rows go in
// chunks of CHUNK. GRAD: v to scratch, then dx = dy·act'(v); else y = v, then the activation in
// place (constants after inlining).
@inline function cf_walk(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, scale: usize, shift: usize, out: usize, act: i32, scratch: usize, GRAD: bool): void {
  const rows = N * C, per = S <= CHUNK ? CHUNK / S : 1, step = min(S, CHUNK);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const r1 = min(rows, r0 + per);
    for (let i = 0; i < S; i += step) {
      // Rows r0 … r1−1 (then one row when per = 1) from value i of each: len values per row.
      const len = min(step, S - i);
      for (let r = r0; r < r1; r++) {
        const co = <usize>(r % C) << 2, o = ((<usize>r * <usize>S + <usize>i) << 2);
        const d = GRAD ? scratch + (<usize>(r - r0) * <usize>len << 2) : out + o;
        normalize_row(x + o, d, len, load<f32>(m + co), load<f32>(scale + co), load<f32>(shift + co));
      }
      const o = (<usize>r0 * <usize>S + <usize>i) << 2, n = (r1 - r0) * len;
      if (GRAD) act_grad_row(scratch, dy + o, out + o, n, act);
      else act_row(out + o, out + o, n, act);
    }
  }
}

/** Channels-first (N, C, S): y = act((x − m[c])·scale[c] + shift[c]); m, scale, shift: C f32. */
export function act_normalize_f32_cf(N: i32, C: i32, S: i32, x: usize, m: usize, scale: usize, shift: usize, y: usize, act: i32): void {
  cf_walk(N, C, S, x, 0, m, scale, shift, y, act, 0, false);
}

/** Channels-last (R rows of C): y = act((x − m[c])·scale[c] + shift[c]); m, scale, shift: C f32. */
export function act_normalize_f32_cl(R: i32, C: i32, x: usize, m: usize, scale: usize, shift: usize, y: usize, act: i32): void {
  const per = max(1, CHUNK / C);
  for (let r = 0; r < R; r += per) {
    const rows = min(per, R - r), base = <usize>r * <usize>C << 2;
    if (C <= CHUNK) {
      // Whole rows: the output block is contiguous, so normalize writes it directly.
      norm_cols(x + base, y + base, rows, C, 0, C, m, scale, shift);
      act_row(y + base, y + base, rows * C, act);
      continue;
    }
    for (let j = 0; j < C; j += CHUNK) {
      const len = min(CHUNK, C - j), o = base + (<usize>j << 2);
      norm_cols(x + base, y + o, 1, C, j, len, m, scale, shift);
      act_row(y + o, y + o, len, act);
    }
  }
}

/** Channels-first (N, C, S): dx = dy·act'((x − m[c])·scale[c] + shift[c]). scratch: CHUNK f32. */
export function act_normalize_grad_f32_cf(N: i32, C: i32, S: i32, x: usize, dy: usize, m: usize, scale: usize, shift: usize, dx: usize, act: i32, scratch: usize): void {
  cf_walk(N, C, S, x, dy, m, scale, shift, dx, act, scratch, true);
}

/** Channels-last (R rows of C): dx = dy·act'((x − m[c])·scale[c] + shift[c]). scratch: CHUNK f32. */
export function act_normalize_grad_f32_cl(R: i32, C: i32, x: usize, dy: usize, m: usize, scale: usize, shift: usize, dx: usize, act: i32, scratch: usize): void {
  const per = max(1, CHUNK / C);
  for (let r = 0; r < R; r += per) {
    const rows = min(per, R - r), base = <usize>r * <usize>C << 2;
    for (let j = 0; j < C; j += CHUNK) {
      const len = min(CHUNK, C - j), o = base + (<usize>j << 2);
      // rows > 1 only when the whole row fits (len = C): the block is then contiguous.
      norm_cols(x + base, scratch, rows, C, j, len, m, scale, shift);
      act_grad_row(scratch, dy + o, dx + o, rows * len, act);
    }
  }
}
