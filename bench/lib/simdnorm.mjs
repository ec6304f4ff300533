// simdnorm as a benchmark system, with the peers' adapter interface (bench/peers/common.mjs):
//
//   'simdnorm'       zero-copy: x, dy and the output are Tensors in wasm memory (sn.tensor),
//                    passed by pointer; `out` is a preallocated Tensor, so a call allocates
//                    nothing big and copies nothing big.
//   'simdnorm-copy'  copy path: x, dy and `out` are plain Float32Arrays outside wasm memory;
//                    every call copies x (and dy) in and the result out (the library does it).
//   'copy-steps'     the same three steps done by hand, as the yardstick of the copy path:
//                    copy x (and dy) into wasm tensors, the zero-copy call, copy the result
//                    out to a plain Float32Array. Timed as one unit, so it has the copy path's
//                    working set (plain in, wasm in, wasm out, plain out); timing the steps
//                    apart would let each run from cache at sizes that fit in L3.
//
// Small parameters (gamma, beta, running statistics, saved statistics: C values) are plain
// Float32Arrays in both modes, as a user would keep them. Timed run() is one public API call.
// bn_train updates its own copies of the running statistics in place (they drift across timed
// calls, which changes no work); output() starts from the inputs' values so the reference
// matches exactly one call.
import * as sn from '../../dist/index.js';
import { geometry, OPS } from '../peers/common.mjs';

/** How many size-n arrays each op copies in and out on the copy path. */
export const COPIES = {
  stats: { in: 1, out: 0 }, bn_train: { in: 1, out: 1 }, bn_infer: { in: 1, out: 1 },
  bn_backward: { in: 2, out: 1 }, instance_norm: { in: 1, out: 1 }, group_norm: { in: 1, out: 1 },
  layer_norm: { in: 1, out: 1 },
};

/**
 * @param {'zero-copy'|'copy'|'steps'} mode
 * @returns {Promise<object>} adapter named 'simdnorm', 'simdnorm-copy' or 'copy-steps'
 */
export async function createSimdnorm(mode = 'zero-copy') {
  await sn.init();
  const copy = mode === 'copy', steps = mode === 'steps';

  /** Binds one op's arguments; call() runs it once, read() returns its outputs, free() releases. */
  function bind(op, shape, layout, inp) {
    const g = geometry(shape, layout);
    const owned = [];
    const T = (values) => { const t = sn.tensor(shape, layout, values); owned.push(t); return t; };
    const x = copy ? inp.x : T(inp.x);
    const dy = op === 'bn_backward' ? (copy ? inp.dy : T(inp.dy)) : undefined;
    const out = op === 'stats' ? undefined : copy ? new Float32Array(g.size) : T();
    const base = { shape, layout, eps: inp.eps };
    const affine = { gamma: inp.gamma, beta: inp.beta };
    const plainOut = steps && out ? new Float32Array(g.size) : undefined;
    const data = () => Float32Array.from(copy ? out : steps ? plainOut : out.data);
    let call, read;
    switch (op) {
      case 'stats': {
        let r;
        call = () => (r = sn.channelStats(x, { shape, layout }));
        read = () => ({ mean: r.mean, var: r.var });
        break;
      }
      case 'bn_train': {
        const runningMean = inp.runningMean.slice(), runningVar = inp.runningVar.slice();
        let r;
        call = () => (r = sn.batchNormTrain(x, { ...base, ...affine, runningMean, runningVar, momentum: inp.momentum, out }));
        read = () => ({ y: data(), saveMean: Float32Array.from(r.saveMean), saveInvstd: Float32Array.from(r.saveInvstd), runningMean, runningVar });
        break;
      }
      case 'bn_infer':
        call = () => sn.batchNormInfer(x, { ...base, ...affine, runningMean: inp.runningMean, runningVar: inp.runningVar, out });
        read = () => ({ y: data() });
        break;
      case 'bn_backward': {
        let r;
        call = () => (r = sn.batchNormBackward(x, dy, { shape, layout, gamma: inp.gamma, saveMean: inp.saveMean, saveInvstd: inp.saveInvstd, out }));
        read = () => ({ dx: data(), dgamma: Float32Array.from(r.dgamma), dbeta: Float32Array.from(r.dbeta) });
        break;
      }
      case 'instance_norm':
        call = () => sn.instanceNorm(x, { ...base, ...affine, out });
        read = () => ({ y: data() });
        break;
      case 'group_norm':
        call = () => sn.groupNorm(x, { ...base, ...affine, groups: inp.groups, out });
        read = () => ({ y: data() });
        break;
      case 'layer_norm':
        call = () => sn.layerNorm(x, { ...base, ...affine, out });
        read = () => ({ y: data() });
        break;
      default: throw new Error(`unknown op ${op}`);
    }
    if (steps) {
      const kernel = call;
      call = () => {
        x.data.set(inp.x);
        if (dy) dy.data.set(inp.dy);
        kernel();
        if (plainOut) plainOut.set(out.data);
      };
    }
    return { call, read, tensors: { x, out }, free: () => { for (const t of owned) t.free(); owned.length = 0; } };
  }

  return {
    name: copy ? 'simdnorm-copy' : steps ? 'copy-steps' : 'simdnorm',
    sn,
    supports(op, shape, layout) {
      if (!OPS.includes(op)) return `unknown op ${op}`;
      const g = geometry(shape, layout);
      if (op === 'instance_norm' && g.S === 1) return 'instance norm needs a spatial axis: simdnorm refuses (N, C) data (each statistic would cover one value)';
      if (op === 'bn_train' && g.N * g.S < 2) return 'one value per channel: unbiased running variance undefined';
      return true;
    },
    async prepare(op, shape, layout, inputs) {
      const b = bind(op, shape, layout, inputs);
      const run = () => { b.call(); };
      run.dispose = b.free;
      // The zero-copy tensors, so the ceiling can copy / read exactly these bytes.
      if (!copy && !steps) run.tensors = b.tensors;
      return run;
    },
    async output(op, shape, layout, inputs) {
      const b = bind(op, shape, layout, inputs);
      try { b.call(); return b.read(); } finally { b.free(); }
    },
    dispose() {},
  };
}
