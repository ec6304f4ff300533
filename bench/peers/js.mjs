// "Write it yourself" baseline: plain JS loops on Float32Array, the way a careful developer
// would write them without SIMD or wasm. Two-pass statistics (mean, then Σ(x−mean)²) with
// float64 accumulators (JS numbers are doubles, so this costs nothing extra), per-channel
// scale/shift computed once so normalization is one multiply-add per element, and loops
// ordered so the innermost index walks memory contiguously in both layouts.
//
// Timed run() includes: the full op, writing into output arrays allocated once in prepare()
// (a user would reuse buffers too). Not included: allocating outputs or scratch.
import { geometry, OPS } from './common.mjs';

/** Per-channel mean and biased variance over all axes but C (two passes over x). */
function channelStats(x, g, mean, vr, sum) {
  const { N, C, S, cl } = g, m = N * S;
  sum.fill(0);
  if (!cl) {
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      let s = 0; const o = (n * C + c) * S;
      for (let j = 0; j < S; j++) s += x[o + j];
      sum[c] += s;
    }
    for (let c = 0; c < C; c++) { mean[c] = sum[c] / m; sum[c] = 0; }
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      let s = 0; const o = (n * C + c) * S, mu = mean[c];
      for (let j = 0; j < S; j++) { const d = x[o + j] - mu; s += d * d; }
      sum[c] += s;
    }
  } else {
    for (let r = 0, i = 0; r < m; r++) for (let c = 0; c < C; c++, i++) sum[c] += x[i];
    for (let c = 0; c < C; c++) { mean[c] = sum[c] / m; sum[c] = 0; }
    for (let r = 0, i = 0; r < m; r++) for (let c = 0; c < C; c++, i++) { const d = x[i] - mean[c]; sum[c] += d * d; }
  }
  for (let c = 0; c < C; c++) vr[c] = sum[c] / m;
}

/** y = x·scale[c] + shift[c]. */
function affineChannels(x, y, g, scale, shift) {
  const { N, C, S, cl } = g;
  if (!cl) {
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      const o = (n * C + c) * S, a = scale[c], b = shift[c];
      for (let j = 0; j < S; j++) y[o + j] = x[o + j] * a + b;
    }
  } else {
    const m = N * S;
    for (let r = 0, i = 0; r < m; r++) for (let c = 0; c < C; c++, i++) y[i] = x[i] * scale[c] + shift[c];
  }
}

function makeStats(g) {
  const mean = new Float32Array(g.C), vr = new Float32Array(g.C), sum = new Float64Array(g.C);
  return (inp) => { channelStats(inp.x, g, mean, vr, sum); return { mean, var: vr }; };
}

function makeBnTrain(g) {
  const { C } = g, m = g.N * g.S;
  const mean = new Float32Array(C), vr = new Float32Array(C), sum = new Float64Array(C);
  const invstd = new Float32Array(C), scale = new Float64Array(C), shift = new Float64Array(C);
  const rm = new Float32Array(C), rv = new Float32Array(C), y = new Float32Array(g.size);
  return (inp) => {
    channelStats(inp.x, g, mean, vr, sum);
    const w = inp.momentum, unbias = m / Math.max(m - 1, 1);
    for (let c = 0; c < C; c++) {
      const is = 1 / Math.sqrt(vr[c] + inp.eps);
      invstd[c] = is; scale[c] = inp.gamma[c] * is; shift[c] = inp.beta[c] - mean[c] * scale[c];
      // PyTorch convention: momentum weighs the new batch; running variance is unbiased.
      rm[c] = (1 - w) * inp.runningMean[c] + w * mean[c];
      rv[c] = (1 - w) * inp.runningVar[c] + w * vr[c] * unbias;
    }
    affineChannels(inp.x, y, g, scale, shift);
    return { y, saveMean: mean, saveInvstd: invstd, runningMean: rm, runningVar: rv };
  };
}

function makeBnInfer(g) {
  const scale = new Float64Array(g.C), shift = new Float64Array(g.C), y = new Float32Array(g.size);
  return (inp) => {
    for (let c = 0; c < g.C; c++) {
      scale[c] = inp.gamma[c] / Math.sqrt(inp.runningVar[c] + inp.eps);
      shift[c] = inp.beta[c] - inp.runningMean[c] * scale[c];
    }
    affineChannels(inp.x, y, g, scale, shift);
    return { y };
  };
}

// Backward keeps the (x − mean) form: the expanded a·x + b form cancels at large offsets.
function makeBnBackward(g) {
  const { N, C, S, cl } = g, m = N * S;
  const sdy = new Float64Array(C), sdx = new Float64Array(C);
  const k1 = new Float64Array(C), a = new Float64Array(C), b = new Float64Array(C);
  const dx = new Float32Array(g.size), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
  return (inp) => {
    const { x, dy, gamma, saveMean: mean, saveInvstd: invstd } = inp;
    sdy.fill(0); sdx.fill(0);
    if (!cl) {
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const o = (n * C + c) * S, mu = mean[c]; let s1 = 0, s2 = 0;
        for (let j = 0; j < S; j++) { const d = dy[o + j]; s1 += d; s2 += d * (x[o + j] - mu); }
        sdy[c] += s1; sdx[c] += s2;
      }
    } else {
      for (let r = 0, i = 0; r < m; r++) for (let c = 0; c < C; c++, i++) { const d = dy[i]; sdy[c] += d; sdx[c] += d * (x[i] - mean[c]); }
    }
    for (let c = 0; c < C; c++) {
      const is = invstd[c];
      dbeta[c] = sdy[c]; dgamma[c] = sdx[c] * is;
      k1[c] = gamma[c] * is; a[c] = sdy[c] / m; b[c] = is * is * sdx[c] / m;
    }
    if (!cl) {
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const o = (n * C + c) * S, mu = mean[c], K = k1[c], A = a[c], B = b[c];
        for (let j = 0; j < S; j++) dx[o + j] = K * (dy[o + j] - A - (x[o + j] - mu) * B);
      }
    } else {
      for (let r = 0, i = 0; r < m; r++) for (let c = 0; c < C; c++, i++) dx[i] = k1[c] * (dy[i] - a[c] - (x[i] - mean[c]) * b[c]);
    }
    return { dx, dgamma, dbeta };
  };
}

/**
 * Group statistics + per-channel affine, shared by instance norm (G = C) and group norm.
 * Channels-first: each (n, group) is one contiguous block of (C/G)·S values.
 * Channels-last: per sample, per-channel sums over S rows folded into groups.
 * Also returns mean and invstd per (n, group), as a backward needs them.
 */
function makeGroupNorm(g, groupsOf) {
  const { N, C, S, cl } = g;
  const y = new Float32Array(g.size), sum = new Float64Array(C), scale = new Float64Array(C), shift = new Float64Array(C);
  const means = new Float64Array(N * C), invstds = new Float64Array(N * C);
  return (inp) => {
    const G = groupsOf(inp), Cg = C / G, { x, gamma, beta, eps } = inp;
    if (!cl) {
      const len = Cg * S;
      for (let n = 0; n < N; n++) for (let gi = 0; gi < G; gi++) {
        const o = (n * C + gi * Cg) * S;
        let s = 0; for (let j = 0; j < len; j++) s += x[o + j];
        const mu = s / len; let q = 0;
        for (let j = 0; j < len; j++) { const d = x[o + j] - mu; q += d * d; }
        const is = 1 / Math.sqrt(q / len + eps);
        means[n * G + gi] = mu; invstds[n * G + gi] = is;
        for (let k = 0; k < Cg; k++) {
          const c = gi * Cg + k, A = gamma[c] * is, B = beta[c] - mu * A, oc = o + k * S;
          for (let j = 0; j < S; j++) y[oc + j] = x[oc + j] * A + B;
        }
      }
    } else {
      const cnt = S * Cg;
      for (let n = 0; n < N; n++) {
        const base = n * S * C;
        sum.fill(0);
        for (let r = 0, i = base; r < S; r++) for (let c = 0; c < C; c++, i++) sum[c] += x[i];
        for (let gi = 0; gi < G; gi++) { let s = 0; for (let k = 0; k < Cg; k++) s += sum[gi * Cg + k]; const mu = s / cnt; means[n * G + gi] = mu; for (let k = 0; k < Cg; k++) shift[gi * Cg + k] = mu; }
        sum.fill(0);
        for (let r = 0, i = base; r < S; r++) for (let c = 0; c < C; c++, i++) { const d = x[i] - shift[c]; sum[c] += d * d; }
        for (let gi = 0; gi < G; gi++) {
          let q = 0; for (let k = 0; k < Cg; k++) q += sum[gi * Cg + k];
          const is = 1 / Math.sqrt(q / cnt + eps);
          invstds[n * G + gi] = is;
          for (let k = 0; k < Cg; k++) { const c = gi * Cg + k; scale[c] = gamma[c] * is; shift[c] = beta[c] - shift[c] * scale[c]; }
        }
        for (let r = 0, i = base; r < S; r++) for (let c = 0; c < C; c++, i++) y[i] = x[i] * scale[c] + shift[c];
      }
    }
    return { y, mean: means.subarray(0, N * G), invstd: invstds.subarray(0, N * G) };
  };
}

/** Group norm backward: per-(n, c) Σdy, Σdy·(x − μ) → γ-weighted group sums → dx, dgamma, dbeta. */
function makeGroupNormBackward(g, groupsOf) {
  const { N, C, S, cl } = g;
  const dx = new Float32Array(g.size), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
  const s1 = new Float64Array(C), s2 = new Float64Array(C), mu = new Float64Array(C), dg = new Float64Array(C), db = new Float64Array(C);
  const k = new Float64Array(C), c1 = new Float64Array(C), c0 = new Float64Array(C);
  return (inp) => {
    const G = groupsOf(inp), Cg = C / G, cnt = Cg * S, { x, dy, gamma, mean, invstd } = inp;
    const A = new Float64Array(G), B = new Float64Array(G);
    dg.fill(0); db.fill(0);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) mu[c] = mean[n * G + Math.floor(c / Cg)];
      s1.fill(0); s2.fill(0);
      if (!cl) {
        for (let c = 0; c < C; c++) {
          const o = (n * C + c) * S, m = mu[c]; let a = 0, b = 0;
          for (let j = 0; j < S; j++) { const d = dy[o + j]; a += d; b += d * (x[o + j] - m); }
          s1[c] = a; s2[c] = b;
        }
      } else {
        for (let r = 0, i = n * S * C; r < S; r++) for (let c = 0; c < C; c++, i++) { const d = dy[i]; s1[c] += d; s2[c] += d * (x[i] - mu[c]); }
      }
      A.fill(0); B.fill(0);
      for (let c = 0; c < C; c++) {
        const gi = Math.floor(c / Cg);
        A[gi] += gamma[c] * s1[c]; B[gi] += gamma[c] * s2[c];
        dg[c] += s2[c] * invstd[n * G + gi]; db[c] += s1[c];
      }
      for (let c = 0; c < C; c++) {
        const gi = Math.floor(c / Cg), inv = invstd[n * G + gi];
        k[c] = gamma[c] * inv; c1[c] = -inv * inv * inv * B[gi] / cnt; c0[c] = -inv * A[gi] / cnt;
      }
      if (!cl) {
        for (let c = 0; c < C; c++) {
          const o = (n * C + c) * S, m = mu[c], kk = k[c], a = c1[c], b = c0[c];
          for (let j = 0; j < S; j++) dx[o + j] = dy[o + j] * kk + (x[o + j] - m) * a + b;
        }
      } else {
        for (let r = 0, i = n * S * C; r < S; r++) for (let c = 0; c < C; c++, i++) dx[i] = dy[i] * k[c] + (x[i] - mu[c]) * c1[c] + c0[c];
      }
    }
    dgamma.set(dg); dbeta.set(db);
    return { dx, dgamma, dbeta };
  };
}

/**
 * Layer norm over C per (n, s). Channels-first walks rows of S with per-position accumulators.
 * Also returns mean and invstd per (n, s).
 */
function makeLayerNorm(g) {
  const { N, C, S, cl } = g;
  const y = new Float32Array(g.size), mean = new Float64Array(N * S), invstd = new Float64Array(N * S);
  return (inp) => {
    const { x, gamma, beta, eps } = inp;
    if (!cl) {
      for (let n = 0; n < N; n++) {
        const base = n * C * S, m = mean.subarray(n * S, (n + 1) * S), acc = invstd.subarray(n * S, (n + 1) * S);
        m.fill(0);
        for (let c = 0; c < C; c++) { const o = base + c * S; for (let j = 0; j < S; j++) m[j] += x[o + j]; }
        for (let j = 0; j < S; j++) m[j] /= C;
        acc.fill(0);
        for (let c = 0; c < C; c++) { const o = base + c * S; for (let j = 0; j < S; j++) { const d = x[o + j] - m[j]; acc[j] += d * d; } }
        for (let j = 0; j < S; j++) acc[j] = 1 / Math.sqrt(acc[j] / C + eps);
        for (let c = 0; c < C; c++) {
          const o = base + c * S, G = gamma[c], B = beta[c];
          for (let j = 0; j < S; j++) y[o + j] = (x[o + j] - m[j]) * acc[j] * G + B;
        }
      }
    } else {
      const rows = N * S;
      for (let r = 0; r < rows; r++) {
        const o = r * C; let s = 0;
        for (let c = 0; c < C; c++) s += x[o + c];
        const mu = s / C; let q = 0;
        for (let c = 0; c < C; c++) { const d = x[o + c] - mu; q += d * d; }
        const is = 1 / Math.sqrt(q / C + eps);
        mean[r] = mu; invstd[r] = is;
        for (let c = 0; c < C; c++) y[o + c] = (x[o + c] - mu) * is * gamma[c] + beta[c];
      }
    }
    return { y, mean, invstd };
  };
}

/** Layer norm backward: per (n, s) Σγdy, Σγdy·(x − μ); per channel Σdy, Σdy·x̂; then dx. */
function makeLayerNormBackward(g) {
  const { N, C, S, cl } = g;
  const dx = new Float32Array(g.size), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
  const dg = new Float64Array(C), db = new Float64Array(C), A = new Float64Array(S), B = new Float64Array(S);
  return (inp) => {
    const { x, dy, gamma, mean, invstd } = inp;
    dg.fill(0); db.fill(0);
    if (cl) {
      for (let r = 0; r < N * S; r++) {
        const o = r * C, m = mean[r], inv = invstd[r]; let a = 0, b = 0;
        for (let c = 0; c < C; c++) {
          const d = dy[o + c], xm = x[o + c] - m, gd = d * gamma[c];
          a += gd; b += gd * xm; db[c] += d; dg[c] += d * xm * inv;
        }
        const c1 = -inv * inv * inv * b / C, c0 = -inv * a / C;
        for (let c = 0; c < C; c++) dx[o + c] = dy[o + c] * gamma[c] * inv + (x[o + c] - m) * c1 + c0;
      }
    } else {
      for (let n = 0; n < N; n++) {
        const base = n * C * S, ms = n * S;
        A.fill(0); B.fill(0);
        for (let c = 0; c < C; c++) {
          const o = base + c * S, gm = gamma[c]; let sd = 0, sg = 0;
          for (let j = 0; j < S; j++) {
            const d = dy[o + j], xm = x[o + j] - mean[ms + j];
            A[j] += gm * d; B[j] += gm * d * xm; sd += d; sg += d * xm * invstd[ms + j];
          }
          db[c] += sd; dg[c] += sg;
        }
        for (let j = 0; j < S; j++) { const inv = invstd[ms + j]; B[j] = -inv * inv * inv * B[j] / C; A[j] = -inv * A[j] / C; }
        for (let c = 0; c < C; c++) {
          const o = base + c * S, gm = gamma[c];
          for (let j = 0; j < S; j++) dx[o + j] = dy[o + j] * gm * invstd[ms + j] + (x[o + j] - mean[ms + j]) * B[j] + A[j];
        }
      }
    }
    dgamma.set(dg); dbeta.set(db);
    return { dx, dgamma, dbeta };
  };
}

const FACTORIES = {
  stats: makeStats,
  bn_train: makeBnTrain,
  bn_infer: makeBnInfer,
  bn_backward: makeBnBackward,
  instance_norm: (g) => makeGroupNorm(g, () => g.C),
  group_norm: (g) => makeGroupNorm(g, (inp) => inp.groups),
  layer_norm: makeLayerNorm,
};

/**
 * The plain-JS ops by name, for bench/family.mjs: each factory takes a geometry and returns
 * run(inputs) → outputs (arrays reused across calls). The *_backward ones take the forward's
 * mean and invstd among their inputs.
 */
export const JS_OPS = {
  ...FACTORIES,
  instance_norm_backward: (g) => makeGroupNormBackward(g, () => g.C),
  group_norm_backward: (g) => makeGroupNormBackward(g, (inp) => inp.groups),
  layer_norm_backward: makeLayerNormBackward,
};

/** The plain-JS peer. Synchronous; run() returns the (reused) output arrays. */
export function createJs() {
  return {
    name: 'js',
    supports(op, shape, layout) {
      if (!OPS.includes(op)) return `unknown op ${op}`;
      geometry(shape, layout);
      return true;
    },
    async prepare(op, shape, layout, inputs) {
      const f = FACTORIES[op](geometry(shape, layout));
      return () => f(inputs);
    },
    async output(op, shape, layout, inputs) {
      const out = FACTORIES[op](geometry(shape, layout))(inputs);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Float32Array.from(v)]));
    },
    dispose() {},
  };
}
