// npm run bench: simdnorm (zero-copy and copy paths) against plain JS, tfjs (wasm, cpu),
// onnxruntime (web, node) and the memory ceiling (wasm SIMD copy / read; for statistics also the
// one-pass f32x4 Σx, Σx² loop, their ceiling).
//
//   npm run bench                       full run (every op × shape × system, cold start), < 10 min
//   npm run bench -- --quick            (8,64,56,56) NCHW, stats + batch norm, no tfjs-cpu, < 1 min
//   npm run bench -- --matrix           coverage matrix: op × layout × C × size, % of the ceiling
//                                       (bench/matrix.mjs; --matrix --quick: 1 Mi values only)
//   npm run bench -- --edge             the shapes edge users run: batch-1 CNN activations (batch
//                                       norm inference, training forward, backward) and transformer
//                                       rows (layer norm over the last axis), no cold start, ≈ 2 min;
//                                       --save writes bench/results/edge/
//   npm run bench -- --json FILE        also write the bench JSON (and FILE's .details.json)
//   npm run bench -- --save             write bench/results/ (bench.json, details, results.md,
//                                       targets.md, chart.svg); --quick saves to bench/results/quick/
//   options: --ops stats,bn_train  --shapes 0,5 (indices into the shape list; with --edge into the edge cases)  --systems a,b
//            --rounds N  --no-cold
//
// Method (see bench/README.md): per (op, shape) every system's output is checked against the
// float64 reference first (wrong → not timed; unsupported → reason); then the verified systems,
// the ceiling and (on the headline shape) the copy-in / copy-out steps are timed with
// benchmark.js in interleaved rounds, and the median per call is reported.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { OPS, BYTES_PER_VALUE, geometry, makeInputs } from './peers/common.mjs';
import { reference, check, BENCH_CASES } from './peers/verify.mjs';
import { loadCeilingOn } from './ceiling/index.mjs';
import { runColdStart } from './peers/coldstart.mjs';
import { createSimdnorm, COPIES } from './lib/simdnorm.mjs';
import { interleaved, median } from './lib/timing.mjs';
import { parseArgs } from './lib/cli.mjs';
import { environment } from './lib/env.mjs';
import { writeReports, HEADLINE, printSummary } from './lib/report.mjs';
import { PEERS } from './peers/index.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv.includes('--matrix')) {
  // The coverage matrix (op × layout × C × size, % of ceiling) is its own script with its own
  // options; see bench/matrix.mjs.
  await import('./matrix.mjs');
  await new Promise((resolve) => process.stdout.write('', resolve));
  process.exit(0);
}
const { opts } = parseArgs(process.argv.slice(2), { quick: false, edge: false, save: false, 'no-cold': false, json: '', ops: '', shapes: '', systems: '', rounds: '' });
const flag = (k) => opts[k.slice(2)];
const opt = (k) => opts[k.slice(2)] || undefined;
const list = (k) => opt(k)?.split(',').map((s) => s.trim()).filter(Boolean);

const QUICK = flag('--quick');
/** The ≥ 64 MiB tensor: 16·64·128·128 float32 = 64 MiB, twice this machine's L3 on its own. */
const BIG = [[16, 64, 128, 128], 'NCHW'];
const ALL_CASES = [...BENCH_CASES, BIG];
const SYSTEMS = ['simdnorm', 'simdnorm-copy', 'js', 'tfjs-wasm', 'tfjs-cpu', 'ort-web', 'ort-node'];
/** Ceiling systems timed with every op; statistics also get `sumsq` (the one-pass Σx, Σx² loop, their ceiling). */
const CEILINGS = ['copy', 'read'];
const ceilingsOf = (op) => (op === 'stats' ? [...CEILINGS, 'sumsq'] : CEILINGS);

const EDGE = flag('--edge');
/**
 * --edge: what users run at the edge, against the same peers. Batch-1 CNN activations (MobileNet
 * 112² × 32 and 56² × 144, a late 14² × 384 block, ResNet's NCHW 56² × 64) for the batch-norm ops;
 * transformer rows for layer norm over the last axis (ViT-B/16 at batch 1, one LLM decoding step
 * of 2048, BERT-base at batch 8). Each entry: shape, layout, ops.
 */
const BN_OPS = ['bn_infer', 'bn_train', 'bn_backward'];
const EDGE_CASES = [
  [[1, 112, 112, 32], 'NHWC', BN_OPS], [[1, 56, 56, 144], 'NHWC', BN_OPS], [[1, 14, 14, 384], 'NHWC', BN_OPS],
  [[1, 64, 56, 56], 'NCHW', BN_OPS],
  [[1, 197, 768], 'NLC', ['layer_norm']], [[1, 2048], 'NC', ['layer_norm']], [[8, 128, 768], 'NLC', ['layer_norm']],
];
// --shapes picks cases by index: of the edge cases with --edge, else of the full run's.
const pick = (all) => list('--shapes')?.map((i) => {
  if (!all[+i]) { console.error(`--shapes: no case ${i} (0…${all.length - 1})`); process.exit(2); }
  return all[+i];
});
const cases = EDGE ? pick(EDGE_CASES.map(([s, l]) => [s, l])) ?? EDGE_CASES.map(([s, l]) => [s, l]) : pick(ALL_CASES) ?? (QUICK ? [ALL_CASES[0]] : ALL_CASES);
const ops = list('--ops') ?? (EDGE ? [...new Set(EDGE_CASES.flatMap((c) => c[2]))] : QUICK ? ['stats', 'bn_train', 'bn_infer', 'bn_backward'] : OPS);
const edgeOps = (shape, layout) => EDGE_CASES.find(([s, l]) => s.join() === shape.join() && l === layout)[2];
const systems = list('--systems') ?? SYSTEMS;
const skipped = new Map(QUICK ? [['tfjs-cpu', 'left out of --quick: one call takes 0.1–4 s at this size (see the full run)']] : []);
/**
 * Timing plan. rounds: interleaved benchmark.js suites per (op, shape); maxTime: seconds each
 * system gets per round; budget: seconds a slow system may spend per (op, shape) (it joins
 * fewer rounds, ≥ 1); maxCall: a system whose one call is estimated (from a smaller shape,
 * scaled by size) above this many seconds is not run at that size.
 */
const PLAN = QUICK
  ? { rounds: 10, headlineRounds: 10, maxTime: 0.012, minTime: 0.002, budget: 0.8, maxCall: 2 }
  : EDGE ? { rounds: 8, headlineRounds: 8, maxTime: 0.03, minTime: 0.002, budget: 2, maxCall: 5 }
  : { rounds: 6, headlineRounds: 12, maxTime: 0.05, minTime: 0.002, budget: 3, maxCall: 5 };
if (opt('--rounds')) PLAN.rounds = PLAN.headlineRounds = +opt('--rounds');
/**
 * Seconds the suites may take before cold start (~20 s) and reporting: when the suites so far
 * project past this (a busier machine than usual), later suites get fewer rounds and a smaller
 * per-system budget, so `npm run bench` stays under 10 minutes (--quick: 1 minute).
 */
const DEADLINE = QUICK ? 40 : EDGE ? 240 : 540;

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1e3).toFixed(0)}s`;
const say = (s) => process.stderr.write(`${s}\n`);
const fmtShape = (shape) => `(${shape.join(',')})`;
const key = (shape, layout) => `${shape.join('x')} ${layout}`;

// ---- systems ---------------------------------------------------------------------------------
say(`simdnorm bench${QUICK ? ' --quick' : EDGE ? ' --edge' : ''}: ${ops.length} ops × ${cases.length} shapes × ${systems.length} systems + ceiling, ${PLAN.rounds} interleaved rounds (${PLAN.headlineRounds} on the headline shape)`);
const env = environment({ mode: QUICK ? 'quick' : EDGE ? 'edge' : 'full', method: { ...PLAN, timer: 'benchmark.js (process.hrtime), interleaved rounds, median of per-cycle means' } });
const factories = {
  simdnorm: () => createSimdnorm('zero-copy'),
  'simdnorm-copy': () => createSimdnorm('copy'),
  ...PEERS,
};
const adapters = [];
for (const name of systems) {
  if (!factories[name]) throw new Error(`unknown system ${name}; known: ${Object.keys(factories)}`);
  if (skipped.has(name)) { adapters.push({ name, skip: skipped.get(name) }); continue; }
  try { adapters.push(await factories[name]()); } catch (e) { say(`  ${name} failed to load: ${e.message}`); adapters.push({ name, skip: `failed to load: ${e.message}` }); }
}
const stepsAdapter = await createSimdnorm('steps');
const sn = stepsAdapter.sn;
// The ceiling kernels run on simdnorm's own memory, over the zero-copy op's own tensors.
const ceiling = await loadCeilingOn(sn.wasmMemory());
say(`[${elapsed()}] loaded ${adapters.filter((a) => !a.skip).map((a) => a.name).join(', ')} and the ceiling (wasm SIMD copy / read on simdnorm's memory)`);

// ---- one (op, shape) -------------------------------------------------------------------------
const results = [], details = { records: [], copy_path: [], reasons: {} };
/** Seconds per value of each (system, op) at the last measured size, to foresee slow calls. */
const perValue = new Map();
const suites = cases.flatMap(([shape, layout]) => ops.filter((op) => !EDGE || edgeOps(shape, layout).includes(op)).map((op) => [op, shape, layout]));
let suiteNo = 0;

const time1 = async (fn) => { const s = performance.now(); await fn(); return (performance.now() - s) / 1e3; };

async function suite(op, shape, layout) {
  suiteNo++;
  const g = geometry(shape, layout), n = g.size, bpv = BYTES_PER_VALUE[op];
  const headline = shape.join() === HEADLINE.shape.join() && layout === HEADLINE.layout;
  say(`[${elapsed()}] suite ${suiteNo}/${suites.length}: ${op} ${key(shape, layout)} (${(n / 1e6).toFixed(2)}M values, ${bpv} B/value)`);
  const inp = makeInputs(op, shape, layout);
  const ref = reference(op, shape, layout, inp);

  // 1. verify every system before timing anything
  const status = new Map(), entries = [], runs = [];
  let zeroCopyTensors;
  const SN_GROUP = new Set(['simdnorm', 'simdnorm-copy', 'copy', 'read', 'sumsq', 'copy-steps']);
  const verdicts = [];
  for (const a of adapters) {
    let st;
    try {
      const sup = a.skip ?? a.supports(op, shape, layout);
      const est = perValue.get(`${a.name} ${op}`) * n;
      if (sup !== true) st = { status: a.skip ? 'skipped' : 'unsupported', reason: sup };
      else if (est > PLAN.maxCall) st = { status: 'skipped', reason: `one call would take ≈ ${est.toFixed(0)} s at this size (scaled from a smaller shape); left out to keep the run within its time limit` };
      else {
        const r = check(op, shape, layout, await a.output(op, shape, layout, inp), ref);
        st = r.ok ? { status: 'ok' } : { status: 'wrong', reason: `disagrees with the float64 reference: ${r.detail}` };
      }
    } catch (e) {
      st = { status: 'error', reason: `threw: ${e.message.split('\n')[0]}` };
    }
    status.set(a.name, st);
    verdicts.push(`${a.name} ${st.status === 'ok' ? 'ok' : st.status.toUpperCase()}`);
  }
  say(`  verified: ${verdicts.join(', ')}`);

  // 2. prepare + warm up the verified systems
  for (const a of adapters) {
    const st = status.get(a.name);
    if (st.status !== 'ok') continue;
    try {
      const run = await a.prepare(op, shape, layout, inp);
      runs.push(run);
      if (run.tensors) zeroCopyTensors = run.tensors;
      let c = await time1(run);
      if (c < 1) c = await time1(run); // first calls include compilation / allocation
      // Per-value cost to foresee slow calls at larger sizes: not from small tensors, whose time is
      // mostly per-call cost and compilation (a 2048-value row foresaw 8 s for 0.8 M values).
      if (n >= 1 << 16) perValue.set(`${a.name} ${op}`, c / n);
      const isAsync = a.name.startsWith('ort-');
      entries.push({ name: a.name, fn: run, async: isAsync, group: SN_GROUP.has(a.name) ? 'simdnorm' : undefined, rounds: Math.max(1, Math.min(headline ? PLAN.headlineRounds : PLAN.rounds, Math.floor(PLAN.budget / c))) });
    } catch (e) {
      status.set(a.name, { status: 'error', reason: `threw while preparing: ${e.message.split('\n')[0]}` });
    }
  }
  // Ceiling: copy x → out and read x (statistics: also Σx, Σx² over x), on the zero-copy op's
  // tensors when it has them.
  const ceilOwned = [];
  const own = (values) => { const t = sn.tensor(shape, layout, values); ceilOwned.push(t); return t; };
  const src = zeroCopyTensors?.x ?? own(inp.x), dst = zeroCopyTensors?.out ?? own();
  entries.push({ name: 'copy', fn: () => ceiling.copyAt(n, src.ptr, dst.ptr), group: 'simdnorm' }, { name: 'read', fn: () => ceiling.readAt(n, src.ptr), group: 'simdnorm' });
  if (op === 'stats') entries.push({ name: 'sumsq', fn: () => ceiling.sumsqAt(n, src.ptr), group: 'simdnorm' });
  // Copy path check (headline shape): the steps the copy path performs, done by hand and timed
  // as one unit (copy-steps), and each copy alone (copy-in, copy-out) for the breakdown.
  let wasmT, stepsRun;
  if (headline && status.get('simdnorm-copy')?.status === 'ok' && status.get('simdnorm')?.status === 'ok') {
    wasmT = sn.tensor(shape, layout);
    const plainOut = new Float32Array(n);
    stepsRun = await stepsAdapter.prepare(op, shape, layout, inp);
    stepsRun(); stepsRun();
    entries.push(
      { name: 'copy-steps', fn: stepsRun, group: 'simdnorm' },
      { name: 'copy-in', fn: () => { wasmT.data.set(inp.x); }, group: 'copy-parts' },
      { name: 'copy-out', fn: () => { plainOut.set(wasmT.data); }, group: 'copy-parts' },
    );
  }

  // 3. time, interleaved
  let lastRound = -1;
  // The headline shape carries the targets: twice the rounds, so its ratios rest on more samples.
  const rounds = headline ? PLAN.headlineRounds : PLAN.rounds;
  const timed = await interleaved(entries, {
    ...PLAN, rounds,
    onRound: (r, name) => {
      if (r !== lastRound) { if (lastRound >= 0) process.stderr.write('\n'); process.stderr.write(`  round ${r + 1}/${rounds}:`); lastRound = r; }
      process.stderr.write(` ${name}`);
    },
  });
  process.stderr.write('\n');
  for (const r of runs) r.dispose?.();
  stepsRun?.dispose();
  for (const t of ceilOwned) t.free();
  wasmT?.free();

  // 4. records
  const cg = (name) => { const t = timed.get(name); return (name === 'copy' ? 8 : 4) * n / t.ms / 1e6; };
  const ceilingName = op === 'stats' ? 'sumsq' : 'copy';
  const ceilingGbps = cg(ceilingName);
  const rec = (system, ms, gbps, verified, extra) => {
    const r = { op, shape, layout, system, threads: 1, ms: ms == null || Number.isNaN(ms) ? null : +ms.toPrecision(5), gbps: gbps == null || Number.isNaN(gbps) ? null : +gbps.toPrecision(4), ceiling_gbps: +ceilingGbps.toPrecision(4), verified };
    results.push(r);
    details.records.push({ op, shape: key(shape, layout), system, ...extra });
    return r;
  };
  const rows = [];
  for (const a of adapters) {
    const st = status.get(a.name), t = timed.get(a.name);
    if (st.status === 'ok' && t && !t.error && t.samples.length) {
      rows.push(rec(a.name, t.ms, bpv * n / t.ms / 1e6, true, { status: 'ok', samples: t.samples.length, calls: t.calls, min_ms: +Math.min(...t.samples).toPrecision(5), round_ms: t.rounds.map((v) => +v.toPrecision(4)) }));
    } else {
      if (t?.error) Object.assign(st, { status: 'error', reason: `threw while timed: ${t.error}` });
      const verified = st.status === 'wrong' ? false : null;
      if (st.reason) details.reasons[`${a.name} ${op} ${key(shape, layout)}`] = st.reason;
      rows.push(rec(a.name, null, null, verified, st));
    }
  }
  for (const c of ceilingsOf(op)) {
    const t = timed.get(c);
    rows.push(rec(c, t.ms, cg(c), true, { status: 'ok', samples: t.samples.length, calls: t.calls, min_ms: +Math.min(...t.samples).toPrecision(5), round_ms: t.rounds.map((v) => +v.toPrecision(4)) }));
  }
  printSuite(op, shape, layout, bpv, ceilingName, rows);
  if (wasmT) {
    const k = timed.get('simdnorm').ms, cp = timed.get('simdnorm-copy').ms, ci = timed.get('copy-in').ms, co = timed.get('copy-out').ms;
    const st = timed.get('copy-steps').ms, parts = COPIES[op].in * ci + k + COPIES[op].out * co;
    details.copy_path.push({
      op, shape, layout, copies_in: COPIES[op].in, copies_out: COPIES[op].out,
      copy_in_ms: +ci.toPrecision(4), copy_out_ms: +co.toPrecision(4), kernel_ms: +k.toPrecision(4),
      parts_ms: +parts.toPrecision(4), steps_ms: +st.toPrecision(4), copy_path_ms: +cp.toPrecision(4),
      ratio: +(cp / st).toFixed(3), ratio_to_parts: +(cp / parts).toFixed(3),
      round_ratios: timed.get('simdnorm-copy').rounds.map((v, i) => +(v / timed.get('copy-steps').rounds[i]).toFixed(3)),
    });
    console.log(`  copy path ${cp.toFixed(3)} ms vs the same steps by hand ${st.toFixed(3)} ms (${(cp / st).toFixed(2)}×); steps timed apart: ${COPIES[op].in}×${ci.toFixed(3)} in + ${k.toFixed(3)} + ${COPIES[op].out}×${co.toFixed(3)} out = ${parts.toFixed(3)} ms`);
  }
}

function printSuite(op, shape, layout, bpv, ceilingName, rows) {
  const sn0 = rows.find((r) => r.system === 'simdnorm')?.ms, snc = rows.find((r) => r.system === 'simdnorm-copy')?.ms;
  const ceil = rows.find((r) => r.system === ceilingName);
  console.log(`\n${op} ${fmtShape(shape)} ${layout}: ${bpv} B/value; ceiling = ${ceilingName} ${ceil.gbps.toFixed(1)} GB/s`);
  console.log(`  ${'system'.padEnd(14)}${'ms'.padStart(10)}${'GB/s'.padStart(8)}${'of ceil'.padStart(9)}${'simdnorm ×'.padStart(12)}${'copy-path ×'.padStart(12)}  verified`);
  for (const r of rows) {
    const st = details.records.find((d) => d.op === op && d.shape === key(shape, layout) && d.system === r.system);
    const peer = !['simdnorm', 'simdnorm-copy', 'copy', 'read', 'sumsq'].includes(r.system);
    const x = (s) => (peer && r.ms && s ? `${(r.ms / s).toFixed(1)}×` : '');
    const v = r.verified === true ? 'ok' : st.status === 'wrong' ? 'WRONG' : st.status;
    console.log(`  ${r.system.padEnd(14)}${(r.ms == null ? '—' : r.ms.toFixed(3)).padStart(10)}${(r.gbps == null ? '—' : r.gbps.toFixed(2)).padStart(8)}${(r.gbps == null ? '' : `${(100 * r.gbps / r.ceiling_gbps).toFixed(0)}%`).padStart(9)}${x(sn0).padStart(12)}${x(snc).padStart(12)}  ${v}${st.reason ? ` (${st.reason})` : ''}`);
  }
}

let currentShape = null;
const base = { rounds: PLAN.rounds, budget: PLAN.budget };
let otherSpent = 0, otherCount = 0; // suites off the headline shape (the headline ones get more rounds)
for (const [op, shape, layout] of suites) {
  // Keep within the deadline: scale the remaining suites by the time they can still have,
  // projected from the suites measured so far off the headline shape.
  const spent = (performance.now() - t0) / 1e3, left = suites.length - suiteNo;
  if (otherCount > 0) {
    const factor = (DEADLINE - spent) / ((otherSpent / otherCount) * left);
    if (factor < 1) {
      PLAN.rounds = Math.max(2, Math.floor(base.rounds * factor));
      PLAN.budget = Math.max(0.5, base.budget * factor);
      if (!env.method.reduced) say(`  (behind schedule: later suites get ${PLAN.rounds} rounds)`);
      env.method.reduced = { from_suite: suiteNo + 1, rounds: PLAN.rounds, budget: +PLAN.budget.toFixed(2) };
    }
  }
  const k = key(shape, layout);
  if (currentShape && currentShape !== k) for (const a of adapters) if (a.name.startsWith('ort-')) await a.dispose?.(); // free sessions of the last shape
  currentShape = k;
  const s0 = performance.now();
  await suite(op, shape, layout);
  if (!(shape.join() === HEADLINE.shape.join() && layout === HEADLINE.layout)) { otherSpent += (performance.now() - s0) / 1e3; otherCount++; }
}

// ---- cold start and sizes --------------------------------------------------------------------
let cold = { cold_start_ms: {}, wasm_bytes: {}, details: {} };
if (!flag('--no-cold') && !EDGE) {
  const runsCold = QUICK ? 3 : 7;
  say(`[${elapsed()}] cold start: ${runsCold} fresh node processes per system (import → first verified result)`);
  cold = await runColdStart({ runs: runsCold, quiet: true });
}
env.loadavg_end = os.loadavg().map((v) => +v.toFixed(2));
env.duration_s = +((performance.now() - t0) / 1e3).toFixed(1);
const json = { env, results, cold_start_ms: cold.cold_start_ms, wasm_bytes: cold.wasm_bytes };
details.cold_start = cold.details;
printSummary(json, details);

const write = (file) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(json, null, 1) + '\n');
  writeFileSync(file.replace(/\.json$/, '') + '.details.json', JSON.stringify(details, null, 1) + '\n');
  say(`wrote ${file} (+ .details.json)`);
};
if (opt('--json')) write(opt('--json'));
if (flag('--save')) {
  const dir = join(here, 'results', QUICK ? 'quick' : EDGE ? 'edge' : '');
  write(join(dir, 'bench.json'));
  for (const f of await writeReports(join(dir, 'bench.json'))) say(`wrote ${f}`);
}
say(`done in ${elapsed()}`);
for (const a of adapters) await a.dispose?.();
process.exit(0); // onnxruntime / tfjs keep handles open
