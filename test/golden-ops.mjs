// How each golden op (test/golden/FORMAT.md) maps onto the public API. One entry per op; a case
// whose op is missing here fails (golden.test.mjs) and is reported by the conformance runner as
// "unsupported op <op>".
// run(api, c) gets decoded inputs (Float32Array) and returns { name: Float32Array | number[] }.

const f32 = (a) => (a instanceof Float32Array ? a : Float32Array.from(a));

function splitN(x, shape, sizes) {
  const per = x.length / shape[0];
  let n0 = 0;
  return sizes.map((n) => { const part = x.subarray(n0 * per, (n0 + n) * per); n0 += n; return { x: part, shape: [n, ...shape.slice(1)] }; });
}

export const GOLDEN_OPS = {
  channel_stats(api, c) {
    const { x } = c.inputs;
    const geo = { shape: c.shape, layout: c.layout };
    if (c.params.chunks) {
      const acc = new api.StatsAccumulator(geoChannels(c));
      for (const part of splitN(x, c.shape, c.params.chunks)) acc.update(part.x, { shape: part.shape, layout: c.layout });
      const r = acc.result();
      return { mean: r.mean, var: r.var };
    }
    if (c.params.shards) {
      const parts = splitN(x, c.shape, c.params.shards).map((p) => api.partialStats(p.x, { shape: p.shape, layout: c.layout }));
      const merged = parts.reduce((a, b) => api.mergePartials(a, b));
      const r = api.finishStats(merged);
      return { mean: r.mean, var: r.var };
    }
    const r = api.channelStats(x, geo);
    return { mean: r.mean, var: r.var };
  },

  batch_norm_train(api, c) {
    const p = c.params, I = c.inputs;
    const running = { runningMean: I.running_mean ? f32(I.running_mean).slice() : undefined, runningVar: I.running_var ? f32(I.running_var).slice() : undefined };
    const common = {
      layout: c.layout, gamma: p.affine === false ? undefined : I.gamma, beta: p.affine === false ? undefined : I.beta,
      eps: p.eps, momentum: p.momentum, convention: p.convention, numBatchesTracked: p.num_batches_tracked, activation: p.activation,
    };
    let out;
    if (p.shards) {
      // Synchronized BN in-process: partial stats per shard → merge → every shard normalizes
      // with the global statistics; backward all-reduces (Σdy, Σdy·(x−mean)).
      const xs = splitN(I.x, c.shape, p.shards), dys = I.dy ? splitN(I.dy, c.shape, p.shards) : null;
      const parts = xs.map((s) => api.partialStats(s.x, { shape: s.shape, layout: c.layout }));
      const global = parts.reduce((a, b) => api.mergePartials(a.slice(), b));
      const ys = [];
      let first;
      xs.forEach((s, i) => {
        const r = api.batchNormTrain(s.x, { ...common, shape: s.shape, globalStats: global, ...(i === 0 ? running : {}) });
        ys.push(r.y); if (i === 0) first = r;
      });
      out = { y: concat(ys), running_mean: running.runningMean, running_var: running.runningVar, save_mean: first.saveMean, save_invstd: first.saveInvstd };
      if (dys) {
        const sums = xs.map((s, i) => api.backwardPartials(s.x, dys[i].x, { shape: s.shape, layout: c.layout, saveMean: first.saveMean }));
        const total = sums.reduce((a, b) => a.map((v, j) => v + b[j]));
        const count = global[0];
        const bw = xs.map((s, i) => api.batchNormBackward(s.x, dys[i].x, { shape: s.shape, layout: c.layout, gamma: common.gamma, saveMean: first.saveMean, saveInvstd: first.saveInvstd, globalSums: total, count }));
        out.dx = concat(bw.map((b) => b.dx));
        out.dgamma = bw.map((b) => b.dgamma).reduce((a, b) => a.map((v, j) => v + b[j]));
        out.dbeta = bw.map((b) => b.dbeta).reduce((a, b) => a.map((v, j) => v + b[j]));
      }
      return out;
    }
    const r = api.batchNormTrain(I.x, { ...common, shape: c.shape, ...running });
    out = { y: r.y, running_mean: running.runningMean, running_var: running.runningVar, save_mean: r.saveMean, save_invstd: r.saveInvstd };
    if (I.dy) {
      const b = api.batchNormBackward(I.x, I.dy, { shape: c.shape, layout: c.layout, gamma: common.gamma, beta: common.beta, activation: p.activation, saveMean: r.saveMean, saveInvstd: r.saveInvstd });
      Object.assign(out, { dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta });
    }
    return out;
  },

  batch_norm_infer(api, c) {
    const I = c.inputs;
    return { y: api.batchNormInfer(I.x, { shape: c.shape, layout: c.layout, gamma: I.gamma, beta: I.beta, runningMean: I.running_mean, runningVar: I.running_var, eps: c.params.eps, activation: c.params.activation }) };
  },

  batch_norm_backward(api, c) {
    const I = c.inputs;
    const r = api.batchNormBackward(I.x, I.dy, { shape: c.shape, layout: c.layout, gamma: I.gamma, saveMean: I.save_mean, saveInvstd: I.save_invstd });
    return { dx: r.dx, dgamma: r.dgamma, dbeta: r.dbeta };
  },

  fold_bn(api, c) {
    const I = c.inputs;
    return api.foldBatchNorm(I.weight, {
      weightLayout: c.params.weight_layout ?? c.layout, shape: c.shape, bias: I.bias, gamma: I.gamma, beta: I.beta,
      runningMean: I.running_mean, runningVar: I.running_var, eps: c.params.eps,
    });
  },

  instance_norm: (api, c) => familyCase(api, c, api.instanceNorm, api.instanceNormBackward),
  group_norm: (api, c) => familyCase(api, c, api.groupNorm, api.groupNormBackward),
  layer_norm: (api, c) => familyCase(api, c, api.layerNorm, api.layerNormBackward),

  rms_norm(api, c) {
    const I = c.inputs, p = c.params;
    const o = { shape: c.shape, layout: c.layout, gamma: I.gamma, unitOffset: p.unit_offset, activation: p.activation };
    const r = api.rmsNorm(I.x, { ...o, eps: p.eps });
    if (!I.dy) return { y: r.y };
    const b = api.rmsNormBackward(I.x, I.dy, { ...o, invRms: r.invRms });
    return { y: r.y, dx: b.dx, dgamma: b.dgamma };
  },

  skip_layer_norm: (api, c) => skipCase(api, c, false),
  skip_rms_norm: (api, c) => skipCase(api, c, true),
};

/** Instance / group / layer norm: forward, then (when dy is given) backward from its statistics. */
function familyCase(api, c, forward, backward) {
  const I = c.inputs, geo = { shape: c.shape, layout: c.layout, groups: c.params.groups, activation: c.params.activation };
  const r = forward(I.x, { ...geo, gamma: I.gamma, beta: I.beta, eps: c.params.eps });
  if (!I.dy) return { y: r.y };
  const b = backward(I.x, I.dy, { ...geo, gamma: I.gamma, beta: I.beta, mean: r.mean, invstd: r.invstd });
  return { y: r.y, dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta };
}

/** Skip layer / RMS norm: forward (sum and y), then the backward from sum, dy and dsum. */
function skipCase(api, c, rms) {
  const I = c.inputs, p = c.params;
  const o = { shape: c.shape, layout: c.layout, gamma: I.gamma, beta: I.beta, bias: I.bias, unitOffset: p.unit_offset, activation: p.activation };
  const r = (rms ? api.skipRmsNorm : api.skipLayerNorm)(I.x, I.skip, { ...o, eps: p.eps });
  if (!I.dy) return { y: r.y, sum: r.sum };
  const stats = rms ? { invRms: r.invRms } : { mean: r.mean, invstd: r.invstd };
  const b = (rms ? api.skipRmsNormBackward : api.skipLayerNormBackward)(r.sum, I.dy, { ...o, ...stats, dsum: I.dsum });
  return { y: r.y, sum: r.sum, dx: b.dx, dgamma: b.dgamma, dbeta: b.dbeta, dbias: b.dbias };
}

function geoChannels(c) {
  const cl = ["NLC", "NHWC", "NDHWC"].includes(c.layout);
  return cl ? c.shape[c.shape.length - 1] : c.shape[1];
}

function concat(arrs) {
  const n = arrs.reduce((a, b) => a + b.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const a of arrs) { out.set(a, o); o += a.length; }
  return out;
}
