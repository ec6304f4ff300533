// onnxruntime peers: onnxruntime-web (wasm backend, one thread) and onnxruntime-node (native
// CPU execution provider, intra-op threads 1). Every op is a small ONNX model built in code at
// start-up with onnx-builder.mjs; sessions are cached per (op, shape, layout, attributes).
//
// Formulations (one ONNX op where one exists for the op and layout; ONNX ops are channels-first):
//   stats            graph: ReduceMean → Sub → Mul → ReduceMean (two-pass). No single op returns
//                    batch statistics without also writing y.
//   bn_train  cf     BatchNormalization training_mode=1, momentum=0: with momentum 0 its
//                    running_mean/running_var outputs are exactly the batch mean and biased
//                    batch variance (opset 15 dropped the saved_mean/saved_var outputs), and
//                    y uses batch statistics. The PyTorch-convention running statistics
//                    (momentum 0.1 on the new batch, unbiased variance) are then C-sized Mul/Add.
//   bn_infer  cf     BatchNormalization training_mode=0.
//   bn_backward      graph of basic ops from saved statistics (ONNX has no BN gradient op in
//                    the default domain): ReduceSum(dy), ReduceSum(dy·x̂), then
//                    dx = gamma·invstd·(dy − Σdy/m − x̂·Σdy·x̂/m) in the (x − mean) form.
//   instance_norm cf InstanceNormalization (rank ≥ 3 only: (N, C) is reshaped to (N, C, 1)
//                    in-graph, where each statistic covers a single value and y = beta).
//   group_norm cf    GroupNormalization-21 (per-channel scale/bias; -18 had per-group ones).
//   layer_norm cl    LayerNormalization(axis = −1) with per-channel scale/bias.
//   The other layout of each op has no single op: either Transpose → op → Transpose or a graph
//   of basic ops (ReduceMean/Sub/Mul/Sqrt/Reciprocal + broadcast affine). VARIANT says which
//   one each uses; it is the faster of the two measured on the benchmark shapes.
//
// Timed run() includes: session.run on ort.Tensor inputs created once in prepare(). For
// onnxruntime-node the binding builds its OrtValues over the Float32Arrays' memory (no copy,
// per its tensor_helper.cc) and outputs are written into tensors pre-allocated in prepare()
// (fetches), so the call is compute plus binding overhead — which includes one setImmediate
// hop, since the node backend defers every synchronous native run to the next macrotask. For onnxruntime-web (wasm) every run copies each input into the wasm heap
// and every output back out to a new Float32Array: its public API has no way to keep CPU
// tensors resident, so that copy is part of what using it costs and is included.
import { geometry, baseSupport } from './common.mjs';
import { GraphBuilder, valueInfo } from './onnx-builder.mjs';

/**
 * Which formulation an op uses in the layout that has no native ONNX op, per runtime: the
 * faster of 'graph' and 'transpose' in medians of 21 runs on (8,56,56,64) NHWC and
 * (8,64,56,56) NCHW (2-core machine; ties within noise went to the graph, which moves fewer
 * bytes). Group norm's graph reduces over two non-adjacent axes of [N, S, G, C/G], which
 * both runtimes do slowly (4–5× the transposed GroupNormalization).
 */
export const VARIANT = {
  node: {
    cl: { bn_train: 'transpose', bn_infer: 'graph', instance_norm: 'transpose', group_norm: 'transpose' },
    cf: { layer_norm: 'graph' },
  },
  web: {
    cl: { bn_train: 'graph', bn_infer: 'graph', instance_norm: 'graph', group_norm: 'transpose' },
    cf: { layer_norm: 'graph' },
  },
};

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

/**
 * Builds the model for (op, shape, layout). Returns { bytes, feeds: [[inputName, key, dims]],
 * outputs: [[graphOutput, key]] } where key names the entry of the inputs / outputs object.
 */
export function buildModel(op, shape, layout, { eps, momentum, groups }, variant = VARIANT.web) {
  const g = geometry(shape, layout), r = shape.length, { C } = g;
  const ca = g.cl ? r - 1 : 1;
  const allButC = range(0, r).filter((i) => i !== ca);
  const bshape = shape.map((d, i) => (i === ca ? d : 1)); // length-C vector broadcast along C
  const b = new GraphBuilder();
  const feeds = [['x', 'x', shape]], outputs = [];
  const inputs = [valueInfo('x', shape)];
  const param = (key, dims = [C]) => { inputs.push(valueInfo(key, dims)); feeds.push([key, key, dims]); return key; };
  const out = (value, key, name = key) => { b.output(value, name); outputs.push([name, key]); };
  const toCf = [0, r - 1, ...range(1, r - 1)], fromCf = [0, ...range(2, r), 1];
  const nativeOrTranspose = (v) => (v === 'transpose');
  let epsName; // created on first use: ORT warns about unused initializers
  const eps_ = () => (epsName ??= b.f32([eps], []));

  /** mean, d = x − mean, var and (on demand) invstd over `axes` (keepdims), two-pass. */
  const moments = (x, axes) => {
    const ax = b.i64(axes);
    const mean = b.op('ReduceMean', [x, ax], { keepdims: 1 });
    const d = b.op('Sub', [x, mean]);
    const v = b.op('ReduceMean', [b.op('Mul', [d, d]), ax], { keepdims: 1 });
    const invstd = () => b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [v, eps_()])])]);
    return { mean, d, v, invstd };
  };
  /** Wraps a channels-first single-op in Transpose nodes for channels-last input. */
  const viaTranspose = (opType, ins, attrs) => {
    const xt = b.op('Transpose', ['x'], { perm: toCf });
    const y = b.op(opType, [xt, ...ins], attrs);
    return b.op('Transpose', [y], { perm: fromCf });
  };

  switch (op) {
    case 'stats': {
      const { mean, v } = moments('x', allButC);
      // invstd is unused here; ORT prunes it. Var is the biased (population) variance.
      out(mean, 'mean'); out(v, 'var');
      break;
    }
    case 'bn_infer': {
      const ps = ['gamma', 'beta', 'runningMean', 'runningVar'].map((k) => param(k));
      if (!g.cl) out(b.op('BatchNormalization', ['x', ...ps], { epsilon: { float: eps }, training_mode: 0 }), 'y');
      else if (nativeOrTranspose(variant.cl.bn_infer)) out(viaTranspose('BatchNormalization', ps, { epsilon: { float: eps }, training_mode: 0 }), 'y');
      else {
        const scale = b.op('Div', ['gamma', b.op('Sqrt', [b.op('Add', ['runningVar', eps_()])])]);
        const shift = b.op('Sub', ['beta', b.op('Mul', ['runningMean', scale])]);
        out(b.op('Add', [b.op('Mul', ['x', scale]), shift]), 'y');
      }
      break;
    }
    case 'bn_train': {
      const ps = ['gamma', 'beta', 'runningMean', 'runningVar'].map((k) => param(k));
      const m = g.N * g.S;
      let y, mean, v;
      if (!g.cl || nativeOrTranspose(variant.cl.bn_train)) {
        const attrs = { epsilon: { float: eps }, momentum: { float: 0 }, training_mode: 1 };
        if (!g.cl) [y, mean, v] = b.op('BatchNormalization', ['x', ...ps], attrs, 3);
        else {
          const xt = b.op('Transpose', ['x'], { perm: toCf });
          let yt; [yt, mean, v] = b.op('BatchNormalization', [xt, ...ps], attrs, 3);
          y = b.op('Transpose', [yt], { perm: fromCf });
        }
      } else {
        const ax = b.i64(allButC);
        const mk = b.op('ReduceMean', ['x', ax], { keepdims: 1 });
        const d = b.op('Sub', ['x', mk]);
        const vk = b.op('ReduceMean', [b.op('Mul', [d, d]), ax], { keepdims: 1 });
        const shapeC = b.i64([C]);
        mean = b.op('Reshape', [mk, shapeC]); v = b.op('Reshape', [vk, shapeC]);
        const scale = b.op('Div', ['gamma', b.op('Sqrt', [b.op('Add', [v, eps_()])])]);
        // y = d·scale + beta reuses the centred values instead of x·scale + (beta − mean·scale):
        // one Mul + one Add either way, and d is already materialized.
        y = b.op('Add', [b.op('Mul', [d, scale]), 'beta']);
      }
      out(y, 'y'); out(mean, 'saveMean'); out(v, 'saveVar');
      // PyTorch convention running statistics (C-sized).
      const keep = b.f32([1 - momentum], []), wNew = b.f32([momentum], []), wVar = b.f32([momentum * m / (m - 1)], []);
      out(b.op('Add', [b.op('Mul', ['runningMean', keep]), b.op('Mul', [mean, wNew])]), 'runningMean', 'runningMeanOut');
      out(b.op('Add', [b.op('Mul', ['runningVar', keep]), b.op('Mul', [v, wVar])]), 'runningVar', 'runningVarOut');
      break;
    }
    case 'bn_backward': {
      param('dy', shape); feeds[feeds.length - 1][1] = 'dy';
      const gamma = param('gamma', bshape), mean = param('saveMean', bshape), invstd = param('saveInvstd', bshape);
      const m = g.N * g.S, ax = b.i64(allButC), invM = b.f32([1 / m], []);
      const xhat = b.op('Mul', [b.op('Sub', ['x', mean]), invstd]);
      const sdy = b.op('ReduceSum', ['dy', ax], { keepdims: 1 });
      const sdyx = b.op('ReduceSum', [b.op('Mul', ['dy', xhat]), ax], { keepdims: 1 });
      const a = b.op('Mul', [sdy, invM]), bb = b.op('Mul', [sdyx, invM]);
      const k = b.op('Mul', [gamma, invstd]);
      const inner = b.op('Sub', [b.op('Sub', ['dy', a]), b.op('Mul', [xhat, bb])]);
      out(b.op('Mul', [inner, k]), 'dx'); out(sdyx, 'dgamma'); out(sdy, 'dbeta');
      break;
    }
    case 'instance_norm': {
      const ps = ['gamma', 'beta'].map((k) => param(k));
      if (!g.cl && r === 2) {
        // (N, C) has no spatial axes and InstanceNormalization rejects rank 2: view it as
        // (N, C, 1) (each statistic covers one value, so y = beta — degenerate but defined).
        const x3 = b.op('Reshape', ['x', b.i64([g.N, C, 1])]);
        const y3 = b.op('InstanceNormalization', [x3, ...ps], { epsilon: { float: eps } });
        out(b.op('Reshape', [y3, b.i64(shape)]), 'y');
      } else if (!g.cl) out(b.op('InstanceNormalization', ['x', ...ps], { epsilon: { float: eps } }), 'y');
      else if (nativeOrTranspose(variant.cl.instance_norm)) out(viaTranspose('InstanceNormalization', ps, { epsilon: { float: eps } }), 'y');
      else {
        const { d, invstd } = moments('x', range(1, r - 1));
        out(b.op('Add', [b.op('Mul', [b.op('Mul', [d, invstd()]), 'gamma']), 'beta']), 'y');
      }
      break;
    }
    case 'group_norm': {
      const ps = ['gamma', 'beta'].map((k) => param(k));
      const attrs = { epsilon: { float: eps }, num_groups: groups };
      if (!g.cl) out(b.op('GroupNormalization', ['x', ...ps], attrs), 'y');
      else if (nativeOrTranspose(variant.cl.group_norm)) out(viaTranspose('GroupNormalization', ps, attrs), 'y');
      else {
        // [N, S, G, C/G]: statistics over S and C/G, then back to the stored shape for the
        // per-channel affine (which broadcasts along the last axis).
        const xs = b.op('Reshape', ['x', b.i64([g.N, g.S, groups, C / groups])]);
        const { d, invstd } = moments(xs, [1, 3]);
        const xhat = b.op('Reshape', [b.op('Mul', [d, invstd()]), b.i64(shape)]);
        out(b.op('Add', [b.op('Mul', [xhat, 'gamma']), 'beta']), 'y');
      }
      break;
    }
    case 'layer_norm': {
      if (g.cl) {
        const ps = ['gamma', 'beta'].map((k) => param(k));
        out(b.op('LayerNormalization', ['x', ...ps], { axis: -1, epsilon: { float: eps } }), 'y');
      } else if (nativeOrTranspose(variant.cf.layer_norm)) {
        const ps = ['gamma', 'beta'].map((k) => param(k));
        const xt = b.op('Transpose', ['x'], { perm: fromCf });
        const y = b.op('LayerNormalization', [xt, ...ps], { axis: -1, epsilon: { float: eps } });
        out(b.op('Transpose', [y], { perm: toCf }), 'y');
      } else {
        param('gamma', bshape); param('beta', bshape);
        const { d, invstd } = moments('x', [1]);
        out(b.op('Add', [b.op('Mul', [b.op('Mul', [d, invstd()]), 'gamma']), 'beta']), 'y');
      }
      break;
    }
    default: throw new Error(`unknown op ${op}`);
  }
  return { bytes: b.build({ inputs, opset: 21 }), feeds, outputs };
}

/**
 * @param {'web'|'node'} kind
 * @param {{ variant?: typeof VARIANT.web }} [options] override the per-op formulation choice
 * @returns {Promise<object>} adapter (see common.mjs); name 'ort-web' or 'ort-node'
 */
export async function createOrt(kind = 'web', { variant } = {}) {
  let ort, sessionOptions;
  if (kind === 'web') {
    ort = await import('onnxruntime-web');
    // One thread (no proxy worker); in Node it loads ort-wasm-simd-threaded.{mjs,wasm} from its dist/.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    sessionOptions = { executionProviders: ['wasm'], logSeverityLevel: 3, graphOptimizationLevel: 'all' };
  } else if (kind === 'node') {
    ort = await import('onnxruntime-node');
    sessionOptions = { executionProviders: ['cpu'], logSeverityLevel: 3, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  } else throw new Error(`ort kind must be 'web' or 'node', got ${kind}`);
  variant ??= VARIANT[kind];
  ort.env.logLevel = 'error';

  const sessions = new Map();
  async function session(op, shape, layout, inputs) {
    const key = JSON.stringify([op, shape, layout, inputs.eps, inputs.momentum, inputs.groups]);
    let s = sessions.get(key);
    if (!s) {
      const model = buildModel(op, shape, layout, inputs, variant);
      s = { model, session: await ort.InferenceSession.create(model.bytes, sessionOptions) };
      sessions.set(key, s);
    }
    return s;
  }
  const makeFeeds = (model, inputs) => Object.fromEntries(model.feeds.map(([name, key, dims]) => [name, new ort.Tensor('float32', inputs[key], dims)]));

  return {
    name: `ort-${kind}`,
    ort,
    supports: baseSupport,
    async prepare(op, shape, layout, inputs) {
      const { model, session: sess } = await session(op, shape, layout, inputs);
      const feeds = makeFeeds(model, inputs);
      if (kind === 'node') {
        // Pre-allocated outputs: the first run learns their shapes, later runs write in place.
        const first = await sess.run(feeds);
        const fetches = Object.fromEntries(model.outputs.map(([name]) => [name, new ort.Tensor('float32', new Float32Array(first[name].data.length), first[name].dims)]));
        const run = () => sess.run(feeds, fetches);
        run.dispose = () => {};
        return run;
      }
      const run = () => sess.run(feeds);
      run.dispose = () => {};
      return run;
    },
    async output(op, shape, layout, inputs) {
      const { model, session: sess } = await session(op, shape, layout, inputs);
      const res = await sess.run(makeFeeds(model, inputs));
      return Object.fromEntries(model.outputs.map(([name, key]) => [key, Float32Array.from(res[name].data)]));
    },
    async dispose() {
      for (const s of sessions.values()) await s.session.release?.();
      sessions.clear();
    },
  };
}
