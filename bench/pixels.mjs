// Image bytes → normalized float32 (fromPixels) and byte statistics (channelStats on bytes),
// against the memory ceiling, plain JavaScript and tfjs, one thread, interleaved rounds.
//
//   node bench/pixels.mjs [--rounds 5] [--sizes 224x224,512x512,1920x1080] [--no-tfjs]
//
// Systems (every output checked against a float64 reference before timing):
//   simdnorm       fromPixels(RGBA Uint8Array in the JS heap, { preset: "imagenet", layout,
//                  out: a preallocated Tensor }): the library copies the bytes in a chunk at a
//                  time, then one SIMD pass writes the tensor.
//   simdnorm-wasm  the same with the bytes already in wasm memory (a Uint8Array view of it).
//   copy           the ceiling: a wasm SIMD copy moving the bytes the op moves (1 byte read +
//                  4 bytes written per channel value: 5·3·H·W bytes), on simdnorm's memory.
//   js             a plain loop with the affine folded per channel (y = byte·a[c] + b[c]).
//   tfjs-wasm      tf.tensor(bytes, [1, H, W, 4], "int32") → slice off alpha → cast → div 255 →
//                  sub mean → div std (→ transpose to NCHW), @tensorflow/tfjs-backend-wasm.
// Statistics: channelStats(bytes) (JS heap and wasm view) vs `read` (a SIMD read of the 4·H·W
// bytes) and a plain-JS integer loop.
import * as sn from '../dist/index.js';
import { loadCeilingOn } from './ceiling/index.mjs';
import { interleaved } from './lib/timing.mjs';
import { parseArgs } from './lib/cli.mjs';
import { environment } from './lib/env.mjs';

const { opts } = parseArgs(process.argv.slice(2), { rounds: '5', sizes: '224x224,512x512,1920x1080', 'no-tfjs': false });
const sizes = opts.sizes.split(',').map((s) => s.split('x').map(Number));
await sn.init({ warmup: true });
const ceiling = await loadCeilingOn(sn.wasmMemory());
const P = sn.PIXEL_PRESETS.imagenet;
const A = P.std.map((s) => P.scale / s), B = P.mean.map((m, c) => -m / P.std[c]);

let tf = null;
if (!opts['no-tfjs']) {
  tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount?.(1);
  await tf.setBackend('wasm');
}

/** The plain-JS conversion a careful developer writes: affine folded, contiguous writes. */
function jsConvert(px, H, W, layout, y) {
  const S = H * W, a0 = A[0], a1 = A[1], a2 = A[2], b0 = B[0], b1 = B[1], b2 = B[2];
  if (layout === 'NCHW') {
    for (let p = 0, q = 0; p < S; p++, q += 4) {
      y[p] = px[q] * a0 + b0; y[S + p] = px[q + 1] * a1 + b1; y[2 * S + p] = px[q + 2] * a2 + b2;
    }
  } else {
    for (let p = 0, q = 0, o = 0; p < S; p++, q += 4, o += 3) {
      y[o] = px[q] * a0 + b0; y[o + 1] = px[q + 1] * a1 + b1; y[o + 2] = px[q + 2] * a2 + b2;
    }
  }
}

function tfConvert(px, H, W, layout) {
  return tf.tidy(() => {
    const x = tf.tensor(px, [1, H, W, 4], 'int32').slice([0, 0, 0, 0], [1, H, W, 3]).cast('float32')
      .div(255).sub(tf.tensor1d(P.mean)).div(tf.tensor1d(P.std));
    return tf.keep(layout === 'NCHW' ? x.transpose([0, 3, 1, 2]) : x);
  });
}

function jsStats(px) {
  const s = [0, 0, 0], q = [0, 0, 0];
  for (let i = 0; i < px.length; i += 4) {
    const r = px[i], g = px[i + 1], b = px[i + 2];
    s[0] += r; s[1] += g; s[2] += b; q[0] += r * r; q[1] += g * g; q[2] += b * b;
  }
  return s.map((x, c) => [x, q[c]]);
}

/** Max |y − exact| over all values, exact = (byte/255 − mean)/std in float64. */
function check(name, px, H, W, layout, y) {
  const S = H * W;
  let e = 0;
  for (let p = 0; p < S; p++) for (let c = 0; c < 3; c++) {
    const want = (px[4 * p + c] / 255 - P.mean[c]) / P.std[c];
    e = Math.max(e, Math.abs(y[layout === 'NCHW' ? c * S + p : 3 * p + c] - want));
  }
  if (!(e <= 4e-6)) throw new Error(`${name} ${W}x${H} ${layout}: max error ${e}`);
}

const rows = [];
const fmt = (ms) => ms.toFixed(ms < 1 ? 3 : 2);
for (const [W, H] of sizes) {
  const S = W * H, V = 3 * S;
  const px = new Uint8Array(4 * S);
  for (let i = 0; i < px.length; i++) px[i] = (Math.imul(i, 2654435761) >>> 24) & 255;
  const host = sn.tensor([1, Math.ceil(S), 1, 1], 'NCHW'); // 4·S bytes: the wasm copy of the image
  const pxw = () => new Uint8Array(sn.wasmMemory().buffer, host.ptr, 4 * S);
  pxw().set(px);
  const src = sn.tensor([1, Math.ceil((5 * V) / 8) + 4, 1, 1], 'NCHW');
  for (const layout of ['NCHW', 'NHWC']) {
    const shape = layout === 'NCHW' ? [1, 3, H, W] : [1, H, W, 3];
    const out = sn.tensor(shape, layout), jsOut = new Float32Array(V);
    const opt = { width: W, height: H, channels: 4, layout, preset: 'imagenet', out };
    const nCopy = Math.ceil((5 * V) / 8); // f32 values whose copy moves 5·V bytes
    const dst = sn.tensor([1, nCopy + 4, 1, 1], 'NCHW');
    sn.fromPixels(px, opt); check('simdnorm', px, H, W, layout, out.data);
    out.data.fill(0); sn.fromPixels(pxw(), opt); check('simdnorm-wasm', px, H, W, layout, out.data);
    jsConvert(px, H, W, layout, jsOut); check('js', px, H, W, layout, jsOut);
    const entries = [
      { name: 'simdnorm', group: 'g', fn: () => sn.fromPixels(px, opt) },
      { name: 'simdnorm-wasm', group: 'g', fn: () => sn.fromPixels(pxw(), opt) },
      { name: 'copy', group: 'g', fn: () => ceiling.copyAt(nCopy, src.ptr, dst.ptr) },
      { name: 'js', fn: () => jsConvert(px, H, W, layout, jsOut), rounds: 3 },
    ];
    if (tf) {
      const t = tfConvert(px, H, W, layout); check('tfjs-wasm', px, H, W, layout, t.dataSync()); t.dispose();
      entries.push({ name: 'tfjs-wasm', fn: () => tfConvert(px, H, W, layout).dispose(), rounds: 3 });
    }
    const r = await interleaved(entries, { rounds: +opts.rounds, maxTime: 0.25, minTime: 0.02, onRound: (i, n) => process.stderr.write(`  ${W}x${H} ${layout} round ${i + 1} ${n}      \r`) });
    const ms = Object.fromEntries([...r].map(([k, v]) => [k, v.ms]));
    rows.push({ what: `fromPixels ${W}×${H} ${layout}`, ms, bytes: 5 * V });
    out.free(); dst.free();
  }
  // Byte statistics: vs a SIMD read of the same bytes (4·S bytes = S f32 values).
  const ref = jsStats(px);
  for (const [name, get] of [['simdnorm', () => px], ['simdnorm-wasm', pxw]]) {
    const st = sn.channelStats(get(), { width: W, height: H });
    ref.forEach(([s, q], c) => {
      const m = s / S, v = q / S - m * m;
      if (Math.abs(st.mean[c] - m) > 1e-9 * m || Math.abs(st.var[c] - v) > 1e-9 * v) throw new Error(`${name} stats ${W}x${H}: channel ${c}`);
    });
  }
  const r = await interleaved([
    { name: 'simdnorm', group: 'g', fn: () => sn.channelStats(px, { width: W, height: H }) },
    { name: 'simdnorm-wasm', group: 'g', fn: () => sn.channelStats(pxw(), { width: W, height: H }) },
    { name: 'read', group: 'g', fn: () => ceiling.readAt(S, host.ptr) },
    { name: 'js', fn: () => jsStats(px), rounds: 3 },
  ], { rounds: +opts.rounds, maxTime: 0.25, minTime: 0.02 });
  rows.push({ what: `channelStats bytes ${W}×${H} RGBA`, ms: Object.fromEntries([...r].map(([k, v]) => [k, v.ms])), bytes: 4 * S, stats: true });
  host.free(); src.free();
}
process.stderr.write('\n');

const env = environment();
console.log(`node ${env.node}, ${env.cpu}, one thread, median ms of ${opts.rounds} interleaved rounds\n`);
console.log('| op | simdnorm | simdnorm (bytes in wasm) | ceiling (copy / read) | plain JS | tfjs-wasm | simdnorm ÷ ceiling | JS ÷ simdnorm | tfjs ÷ simdnorm |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const { what, ms, bytes, stats } of rows) {
  const c = stats ? ms.read : ms.copy, gbs = (t) => `${fmt(t)} ms (${(bytes / t / 1e6).toFixed(1)} GB/s)`;
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '–');
  console.log(`| ${what} | ${gbs(ms.simdnorm)} | ${fmt(ms['simdnorm-wasm'])} | ${fmt(c)} | ${fmt(ms.js)} | ${ms['tfjs-wasm'] ? fmt(ms['tfjs-wasm']) : '–'} | ${ratio(c, ms.simdnorm)} (wasm bytes ${ratio(c, ms['simdnorm-wasm'])}) | ${ratio(ms.js, ms.simdnorm)} | ${ratio(ms['tfjs-wasm'], ms.simdnorm)} |`);
}

// The targets, per row: met or missed with the measured ratio.
console.log('\ntargets (simdnorm from the JS heap; in parentheses: bytes already in wasm memory)');
const verdict = (ok) => (ok ? 'met' : 'missed');
for (const { what, ms, stats } of rows) {
  const ceil = stats ? ms.read : ms.copy, r = ceil / ms.simdnorm, rw = ceil / ms['simdnorm-wasm'];
  const parts = [`${stats ? 'read' : 'copy'} ≥ 0.7×: ${r.toFixed(2)} (${rw.toFixed(2)}) ${verdict(r >= 0.7)}`];
  if (!stats) {
    parts.push(`plain JS ≥ 30×: ${(ms.js / ms.simdnorm).toFixed(1)} ${verdict(ms.js / ms.simdnorm >= 30)}`);
    if (ms['tfjs-wasm']) parts.push(`tfjs ≥ 10×: ${(ms['tfjs-wasm'] / ms.simdnorm).toFixed(0)} ${verdict(ms['tfjs-wasm'] / ms.simdnorm >= 10)}`);
  }
  console.log(`  ${what}: ${parts.join('; ')}`);
}
