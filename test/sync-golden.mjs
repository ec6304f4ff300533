// Golden cases with params.shards run on a real WorkerPool: shard i on worker i (the pool has
// one worker per shard). Plain ESM without Node imports: test/sync.test.mjs uses it in Node and
// test/browser/pages/sync.html in Chromium (page and Web Worker alike).
import { compare } from "./reference.mjs";

/** x split along N into shards of the given sizes: [{ x, shape }] (x views, no copies). */
export function splitShards(x, shape, sizes) {
  const per = x.length / shape[0];
  let n0 = 0;
  return sizes.map((n) => {
    const part = x.subarray(n0 * per, (n0 + n) * per);
    n0 += n;
    return { x: part, shape: [n, ...shape.slice(1)] };
  });
}

export function concat(arrs) {
  const plain = arrs.map((a) => (typeof a.toArray === "function" ? a.toArray() : a));
  const out = new Float32Array(plain.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const a of plain) { out.set(a, o); o += a.length; }
  return out;
}

/** Golden op → pool call; each returns { outputName: values } like test/golden-ops.mjs. */
export const SYNC_OPS = {
  async channel_stats(api, pool, c) {
    const p = await pool.syncPartialStats(splitShards(c.inputs.x, c.shape, c.params.shards), { layout: c.layout });
    const r = api.finishStats(p);
    return { mean: r.mean, var: r.var };
  },

  async batch_norm_train(api, pool, c) {
    const p = c.params, I = c.inputs;
    const affine = p.affine !== false;
    const runningMean = I.running_mean ? I.running_mean.slice() : undefined;
    const runningVar = I.running_var ? I.running_var.slice() : undefined;
    const shards = splitShards(I.x, c.shape, p.shards);
    const r = await pool.syncBatchNormTrain(shards, {
      layout: c.layout, gamma: affine ? I.gamma : undefined, beta: affine ? I.beta : undefined,
      eps: p.eps, momentum: p.momentum, convention: p.convention, numBatchesTracked: p.num_batches_tracked,
      runningMean, runningVar,
    });
    const out = { y: concat(r.ys), running_mean: runningMean, running_var: runningVar, save_mean: r.saveMean, save_invstd: r.saveInvstd };
    if (I.dy) {
      const dys = splitShards(I.dy, c.shape, p.shards);
      const b = await pool.syncBatchNormBackward(shards.map((s, i) => ({ ...s, dy: dys[i].x })), {
        layout: c.layout, gamma: affine ? I.gamma : undefined, saveMean: r.saveMean, saveInvstd: r.saveInvstd,
      });
      Object.assign(out, { dx: concat(b.dxs), dgamma: b.dgamma, dbeta: b.dbeta });
    }
    return out;
  },
};

export function isShardCase(c) {
  return !!(c.params && c.params.shards && SYNC_OPS[c.op] && !c.expect_error);
}

/**
 * Runs one golden case with op(c) → { ok, message }: an error case must throw (or reject) naming
 * expect_error without touching its inputs; otherwise every expected output within tolerance
 * (the first one that is not is named). Used for plain API calls in browsers and for the pool.
 */
export async function checkCase(c, op) {
  if (c.expect_error) {
    const before = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.slice()]));
    try {
      await op(c);
    } catch (e) {
      const changed = Object.keys(before).filter((k) => before[k].some((v, i) => !Object.is(v, c.inputs[k][i])));
      if (changed.length) return { ok: false, message: `threw but modified ${changed.join(", ")}` };
      if (!String(e && e.message).includes(c.expect_error)) return { ok: false, message: `threw "${e && e.message}", expected a message naming "${c.expect_error}"` };
      return { ok: true };
    }
    return { ok: false, message: `did not throw (expected: ${c.expect_error})` };
  }
  let got;
  try {
    got = await op(c);
  } catch (e) {
    return { ok: false, message: `threw ${e && e.message}` };
  }
  for (const [name, exp] of Object.entries(c.expected)) {
    const v = got[name] && typeof got[name].toArray === "function" ? got[name].toArray() : got[name];
    if (!v) return { ok: false, message: `output ${name} missing` };
    const tol = (c.tolerance && c.tolerance[name]) || { atol: 1e-4, rtol: 1e-4 };
    const r = compare(v, exp, tol.atol, tol.rtol);
    if (r) return { ok: false, message: r.lengthMismatch ? `${name}: ${r.got} values, expected ${r.expected}` : `${name}[${r.index}] = ${r.got}, expected ${r.expected} (${r.count} values off, atol ${tol.atol}, rtol ${tol.rtol})` };
  }
  return { ok: true };
}

/** A params.shards case on the pool (one worker per shard) → { ok, message }. */
export function runShardCase(api, pool, c) {
  return checkCase(c, (k) => SYNC_OPS[k.op](api, pool, k));
}
