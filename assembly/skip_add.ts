// Residual sum in channels-first layouts: sum = x + skip + bias[c] over (N, C, S) (the skip norms
// then normalize sum with the channels-first layer-norm kernels; also adds dsum into dx in their
// backward, with bias = zeros). sum may alias x or skip. Tail: scalar remainder of each row of S.

/** sum[n, c, s] = x[n, c, s] + skip[n, c, s] + bias[c]; bias: C f32. */
export function skip_add_f32_cf(N: i32, C: i32, S: i32, x: usize, skip: usize, bias: usize, sum: usize): void {
  const S4 = S & ~3;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const bs = load<f32>(bias + (<usize>c << 2)), bv = f32x4.splat(bs);
      const base = (<usize>n * <usize>C + <usize>c) * <usize>S << 2;
      const px = x + base, pk = skip + base, ps = sum + base;
      let i = 0;
      for (; i < S4; i += 4) {
        const o = <usize>i << 2;
        v128.store(ps + o, f32x4.add(f32x4.add(v128.load(px + o), v128.load(pk + o)), bv));
      }
      for (; i < S; i++) {
        const o = <usize>i << 2;
        store<f32>(ps + o, load<f32>(px + o) + load<f32>(pk + o) + bs);
      }
    }
  }
}
