// What bounds the image kernels: instruction count, not bytes. Op ladders against the image
// kernels themselves, all on one memory and timed call by call in turn (kernel alone: no JS
// layer, bytes already in wasm memory).
//
//   node bench/pixels-bound.mjs [--reps 300] [--sizes 224x224,512x512,1920x1080]
//
// Statistics (vs `read`: a SIMD read of the bytes, one load and one add per 16 bytes):
//   readK   the read plus K−1 more SIMD ALU ops per 16 bytes (K ALU ops in all, no constants:
//           adds and xors on the loaded vector, two chains or-ed, then the accumulator add)
//   stats   px_stats_u8 (assembly/px_stats.ts), RGBA and RGB
// Conversion (vs `copy`: copy_f32 of bench/ceiling moving 5 bytes per colour value, the
//   ceiling bench/pixels.mjs uses):
//   storeK  per 16 bytes loaded (4 RGBA pixels) three 16-byte stores (the 48 bytes fromPixels
//           writes), each after K ALU ops on the loaded vector (storeK with K = 4 has the
//           kernel's count: swizzle, convert, multiply, add)
//   cf, cl  px_normalize_f32_cf / _cl (assembly/px_normalize.ts), RGBA
//   the JS-heap path: the chunked copy of the bytes into wasm memory alone (ms, GB/s of bytes
//           copied), and that copy with cf on each chunk (what fromPixels does, minus its JS layer)
// The ladder kernels are generated here and compiled with the image kernels into one module.
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, median } from './lib/cli.mjs';
import { environment } from './lib/env.mjs';

const { opts } = parseArgs(process.argv.slice(2), { reps: '300', sizes: '224x224,512x512,1920x1080' });
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const READ_K = [1, 2, 3, 4, 6, 9, 12], STORE_K = [0, 1, 2, 3, 4, 6];

/** K ALU ops on v (two chains, no constants), the last one or-ing them; K = 0: v itself. */
const opsOn = (K) => {
  let s = 'let x = v, y = v;';
  for (let j = 1; j < K; j++) s += j % 2 ? ' x = i16x8.add(x, v);' : ' y = v128.xor(y, v);';
  return `${s} const t = ${K === 0 ? 'v' : K === 1 ? 'i16x8.add(x, v)' : 'v128.or(x, y)'};`;
};
/** read_K: K ALU ops per 16 bytes in all, the last being the accumulator add. */
const readK = (K) => {
  const chain = (a, off) => `{ const v = v128.load(p, ${off}); ${K > 1 ? opsOn(K - 1) : 'const t = v;'} ${a} = i32x4.add(${a}, t); }`;
  return `export function read${K}(n: i32, src: usize): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (let i = 0; i < (n & ~63); i += 64) { const p = src + <usize>i;
    ${chain('a0', 0)} ${chain('a1', 16)} ${chain('a2', 32)} ${chain('a3', 48)} }
  const s = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 3);
}\n`;
};
/** store_K: 4 pixels (16 bytes) in, three planes of 16 bytes out, K ALU ops before each store. */
const storeK = (K) => {
  const one = (off, c) => `{ const v = v128.load(p, ${off}); ${opsOn(K)} v128.store(o + ${c} * s4, t, ${off}); }`;
  const body = [0, 16, 32, 48].map((off) => [0, 1, 2].map((c) => one(off, c)).join(' ')).join('\n    ');
  return `export function store${K}(R: i32, src: usize, dst: usize): void {
  const s4 = <usize>R << 2;
  for (let i = 0; i < (R & ~15); i += 16) { const p = src + <usize>(i << 2), o = dst + <usize>(i << 2);
    ${body} }
}\n`;
};
const dir = mkdtempSync(join(tmpdir(), 'pixels-bound-'));
const from = (f) => relative(dir, join(root, f)).split('\\').join('/');
const src = `export { px_stats_u8 } from "${from('assembly/px_stats')}";
export { px_normalize_f32_cf, px_normalize_f32_cl } from "${from('assembly/px_normalize')}";
export { copy_f32 } from "${from('bench/ceiling/ceiling')}";
${READ_K.map(readK).join('')}${STORE_K.map(storeK).join('')}`;
writeFileSync(join(dir, 'bound.ts'), src);
const asc = (await import('assemblyscript/asc')).default;
let err = '';
const { error } = await asc.main([join(dir, 'bound.ts'), '--config', join(root, 'bench/ceiling/asconfig.json'), '--outFile', join(dir, 'bound.wasm'),
  '--importMemory', '--enable', 'simd', '-O3', '--shrinkLevel', '1', '--converge', '--runtime', 'stub', '--noAssert'], { stderr: { write: (s) => { err += s; } } });
if (error) throw new Error(`asc: ${error.message}\n${err}`);

const sizes = opts.sizes.split(',').map((s) => s.split('x').map(Number));
const maxS = Math.max(...sizes.map(([w, h]) => w * h));
const PX = 1 << 16, OUT = PX + 8 * maxS + 4096, ACC = 64, PAR = 256; // byte addresses (the copy reads 7.5·S bytes from PX)
const memory = new WebAssembly.Memory({ initial: Math.ceil((OUT + 16 * maxS + 4096) / 65536) });
const k = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(dir, 'bound.wasm'))), { env: { memory, abort() { throw new Error('abort'); } } }).exports;
const U8 = new Uint8Array(memory.buffer);
for (let i = 0; i < 8 * maxS; i++) U8[PX + i] = (Math.imul(i, 2654435761) >>> 24) & 255;
new Float32Array(memory.buffer, PAR, 6).set([0.017, 0.0175, 0.0174, -2.1, -2.0, -1.8]);
U8.fill(1, OUT, OUT + 16 * maxS); // every output page backed

/** Median ms of each fn, timed in turn call by call. */
function race(fns) {
  const t = Object.fromEntries(Object.keys(fns).map((n) => [n, []]));
  for (let r = 0; r < +opts.reps; r++) for (const [n, f] of Object.entries(fns)) { const t0 = performance.now(); f(); t[n].push(performance.now() - t0); }
  return Object.fromEntries(Object.entries(t).map(([n, a]) => [n, median(a)]));
}

const env = environment();
console.log(`node ${env.node}, ${env.cpu}; median of ${opts.reps} calls each, in turn, one memory; ratio = ceiling time ÷ time\n`);
console.log(`| image | read GB/s | ${READ_K.map((K) => `read${K}`).join(' | ')} | stats RGBA | stats RGB |`);
console.log(`|---|---|${READ_K.map(() => '---|').join('')}---|---|`);
for (const [W, H] of sizes) {
  const S = W * H, n = 4 * S;
  const fns = { read: () => k.read1(n, PX) };
  for (const K of READ_K) fns[`read${K}`] = () => k[`read${K}`](n, PX);
  fns.rgba = () => k.px_stats_u8(S, 4, PX, ACC);
  fns.rgb = () => k.px_stats_u8(S, 3, PX, ACC); // 3·S bytes: its read is 3/4 of the RGBA one
  const m = race(fns);
  const r = (x, bytes = n) => (m.read * bytes / n / m[x]).toFixed(2);
  console.log(`| ${W}×${H} | ${(n / m.read / 1e6).toFixed(0)} | ${READ_K.map((K) => r(`read${K}`)).join(' | ')} | ${r('rgba')} | ${r('rgb', 3 * S)} |`);
}
console.log(`\n| image | copy GB/s | ${STORE_K.map((K) => `store${K}`).join(' | ')} | cf (NCHW) | cl (NHWC) | JS heap → wasm, chunked | cf from the JS heap |`);
console.log(`|---|---|${STORE_K.map(() => '---|').join('')}---|---|---|---|`);
for (const [W, H] of sizes) {
  const S = W * H, nCopy = Math.ceil((5 * 3 * S) / 8);
  const fns = { copy: () => k.copy_f32(nCopy, PX, OUT) };
  for (const K of STORE_K) fns[`store${K}`] = () => k[`store${K}`](S, PX, OUT);
  fns.cf = () => k.px_normalize_f32_cf(S, S, 4, PX, PAR, PAR + 12, OUT);
  fns.cl = () => k.px_normalize_f32_cl(S, 4, PX, PAR, PAR + 12, OUT);
  // What bytes in the JS heap add: fromPixels' chunked copy into wasm memory (TypedArray.set of
  // 32768 pixels at a time into one staging buffer), then the kernel on the chunk.
  const heap = new Uint8Array(4 * S).map((_, i) => (i * 37) & 255), chunk = 32768;
  fns.heapCopy = () => { for (let i = 0; i < S; i += chunk) U8.set(heap.subarray(4 * i, 4 * Math.min(S, i + chunk)), PX); };
  fns.heapCf = () => { for (let i = 0; i < S; i += chunk) { const c = Math.min(chunk, S - i); U8.set(heap.subarray(4 * i, 4 * (i + c)), PX); k.px_normalize_f32_cf(c, S, 4, PX, PAR, PAR + 12, OUT + 4 * i); } };
  const m = race(fns);
  const r = (x) => (m.copy / m[x]).toFixed(2);
  console.log(`| ${W}×${H} | ${(8 * nCopy / m.copy / 1e6).toFixed(0)} | ${STORE_K.map((K) => r(`store${K}`)).join(' | ')} | ${r('cf')} | ${r('cl')} | ${m.heapCopy.toFixed(3)} ms (${(4 * S / m.heapCopy / 1e6).toFixed(0)} GB/s) | ${r('heapCf')} |`);
}
