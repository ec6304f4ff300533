// SVG chart of one shape's results from a bench JSON (bench/README.md has its format), written by hand: no
// dependencies. Horizontal bars of GB/s on a log scale, one group per op, one bar per system,
// with the memory ceiling (wasm SIMD copy, or read for statistics) as a dashed line per group.
//
//   node bench/chart.mjs [bench/results/bench.json] [out.svg] [--shape 8,64,56,56] [--layout NCHW]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/cli.mjs';

const SYSTEMS = [
  ['simdnorm', '#1f5fa8'], ['simdnorm-copy', '#7fb2e5'], ['js', '#8c8c8c'], ['tfjs-wasm', '#e8822a'],
  ['tfjs-cpu', '#f5c08f'], ['ort-web', '#2f9e44'], ['ort-node', '#9ad5a6'],
];
const OPS = [
  ['stats', 'statistics'], ['bn_train', 'BN training fwd'], ['bn_infer', 'BN inference'], ['bn_backward', 'BN backward'],
  ['instance_norm', 'instance norm'], ['group_norm', 'group norm'], ['layer_norm', 'layer norm'],
];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v) => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v >= 0.1 ? v.toFixed(3) : v.toPrecision(2));
const fmtMs = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

/**
 * @param {object} json bench JSON
 * @param {{ shape?: number[], layout?: string }} [which] default (8,64,56,56) NCHW
 * @returns {string} SVG document
 */
export function renderChart(json, { shape = [8, 64, 56, 56], layout = 'NCHW' } = {}) {
  const same = (r) => r.shape.join() === shape.join() && r.layout === layout;
  const rows = json.results.filter(same);
  const get = (op, sys) => rows.find((r) => r.op === op && r.system === sys);
  const ops = OPS.filter(([op]) => get(op, 'simdnorm'));
  const systems = SYSTEMS.filter(([s]) => rows.some((r) => r.system === s));
  const vals = rows.filter((r) => r.gbps > 0).map((r) => r.gbps);
  const lo = Math.floor(Math.log10(Math.min(...vals))), hi = Math.ceil(Math.log10(Math.max(...vals) * 1.05));
  const W = 960, L = 150, R = 190, plotW = W - L - R, barH = 12, gap = 2, groupPad = 16, top = 92;
  const groupH = systems.length * (barH + gap) + groupPad;
  const H = top + ops.length * groupH + 40;
  const x = (v) => L + ((Math.log10(v) - lo) / (hi - lo)) * plotW;
  const s = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`);
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const env = json.env ?? {};
  const values = shape.reduce((a, b) => a * b, 1);
  s.push(`<text x="${L}" y="22" font-size="15" font-weight="600">simdnorm vs peers — (${shape.join(', ')}) ${esc(layout)}, ${(values * 4 / 2 ** 20).toFixed(1)} MiB per tensor, one thread</text>`);
  s.push(`<text x="${L}" y="40" fill="#555">GB/s (bytes the op must move ÷ median time), log scale; dashed: wasm SIMD copy / read of the same tensor. ${esc(env.cpu ?? '')}, Node ${esc(env.node ?? '')}</text>`);
  // legend
  let lx = L;
  for (const [name, color] of systems) {
    s.push(`<rect x="${lx}" y="52" width="11" height="11" fill="${color}"/><text x="${lx + 15}" y="61">${esc(name)}</text>`);
    lx += 26 + name.length * 6.8;
  }
  // grid
  const gridBottom = top + ops.length * groupH - groupPad / 2;
  for (let e = lo; e <= hi; e++) {
    for (const m of e < hi ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e, gx = x(v).toFixed(1);
      s.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${gridBottom}" stroke="${m === 1 ? '#d0d0d0' : '#eeeeee'}"/>`);
      if (m === 1 || hi - lo <= 3) s.push(`<text x="${gx}" y="${gridBottom + 14}" text-anchor="middle" fill="#555">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  s.push(`<text x="${L + plotW / 2}" y="${gridBottom + 30}" text-anchor="middle" fill="#333">GB/s</text>`);
  ops.forEach(([op, label], gi) => {
    const y0 = top + gi * groupH;
    if (gi % 2 === 1) s.push(`<rect x="0" y="${y0 - groupPad / 2}" width="${W}" height="${groupH}" fill="#f7f9fc" style="mix-blend-mode:multiply"/>`);
    s.push(`<text x="${L - 10}" y="${y0 + (systems.length * (barH + gap)) / 2 + 4}" text-anchor="end" font-size="12" font-weight="600">${esc(label)}</text>`);
    // The ceiling first: bars and their (haloed) labels are drawn over it.
    const ceilName = op !== 'stats' ? 'copy' : get(op, 'sumsq') ? 'sumsq' : 'read';
    const ceil = get(op, ceilName);
    if (ceil?.gbps > 0) {
      const cx = x(ceil.gbps).toFixed(1), yb = y0 + systems.length * (barH + gap);
      s.push(`<line x1="${cx}" y1="${y0 - 4}" x2="${cx}" y2="${yb}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      s.push(`<text x="${cx}" y="${y0 - 6}" text-anchor="middle" fill="#c0392b" font-size="10">${ceilName === 'sumsq' ? 'Σx, Σx²' : ceilName} ${fmt(ceil.gbps)}</text>`);
    }
    systems.forEach(([sys, color], i) => {
      const r = get(op, sys), y = y0 + i * (barH + gap);
      if (!r) return;
      if (r.gbps > 0) {
        const w = Math.max(1, x(r.gbps) - L);
        s.push(`<rect x="${L}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"><title>${esc(`${sys}: ${fmtMs(r.ms)} ms, ${fmt(r.gbps)} GB/s`)}</title></rect>`);
        const base = get(op, 'simdnorm');
        const sp = sys !== 'simdnorm' && sys !== 'simdnorm-copy' && base?.ms ? ` · simdnorm ${(r.ms / base.ms).toFixed(r.ms / base.ms >= 10 ? 0 : 1)}× faster` : '';
        s.push(`<text x="${(L + w + 4).toFixed(1)}" y="${y + barH - 2}" fill="#333" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(`${fmt(r.gbps)} GB/s · ${fmtMs(r.ms)} ms${sp}`)}</text>`);
      } else {
        const why = r.verified === false ? 'wrong result (not timed)' : 'not timed: unsupported or left out (reason in results.md)';
        s.push(`<text x="${L + 4}" y="${y + barH - 2}" fill="#999" font-style="italic">${esc(`${sys}: ${why}`)}</text>`);
      }
    });
  });
  s.push('</svg>');
  return s.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const here = dirname(fileURLToPath(import.meta.url));
  const { opts, rest: args } = parseArgs(process.argv.slice(2), { shape: '', layout: '' });
  const shape = opts.shape ? opts.shape.split(',').map(Number) : undefined, layout = opts.layout || undefined;
  const [inFile = join(here, 'results', 'bench.json'), outFile = join(dirname(inFile), 'chart.svg')] = args;
  writeFileSync(outFile, renderChart(JSON.parse(readFileSync(inFile, 'utf8')), { ...(shape && { shape }), ...(layout && { layout }) }));
  console.log(`wrote ${outFile}`);
}
