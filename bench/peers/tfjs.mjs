// TensorFlow.js peers: @tensorflow/tfjs on the wasm backend (@tensorflow/tfjs-backend-wasm,
// XNNPACK + SIMD, single thread) and on the pure-JS cpu backend.
//
// Formulations (the fastest *correct* one measured per backend, all on (8,64,56,56)):
// - Statistics: tf.moments over every axis but C (two-pass: mean, then mean of squared
//   deviations). No faster correct alternative: E[x²]−E[x]² is faster to write but cancels at
//   large offsets.
// - Per-channel normalize y = x·scale[c] + shift[c], with scale = gamma·invstd and
//   shift = beta − mean·scale computed on C-sized tensors first:
//     wasm: broadcast mul + add (XNNPACK's broadcasting binary ops; ~1 ms for the NCHW
//       inference vs ~8 ms for tf.batchNorm even where batchNorm is correct).
//     cpu: tf.batchNorm with mean 0, variance 1, epsilon 0 and scale/shift as offset/scale:
//       the cpu backend's broadcasting mul/add runs a generic index-mapping loop (~370 ms),
//       while its batchNorm kernel cycles its parameters (~15–30 ms). tf.batchNorm applies
//       parameters along the LAST axis (param[i mod len]), so for channels-first layouts the
//       scale/shift are tiled to [C, ...spatial] first — a C·S-periodic pattern that is correct
//       for every sample n.
// - tf.batchNorm on its own (running stats as mean/variance) is only correct channels-last and
//   is never the fastest here, so it is not used directly.
// - Backward: tf.grads of the training forward above with respect to (x, gamma, beta), with dy
//   as the upstream gradient. The forward under tf.grads always uses broadcast mul + add: the
//   gradient of tf.batchNorm (FusedBatchNorm) in tfjs 4.22 throws when its parameters have
//   different lengths or ranks than the mean (shape asserts / bad reshape in derScale), so
//   the cpu trick above cannot be differentiated. Autograd recomputes the batch statistics from x, so the saved
//   saveMean/saveInvstd inputs are unused (they equal what tfjs recomputes); that recompute is
//   part of what "tfjs backward" costs.
// - Instance/group/layer norm: tf.moments over the statistic's axes (group norm reshapes to
//   [N, G, Cg·S] or [N, S, G, Cg]), then the same affine with per-(n, c) scale/shift; layer norm
//   normalizes with (x − mean)·invstd and then applies the per-channel affine.
//
// Timed run() includes: every kernel of the op on input tensors created once in prepare()
// (resident in backend memory: wasm heap or JS arrays), allocation of the output tensors, and
// their disposal (tf.tidy). Not included: uploading inputs, reading outputs back (dataSync).
// Both backends execute synchronously, so the work is finished when run() returns.
import { geometry, channelAxis, baseSupport } from './common.mjs';

let tfPromise;
async function loadTf() {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    return { tf, wasm };
  })();
  return tfPromise;
}

/**
 * @param {'wasm'|'cpu'} backend
 * @returns {Promise<object>} adapter (see common.mjs); name 'tfjs-wasm' or 'tfjs-cpu'
 */
export async function createTfjs(backend = 'wasm') {
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`tfjs backend must be 'wasm' or 'cpu', got ${backend}`);
  const { tf, wasm } = await loadTf();
  if (backend === 'wasm') {
    // In Node the backend finds its .wasm next to its own file; single-threaded because
    // Node has no cross-origin-isolated Worker path (WASM_HAS_MULTITHREAD_SUPPORT is false), so
    // it loads tfjs-backend-wasm-simd.wasm. setThreadsCount(1) pins it should that change.
    wasm.setThreadsCount?.(1);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialize`);
  // The cpu backend prints a "use tfjs-node" banner on first use; it is noise in a bench log.
  if (backend === 'cpu') tf.backend().firstUse = false;
  // The tf engine has one active backend; switching is synchronous once both are initialized,
  // so each call re-selects ours (cheap when already active).
  const use = () => { if (tf.getBackend() !== backend) tf.setBackend(backend); };

  const formulas = makeFormulas(tf, backend);

  function upload(op, shape, layout, inputs) {
    use();
    const g = geometry(shape, layout);
    const t = { x: tf.tensor(inputs.x, shape, 'float32') };
    for (const k of ['gamma', 'beta', 'runningMean', 'runningVar', 'saveMean', 'saveInvstd']) {
      if (inputs[k]) t[k] = tf.tensor1d(inputs[k], 'float32');
    }
    if (op === 'bn_backward') t.dy = tf.tensor(inputs.dy, shape, 'float32');
    const ctx = { shape, layout, g, ca: channelAxis(shape, layout), eps: inputs.eps, momentum: inputs.momentum, groups: inputs.groups };
    return { t, ctx };
  }

  return {
    name: `tfjs-${backend}`,
    tf,
    supports: baseSupport,
    async prepare(op, shape, layout, inputs) {
      const { t, ctx } = upload(op, shape, layout, inputs);
      const f = formulas[op];
      const run = () => { use(); tf.tidy(() => { f(t, ctx); }); };
      run.dispose = () => tf.dispose(Object.values(t));
      return run;
    },
    async output(op, shape, layout, inputs) {
      const { t, ctx } = upload(op, shape, layout, inputs);
      try {
        const res = tf.tidy(() => formulas[op](t, ctx));
        const out = {};
        for (const [k, v] of Object.entries(res)) out[k] = Float32Array.from(v.dataSync());
        tf.dispose(Object.values(res));
        return out;
      } finally { tf.dispose(Object.values(t)); }
    },
    dispose() {},
  };
}

function makeFormulas(tf, backend) {
  const ones = (r) => new Array(r).fill(1);
  /** Shape that broadcasts a length-C vector along the channel axis. */
  const bshape = (ctx) => { const s = ones(ctx.shape.length); s[ctx.ca] = ctx.g.C; return s; };
  const allButC = (ctx) => ctx.shape.map((_, i) => i).filter((i) => i !== ctx.ca);

  /** y = x·scale[c] + shift[c] for length-C scale/shift (see header for why per backend). */
  function affine(x, scale, shift, ctx, forGrads = false) {
    if (backend === 'wasm' || forGrads) return x.mul(scale.reshape(bshape(ctx))).add(shift.reshape(bshape(ctx)));
    let sc = scale, sh = shift, rank = 1;
    if (!ctx.g.cl && ctx.g.S > 1) {
      const spatial = ctx.shape.slice(2);
      const pshape = [ctx.g.C, ...ones(spatial.length)], reps = [1, ...spatial];
      sc = scale.reshape(pshape).tile(reps); sh = shift.reshape(pshape).tile(reps); rank = pshape.length;
    }
    // mean 0, variance 1, epsilon 0: batchNorm reduces to offset + x·scale exactly.
    return tf.batchNorm(x, tf.zeros(ones(rank)), tf.ones(ones(rank)), sh, sc, 0);
  }

  /** Training forward on tensors (used by bn_train and, under tf.grads, bn_backward). */
  function trainForward(x, gamma, beta, ctx, forGrads = false) {
    const { mean, variance } = tf.moments(x, allButC(ctx));
    const invstd = variance.add(ctx.eps).rsqrt();
    const scale = gamma.mul(invstd);
    const shift = beta.sub(mean.mul(scale));
    return { y: affine(x, scale, shift, ctx, forGrads), mean, variance, invstd };
  }

  /** Affine with per-(n, c) scale/shift tensors already shaped to broadcast against x. */
  const affineNC = (x, scale, shift) => x.mul(scale).add(shift);

  return {
    stats(t, ctx) {
      const { mean, variance } = tf.moments(t.x, allButC(ctx));
      return { mean, var: variance };
    },
    bn_train(t, ctx) {
      const f = trainForward(t.x, t.gamma, t.beta, ctx);
      const m = ctx.g.N * ctx.g.S, w = ctx.momentum;
      // PyTorch convention: momentum weighs the new batch; running variance is unbiased.
      const runningMean = t.runningMean.mul(1 - w).add(f.mean.mul(w));
      const runningVar = t.runningVar.mul(1 - w).add(f.variance.mul(w * m / (m - 1)));
      return { y: f.y, saveMean: f.mean, saveInvstd: f.invstd, runningMean, runningVar };
    },
    bn_infer(t, ctx) {
      const scale = t.gamma.mul(t.runningVar.add(ctx.eps).rsqrt());
      const shift = t.beta.sub(t.runningMean.mul(scale));
      return { y: affine(t.x, scale, shift, ctx) };
    },
    bn_backward(t, ctx) {
      const [dx, dgamma, dbeta] = tf.grads((x, gamma, beta) => trainForward(x, gamma, beta, ctx, true).y)([t.x, t.gamma, t.beta], t.dy);
      return { dx, dgamma, dbeta };
    },
    instance_norm(t, ctx) {
      const { g, shape } = ctx;
      const axes = g.cl ? shape.slice(1, -1).map((_, i) => i + 1) : shape.slice(2).map((_, i) => i + 2);
      const { mean, variance } = tf.moments(t.x, axes, true); // [N, C, 1…] or [N, 1…, C]
      const scale = t.gamma.reshape(bshape(ctx)).mul(variance.add(ctx.eps).rsqrt());
      const shift = t.beta.reshape(bshape(ctx)).sub(mean.mul(scale));
      return { y: affineNC(t.x, scale, shift) };
    },
    group_norm(t, ctx) {
      const { g, shape } = ctx, G = ctx.groups, Cg = g.C / G;
      const xs = g.cl ? t.x.reshape([g.N, g.S, G, Cg]) : t.x.reshape([g.N, G, Cg * g.S]);
      const { mean, variance } = tf.moments(xs, g.cl ? [1, 3] : [2], true); // [N,1,G,1] | [N,G,1]
      const pshape = g.cl ? [1, 1, G, Cg] : [1, G, Cg];
      const scale = t.gamma.reshape(pshape).mul(variance.add(ctx.eps).rsqrt()); // [N,(1,)G,Cg]
      const shift = t.beta.reshape(pshape).sub(mean.mul(scale));
      const nc = ones(shape.length); nc[0] = g.N; nc[ctx.ca] = g.C;
      return { y: affineNC(t.x, scale.reshape(nc), shift.reshape(nc)) };
    },
    layer_norm(t, ctx) {
      const { mean, variance } = tf.moments(t.x, [ctx.ca], true);
      const xhat = t.x.sub(mean).mul(variance.add(ctx.eps).rsqrt());
      return { y: affine(xhat, t.gamma, t.beta, ctx) };
    },
  };
}
