// Plain float64 references for every op. Slow, obvious, and independent of the kernels:
// each op is written as "which statistic does element i belong to" plus the textbook formulas.
// Arrays are flat in the stored layout (row-major over `shape`); results are Float64Array.

export const LAYOUTS = {
  NC: { rank: 2, cl: false }, NCL: { rank: 3, cl: false }, NCHW: { rank: 4, cl: false },
  NCDHW: { rank: 5, cl: false }, NLC: { rank: 3, cl: true }, NHWC: { rank: 4, cl: true },
  NDHWC: { rank: 5, cl: true },
};

/** (N, C, S, cl) of a shape: S is the product of the spatial axes. */
export function geometry(shape, layout) {
  const L = LAYOUTS[layout];
  if (!L || L.rank !== shape.length) throw new Error(`bad layout ${layout} for shape ${shape}`);
  const N = shape[0];
  const C = L.cl ? shape[shape.length - 1] : shape[1];
  const S = shape.reduce((a, b) => a * b, 1) / (N * C);
  return { N, C, S, cl: L.cl };
}

/** Index helpers: element i → (n, c, s). */
export function coords(i, g) {
  if (g.cl) { const c = i % g.C; const r = (i - c) / g.C; return { n: Math.floor(r / g.S), c, s: r % g.S }; }
  const s = i % g.S; const nc = (i - s) / g.S; return { n: Math.floor(nc / g.C), c: nc % g.C, s };
}

function groupStats(x, keyOf, K) {
  const cnt = new Float64Array(K), mean = new Float64Array(K), m2 = new Float64Array(K);
  for (let i = 0; i < x.length; i++) { const k = keyOf(i); cnt[k]++; mean[k] += x[i]; }
  for (let k = 0; k < K; k++) mean[k] /= cnt[k];
  for (let i = 0; i < x.length; i++) { const k = keyOf(i); const d = x[i] - mean[k]; m2[k] += d * d; }
  const v = new Float64Array(K);
  for (let k = 0; k < K; k++) v[k] = m2[k] / cnt[k];
  return { count: cnt, mean, var: v };
}

/** Exact (count, mean, M2) per channel of the rows of every chunk, (N, C, S) channels-first each, in f64. */
export function exactTriples(chunks, C, S) {
  const out = new Float64Array(3 * C);
  for (let c = 0; c < C; c++) {
    let n = 0, s = 0;
    for (const { x, N } of chunks) for (let r = 0; r < N; r++) for (let i = 0; i < S; i++) { s += x[(r * C + c) * S + i]; n++; }
    const m = n ? s / n : 0;
    let m2 = 0;
    for (const { x, N } of chunks) for (let r = 0; r < N; r++) for (let i = 0; i < S; i++) { const d = x[(r * C + c) * S + i] - m; m2 += d * d; }
    out.set([n, m, m2], 3 * c);
  }
  return out;
}

/** Per-channel mean and biased variance over every axis but C. */
export function refStats(x, shape, layout) {
  const g = geometry(shape, layout);
  const r = groupStats(x, (i) => coords(i, g).c, g.C);
  return { mean: r.mean, var: r.var, count: g.N * g.S };
}

/** Generic normalization: statistic key per element, affine per channel. */
function normForward(x, g, keyOf, K, gamma, beta, eps) {
  const st = groupStats(x, keyOf, K);
  const invstd = st.var.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = keyOf(i), c = coords(i, g).c;
    y[i] = (x[i] - st.mean[k]) * invstd[k] * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
  }
  return { y, mean: st.mean, var: st.var, invstd, count: st.count };
}

function normBackward(x, dy, g, keyOf, K, gamma, mean, invstd) {
  const cnt = new Float64Array(K), sdy = new Float64Array(K), sdyx = new Float64Array(K);
  const dgamma = new Float64Array(g.C), dbeta = new Float64Array(g.C);
  for (let i = 0; i < x.length; i++) {
    const k = keyOf(i), c = coords(i, g).c;
    const xhat = (x[i] - mean[k]) * invstd[k];
    const gdy = dy[i] * (gamma ? gamma[c] : 1);
    cnt[k]++; sdy[k] += gdy; sdyx[k] += gdy * xhat;
    dgamma[c] += dy[i] * xhat; dbeta[c] += dy[i];
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = keyOf(i), c = coords(i, g).c;
    const xhat = (x[i] - mean[k]) * invstd[k];
    const gdy = dy[i] * (gamma ? gamma[c] : 1);
    dx[i] = invstd[k] * (gdy - sdy[k] / cnt[k] - xhat * sdyx[k] / cnt[k]);
  }
  return { dx, dgamma, dbeta };
}

/**
 * Training-mode batch norm. convention: 'pytorch' (momentum = weight of the new batch, unbiased
 * running var, momentum null = cumulative average over numBatchesTracked+1), 'keras'/'onnx'
 * (momentum = weight the old value keeps, biased running var).
 */
export function refBnTrain(x, shape, layout, p) {
  const g = geometry(shape, layout);
  const keyOf = (i) => coords(i, g).c;
  const f = normForward(x, g, keyOf, g.C, p.gamma, p.beta, p.eps);
  const m = g.N * g.S;
  const conv = p.convention || 'pytorch';
  const rm = Float64Array.from(p.runningMean), rv = Float64Array.from(p.runningVar);
  for (let c = 0; c < g.C; c++) {
    if (conv === 'pytorch') {
      const w = p.momentum == null ? 1 / ((p.numBatchesTracked || 0) + 1) : p.momentum;
      rm[c] = (1 - w) * rm[c] + w * f.mean[c];
      rv[c] = (1 - w) * rv[c] + w * f.var[c] * m / (m - 1);
    } else {
      const k = p.momentum;
      rm[c] = k * rm[c] + (1 - k) * f.mean[c];
      rv[c] = k * rv[c] + (1 - k) * f.var[c];
    }
  }
  const out = { y: f.y, runningMean: rm, runningVar: rv, saveMean: f.mean, saveInvstd: f.invstd, var: f.var };
  if (p.dy) Object.assign(out, normBackward(x, p.dy, g, keyOf, g.C, p.gamma, f.mean, f.invstd));
  return out;
}

export function refBnInfer(x, shape, layout, p) {
  const g = geometry(shape, layout);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = coords(i, g).c;
    y[i] = (x[i] - p.runningMean[c]) / Math.sqrt(p.runningVar[c] + p.eps) * (p.gamma ? p.gamma[c] : 1) + (p.beta ? p.beta[c] : 0);
  }
  return y;
}

/** Training-mode backward from saved statistics. */
export function refBnBackward(x, dy, shape, layout, p) {
  const g = geometry(shape, layout);
  return normBackward(x, dy, g, (i) => coords(i, g).c, g.C, p.gamma, p.saveMean, p.saveInvstd);
}

/** Eval-mode backward: statistics are constants (running stats). */
export function refBnBackwardEval(x, dy, shape, layout, p) {
  const g = geometry(shape, layout);
  const dx = new Float64Array(x.length), dgamma = new Float64Array(g.C), dbeta = new Float64Array(g.C);
  for (let i = 0; i < x.length; i++) {
    const c = coords(i, g).c;
    const invstd = 1 / Math.sqrt(p.runningVar[c] + p.eps);
    dx[i] = dy[i] * (p.gamma ? p.gamma[c] : 1) * invstd;
    dgamma[c] += dy[i] * (x[i] - p.runningMean[c]) * invstd;
    dbeta[c] += dy[i];
  }
  return { dx, dgamma, dbeta };
}

function familyOp(x, dy, shape, layout, p, keyFn, K) {
  const g = geometry(shape, layout);
  const keyOf = (i) => keyFn(coords(i, g), g);
  const f = normForward(x, g, keyOf, K(g), p.gamma, p.beta, p.eps);
  const out = { y: f.y, mean: f.mean, invstd: f.invstd };
  if (dy) Object.assign(out, normBackward(x, dy, g, keyOf, K(g), p.gamma, f.mean, f.invstd));
  return out;
}

/** Instance norm: statistics per (n, c). */
export const refInstanceNorm = (x, dy, shape, layout, p) =>
  familyOp(x, dy, shape, layout, p, (q, g) => q.n * g.C + q.c, (g) => g.N * g.C);

/** Group norm: statistics per (n, group of C/groups consecutive channels). */
export const refGroupNorm = (x, dy, shape, layout, p) =>
  familyOp(x, dy, shape, layout, p, (q, g) => q.n * p.groups + Math.floor(q.c / (g.C / p.groups)), (g) => g.N * p.groups);

/** Layer norm: statistics per (n, spatial position) over the channel axis. */
export const refLayerNorm = (x, dy, shape, layout, p) =>
  familyOp(x, dy, shape, layout, p, (q, g) => q.n * g.S + q.s, (g) => g.N * g.S);

/** RMS norm: statistics per (n, spatial position), no centring, scale gamma (1 + gamma with unitOffset). */
export function refRmsNorm(x, dy, shape, layout, p) {
  const g = geometry(shape, layout), K = g.N * g.S;
  const key = (i) => { const q = coords(i, g); return q.n * g.S + q.s; };
  const ms = new Float64Array(K);
  for (let i = 0; i < x.length; i++) ms[key(i)] += x[i] * x[i] / g.C;
  const invRms = ms.map((v) => 1 / Math.sqrt(v + p.eps));
  const sc = (c) => (p.gamma ? (p.unitOffset ? 1 + p.gamma[c] : p.gamma[c]) : 1);
  const pre = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) pre[i] = x[i] * invRms[key(i)] * sc(coords(i, g).c);
  const out = { y: pre.map((v) => act(p.activation, v)), invRms };
  if (!dy) return out;
  const gy = Float64Array.from(dy, (d, i) => d * dact(p.activation, pre[i]));
  const sgx = new Float64Array(K), dgamma = new Float64Array(g.C);
  for (let i = 0; i < x.length; i++) {
    const k = key(i), c = coords(i, g).c, xh = x[i] * invRms[k];
    sgx[k] += gy[i] * sc(c) * xh; dgamma[c] += gy[i] * xh;
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = key(i), c = coords(i, g).c, xh = x[i] * invRms[k];
    dx[i] = invRms[k] * (gy[i] * sc(c) - xh * sgx[k] / g.C);
  }
  return Object.assign(out, { dx, dgamma });
}

/**
 * An op of the family with an activation epilogue: y = act(norm(x)); the backward through it
 * (g = dy·act'(pre), then the op's backward with g). ref: refLayerNorm, refGroupNorm, …
 */
export function refWithAct(ref, x, dy, shape, layout, p) {
  const f = ref(x, null, shape, layout, p);
  const out = { ...f, y: f.y.map((v) => act(p.activation, v)) };
  if (dy) Object.assign(out, ref(x, Float64Array.from(dy, (d, i) => d * dact(p.activation, f.y[i])), shape, layout, p));
  out.y = f.y.map((v) => act(p.activation, v));
  return out;
}

/** Skip norms: sum = x + skip + bias; y = act(norm(sum)); dx = norm'·dy + dsum, dbias = Σ dx. */
export function refSkipNorm(x, skip, dy, shape, layout, p) {
  const g = geometry(shape, layout);
  const sum = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) sum[i] = Math.fround(Math.fround(x[i] + skip[i]) + (p.bias ? p.bias[coords(i, g).c] : 0));
  const r = p.rms ? refRmsNorm(sum, dy, shape, layout, p) : refWithAct(refLayerNorm, sum, dy, shape, layout, p);
  const out = { ...r, sum };
  if (dy) {
    out.dx = r.dx.map((v, i) => v + (p.dsum ? p.dsum[i] : 0));
    out.dbias = new Float64Array(g.C);
    for (let i = 0; i < x.length; i++) out.dbias[coords(i, g).c] += out.dx[i];
  }
  return out;
}

/** erf in float64 (series below 2.5, continued fraction for erfc above): |error| < 1e-14. */
export function erf(x) {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let r;
  if (a < 2.5) {
    // erf(a) = 2/√π·e^(−a²)·Σ 2ⁿ a^(2n+1) / (1·3·…·(2n+1)): every term positive.
    let term = a, sum = a;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) { term *= 2 * a * a / (2 * n + 1); sum += term; }
    r = 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum;
  } else r = 1 - erfcLarge(a);
  return x < 0 ? -r : r;
}

/** erfc(a) for a ≥ 2.5 by its continued fraction (evaluated backwards, 80 terms). */
function erfcLarge(a) {
  let f = a;
  for (let k = 80; k >= 1; k--) f = a + (k / 2) / f;
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

/** Φ(v), the standard normal CDF, with relative precision for negative v. */
function Phi(v) {
  const z = Math.abs(v) / Math.SQRT2;
  const tail = 0.5 * (z < 2.5 ? 1 - erf(z) : erfcLarge(z));
  return v >= 0 ? 1 - tail : tail;
}

const sigmoid = (v) => 1 / (1 + Math.exp(-v));
const GT = Math.sqrt(2 / Math.PI);

/** The activations in float64 (name undefined: identity), with the limits the kernels keep. */
export function act(name, v) {
  if (Number.isNaN(v) || !name) return v;
  switch (name) {
    case "relu": return Math.max(v, 0);
    case "relu6": return Math.min(Math.max(v, 0), 6);
    case "silu": return v === -Infinity ? 0 : v * sigmoid(v);
    case "gelu": return v === -Infinity ? 0 : v * Phi(v);
    case "gelu_tanh": return v === -Infinity ? 0 : v === Infinity ? v : 0.5 * v * (1 + Math.tanh(GT * (v + 0.044715 * v * v * v)));
  }
  throw new Error(name);
}

/** d act / dv in float64 (relu: 1 where v > 0; relu6: 1 where 0 < v < 6). */
export function dact(name, v) {
  if (!name) return 1;
  switch (name) {
    case "relu": return v > 0 ? 1 : 0;
    case "relu6": return v > 0 && v < 6 ? 1 : 0;
    case "silu": { const s = sigmoid(v); return Math.abs(v) > 100 ? (v > 0 ? 1 : 0) : s * (1 + v * (1 - s)); }
    case "gelu": return Math.abs(v) > 40 ? (v > 0 ? 1 : 0) : Phi(v) + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI);
    case "gelu_tanh": {
      if (Math.abs(v) > 40) return v > 0 ? 1 : 0;
      const t = Math.tanh(GT * (v + 0.044715 * v * v * v));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GT * (1 + 3 * 0.044715 * v * v);
    }
  }
  throw new Error(name);
}

/** Fold an inference batch norm into the preceding layer (output channel = axis 0 of OIHW/OI). */
export function refFoldBn(weight, wshape, p) {
  const O = wshape[0], per = weight.length / O;
  const w = new Float64Array(weight.length), b = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    const scale = p.gamma[o] / Math.sqrt(p.runningVar[o] + p.eps);
    for (let j = 0; j < per; j++) w[o * per + j] = weight[o * per + j] * scale;
    b[o] = ((p.bias ? p.bias[o] : 0) - p.runningMean[o]) * scale + p.beta[o];
  }
  return { weight: w, bias: b };
}

/** Deterministic PRNG (mulberry32) and normal samples, for tests and benches. */
export function rng(seed = 1) {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const normal = () => { let s = 0; while (s === 0) s = u(); return Math.sqrt(-2 * Math.log(s)) * Math.cos(2 * Math.PI * u()); };
  return { u, normal };
}

export function randomArray(n, seed = 1, { offset = 0, scale = 1 } = {}) {
  const r = rng(seed); const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * r.normal();
  return a;
}

/**
 * Compare got against expected with |a−e| ≤ atol + rtol·|e|; NaN matches NaN only.
 * Returns null when all pass, else { index, got, expected, err, count } for the worst value.
 */
export function compare(got, expected, atol, rtol) {
  let worst = null, bad = 0;
  if (got.length !== expected.length) return { index: -1, got: got.length, expected: expected.length, err: Infinity, count: 1, lengthMismatch: true };
  for (let i = 0; i < expected.length; i++) {
    const a = got[i], e = expected[i];
    let err;
    if (Number.isNaN(e) || Number.isNaN(a)) err = Number.isNaN(e) && Number.isNaN(a) ? 0 : Infinity;
    else err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (err > 0) { bad++; if (!worst || err > worst.err) worst = { index: i, got: a, expected: e, err: Math.abs(a - e) }; }
  }
  return worst ? { ...worst, count: bad } : null;
}

/**
 * Image bytes → float64 tensor: y = (byte·scale − mean[c]) / std[c] for c < 3 of N images of
 * H×W pixels with C bytes each (3 RGB, 4 RGBA), in "NCHW" (planar) or "NHWC".
 */
export function refFromPixels(bytes, N, H, W, C, layout, { mean, std, scale }) {
  const S = H * W, y = new Float64Array(N * 3 * S);
  for (let n = 0; n < N; n++) for (let p = 0; p < S; p++) for (let c = 0; c < 3; c++) {
    const v = (bytes[(n * S + p) * C + c] * scale - mean[c]) / std[c];
    y[layout === "NCHW" ? (n * 3 + c) * S + p : (n * S + p) * 3 + c] = v;
  }
  return y;
}

/** Exact per-channel statistics of byte images (BigInt sums): { count, mean, var } for c < 3. */
export function refPixelStats(bytes, C) {
  const n = bytes.length / C, s = [0n, 0n, 0n], q = [0n, 0n, 0n];
  for (let i = 0; i < bytes.length; i += C) for (let c = 0; c < 3; c++) { const v = BigInt(bytes[i + c]); s[c] += v; q[c] += v * v; }
  const N = BigInt(n);
  return { count: n, mean: s.map((x) => Number(x) / n), var: s.map((x, c) => Number(N * q[c] - x * x) / n / n) };
}
