// Checks every peer adapter × op × (shape, layout) against the float64 reference in
// test/reference.mjs and prints a table: ok / WRONG (worst error) / unsupported (reason).
//
//   node bench/peers/verify.mjs [--quick] [--adapters js,tfjs-wasm,...] [--ops stats,...] [--json FILE]
//
// --quick checks only the small shapes (all layouts). Exit code 1 if anything is WRONG or fails.
// Tolerances: |a−e| ≤ atol + rtol·|e| with atol = rtol = 1e-3 on y/dx and the statistics; sums
// over m values per channel (dgamma, dbeta) get atol = 1e-3·√m, since float32 accumulation
// error grows with the number of terms and the sum itself grows like √m for random data.
import { writeFileSync } from 'node:fs';
import { parseArgs } from '../lib/cli.mjs';
import {
  refStats, refBnTrain, refBnInfer, refBnBackward, refInstanceNorm, refGroupNorm, refLayerNorm, compare,
} from '../../test/reference.mjs';
import { OPS, geometry, makeInputs } from './common.mjs';
import { PEERS } from './index.mjs';

export const SMALL_CASES = [
  [[5, 12], 'NC'],
  [[3, 6, 9], 'NCL'],
  [[2, 8, 5, 7], 'NCHW'],
  [[2, 4, 3, 2, 5], 'NCDHW'],
  [[3, 9, 6], 'NLC'],
  [[2, 5, 7, 3], 'NHWC'],
  [[2, 3, 2, 5, 8], 'NDHWC'],
];
export const BENCH_CASES = [
  [[8, 64, 56, 56], 'NCHW'],
  [[8, 256, 14, 14], 'NCHW'],
  [[256, 512], 'NC'],
  [[2, 32, 16, 32, 32], 'NCDHW'],
  [[8, 56, 56, 64], 'NHWC'],
];

/** Reference outputs (Float64Array) for an op, keyed like the adapters' outputs. */
export function reference(op, shape, layout, inp) {
  const p = { gamma: inp.gamma, beta: inp.beta, eps: inp.eps, momentum: inp.momentum, runningMean: inp.runningMean, runningVar: inp.runningVar, groups: inp.groups };
  switch (op) {
    case 'stats': { const r = refStats(inp.x, shape, layout); return { mean: r.mean, var: r.var }; }
    case 'bn_train': { const r = refBnTrain(inp.x, shape, layout, p); return { y: r.y, saveMean: r.saveMean, saveInvstd: r.saveInvstd, saveVar: r.var, runningMean: r.runningMean, runningVar: r.runningVar }; }
    case 'bn_infer': return { y: refBnInfer(inp.x, shape, layout, p) };
    case 'bn_backward': return refBnBackward(inp.x, inp.dy, shape, layout, { gamma: inp.gamma, saveMean: inp.saveMean, saveInvstd: inp.saveInvstd });
    case 'instance_norm': return { y: refInstanceNorm(inp.x, null, shape, layout, p).y };
    case 'group_norm': return { y: refGroupNorm(inp.x, null, shape, layout, p).y };
    case 'layer_norm': return { y: refLayerNorm(inp.x, null, shape, layout, p).y };
    default: throw new Error(`unknown op ${op}`);
  }
}

/** Outputs an op must return; 'a|b' means either. */
const REQUIRED = {
  stats: ['mean', 'var'], bn_train: ['y', 'saveMean', 'saveInvstd|saveVar', 'runningMean', 'runningVar'],
  bn_infer: ['y'], bn_backward: ['dx', 'dgamma', 'dbeta'], instance_norm: ['y'], group_norm: ['y'], layer_norm: ['y'],
};

/**
 * Compares an adapter's outputs with the reference. Returns { ok: true } or
 * { ok: false, detail } naming the output, index and worst error.
 */
export function check(op, shape, layout, out, ref) {
  const g = geometry(shape, layout);
  const worst = [];
  for (const spec of REQUIRED[op]) {
    const key = spec.split('|').find((k) => out[k] !== undefined);
    if (!key) { worst.push(`missing ${spec}`); continue; }
    const sum = key === 'dgamma' || key === 'dbeta';
    const atol = sum ? 1e-3 * Math.sqrt(g.N * g.S) : 1e-3;
    const bad = compare(out[key], ref[key], atol, 1e-3);
    if (bad) worst.push(bad.lengthMismatch ? `${key}: length ${bad.got} ≠ ${bad.expected}` : `${key}[${bad.index}] err ${bad.err.toExponential(2)} (${bad.count} bad)`);
  }
  return worst.length ? { ok: false, detail: worst.join('; ') } : { ok: true };
}

async function loadAdapters(names) {
  const all = PEERS;
  const out = [];
  for (const n of names) {
    if (!all[n]) throw new Error(`unknown adapter ${n}; known: ${Object.keys(all)}`);
    try { out.push(await all[n]()); } catch (e) { console.error(`adapter ${n} failed to load: ${e.stack}`); out.push({ name: n, broken: e.message }); }
  }
  return out;
}

async function main() {
  const { opts } = parseArgs(process.argv.slice(2), { adapters: 'js,tfjs-wasm,tfjs-cpu,ort-web,ort-node', ops: OPS.join(','), quick: false, json: '' });
  const names = opts.adapters.split(',');
  const ops = opts.ops.split(',');
  const cases = opts.quick ? SMALL_CASES : [...SMALL_CASES, ...BENCH_CASES];
  const adapters = await loadAdapters(names);

  const rows = [], reasons = new Map(), records = [];
  let failures = 0;
  for (const [shape, layout] of cases) {
    for (const op of ops) {
      const inp = makeInputs(op, shape, layout);
      const ref = reference(op, shape, layout, inp);
      const cells = [];
      for (const a of adapters) {
        let cell, rec = { op, shape, layout, system: a.name };
        try {
          const s = a.broken ? `adapter failed to load: ${a.broken}` : a.supports(op, shape, layout);
          if (s !== true) {
            if (!reasons.has(s)) reasons.set(s, `[${reasons.size + 1}]`);
            cell = `unsup ${reasons.get(s)}`; rec.status = 'unsupported'; rec.reason = s;
          } else {
            const r = check(op, shape, layout, await a.output(op, shape, layout, inp), ref);
            cell = r.ok ? 'ok' : 'WRONG'; rec.status = r.ok ? 'ok' : 'wrong';
            if (!r.ok) { failures++; rec.detail = r.detail; console.error(`WRONG ${a.name} ${op} [${shape}] ${layout}: ${r.detail}`); }
          }
        } catch (e) {
          failures++; cell = 'ERROR'; rec.status = 'error'; rec.detail = e.message;
          console.error(`ERROR ${a.name} ${op} [${shape}] ${layout}: ${e.stack}`);
        }
        cells.push(cell); records.push(rec);
      }
      rows.push([op, `${shape.join('x')} ${layout}`, ...cells]);
      process.stderr.write(`. ${op} ${shape.join('x')} ${layout}\n`);
    }
  }
  const header = ['op', 'shape', ...adapters.map((a) => a.name)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log(line(header)); console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  if (reasons.size) { console.log('\nunsupported:'); for (const [s, k] of reasons) console.log(`  ${k} ${s}`); }
  const wrong = records.filter((r) => r.status === 'wrong' || r.status === 'error');
  if (wrong.length) { console.log('\nwrong / errors:'); for (const r of wrong) console.log(`  ${r.system} ${r.op} ${r.shape.join('x')} ${r.layout}: ${r.detail}`); }
  if (opts.json) writeFileSync(opts.json, JSON.stringify(records, null, 1));
  for (const a of adapters) await a.dispose?.();
  process.exitCode = failures ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
