// The coverage matrix (bench/matrix.mjs) as an SVG heat map: one panel per tensor size, a row
// per (op, layout), a column per C, each cell the % of its ceiling, coloured from red (< 50 %)
// through yellow (75 %, the target) to green (≥ 95 %).

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** Colour of a ratio: piecewise-linear red → orange → yellow → green. */
function colour(r) {
  const stops = [[0.3, [215, 48, 39]], [0.6, [244, 165, 79]], [0.75, [254, 224, 139]], [0.85, [166, 217, 106]], [1.0, [26, 152, 80]]];
  if (r <= stops[0][0]) return `rgb(${stops[0][1]})`;
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i], [x0, c0] = stops[i - 1];
    if (r <= x1) { const t = (r - x0) / (x1 - x0); return `rgb(${c0.map((v, k) => Math.round(v + t * (c1[k] - v))).join(",")})`; }
  }
  return `rgb(${stops[stops.length - 1][1]})`;
}

const sizeName = (V) => (V >= 1 << 20 ? `${V / (1 << 20)} Mi values` : `${V / 1024} Ki values`);

/**
 * @param {{ sizes: number[], cs: number[], layouts: string[], ops: string[], cells: Array<{ op: string, layout: string, V: number, C: number, ratio: number }>, env: object, summary: object }} m
 * @returns {string} SVG text
 */
export function renderHeatmap(m) {
  const cw = 38, ch = 17, left = 190, top = 58, gap = 34;
  const rows = m.ops.flatMap((op) => m.layouts.map((layout) => [op, layout]));
  const panelH = ch * rows.length + gap;
  const W = left + cw * m.cs.length + 20, H = top + panelH * m.sizes.length + 40;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">simdnorm coverage: % of the memory ceiling per op × layout × C (batch 1, zero-copy)</text>`);
  out.push(`<text x="10" y="34" font-size="10">${esc(`median ${Math.round(100 * m.summary.median)} %, ${m.summary.atLeast75}/${m.summary.cells} cells ≥ 75 %. Statistics vs the one-pass Σx, Σx² loop; others vs a wasm copy scaled to the bytes moved. ${m.env.cpu}, node ${m.env.node}, ${m.env.date.slice(0, 10)}`)}</text>`);
  m.sizes.forEach((V, p) => {
    const y0 = top + p * panelH;
    out.push(`<text x="10" y="${y0 - 6}" font-size="12" font-weight="bold">${sizeName(V)}</text>`);
    m.cs.forEach((C, j) => out.push(`<text x="${left + j * cw + cw / 2}" y="${y0 - 6}" text-anchor="middle">C=${C}</text>`));
    rows.forEach(([op, layout], i) => {
      const y = y0 + i * ch;
      out.push(`<text x="${left - 6}" y="${y + ch - 5}" text-anchor="end">${esc(`${op} ${layout}`)}</text>`);
      m.cs.forEach((C, j) => {
        const c = m.cells.find((q) => q.op === op && q.layout === layout && q.V === V && q.C === C);
        const x = left + j * cw;
        if (!c) { out.push(`<rect x="${x}" y="${y}" width="${cw - 1}" height="${ch - 1}" fill="#eee"/>`); return; }
        out.push(`<rect x="${x}" y="${y}" width="${cw - 1}" height="${ch - 1}" fill="${colour(c.ratio)}"><title>${esc(`${op} ${layout} C=${C} shape [${c.shape}]: ${c.ms.toFixed(3)} ms, ceiling ${c.ceilingMs.toFixed(3)} ms, ${c.gbps} GB/s`)}</title></rect>`);
        out.push(`<text x="${x + cw / 2}" y="${y + ch - 5}" text-anchor="middle">${Math.round(100 * c.ratio)}</text>`);
      });
    });
  });
  out.push(`</svg>`);
  return out.join("\n");
}
