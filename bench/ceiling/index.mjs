// The memory ceiling: wasm SIMD copy (8 bytes/value moved) and read (4 bytes/value) over
// buffers preallocated in the module's memory, and the one-pass Σx, Σx² loop (the statistics
// ceiling: a read plus two adds and a multiply per vector). The benchmark divides every
// system's GB/s by these.
//
//   import { loadCeiling } from './bench/ceiling/index.mjs';
//   const ceiling = await loadCeiling({ maxValues: 16 << 20 });
//   ceiling.copy(n); ceiling.read(n);        // n values from the start of the buffers
//
// Run directly (node bench/ceiling/index.mjs) for a self-test (tails, sums) and a quick GB/s.
import { readFile, access, stat } from 'node:fs/promises';
import { buildCeiling, WASM_PATH, WASM_IMPORT_PATH } from './build.mjs';

const PAGE = 65536;
const BASE = PAGE; // past address 0 and any static data (the module has none today)
const alignPage = (b) => Math.ceil(b / PAGE) * PAGE;

/**
 * Instantiates ceiling.wasm (building it with asc first if it is missing) and grows its memory
 * to hold a source and a destination buffer of `maxValues` float32 each, both filled so every
 * page is really backed: reads of never-touched pages would hit the kernel's shared zero page
 * and stay in cache, giving a fake ceiling.
 *
 * @param {{ maxValues?: number, rebuild?: boolean }} [options] maxValues defaults to 16 Mi
 *   (64 MiB per buffer, 128 MiB in all); copy(n)/read(n) with a larger n grow the buffers.
 * @returns {Promise<{ copy(n: number): void, read(n: number): number, memory: WebAssembly.Memory,
 *   readonly src: Float32Array, readonly dst: Float32Array, readonly capacity: number,
 *   ensure(n: number): void }>}
 */
export async function loadCeiling({ maxValues = 16 << 20, rebuild = false } = {}) {
  if (rebuild || await stale(WASM_PATH)) await buildCeiling();
  const { instance } = await WebAssembly.instantiate(await readFile(WASM_PATH), {});
  const { copy_f32, read_f32, sumsq_f32, affine_f32, dsums_f32, dxpass_f32, memory } = instance.exports;

  let capacity = 0, src = 0, dst = 0;
  /** Makes room for n values per buffer; growing detaches old views, so views are getters. */
  function ensure(n) {
    if (n <= capacity) return;
    const bytes = alignPage(n * 4);
    src = BASE; dst = BASE + bytes;
    const need = dst + bytes;
    if (need > 4 * 1024 ** 3) throw new Error(`ceiling buffers of ${n} values need ${need} bytes, more than wasm32's 4 GiB`);
    const have = memory.buffer.byteLength;
    if (need > have) memory.grow((need - have) / PAGE);
    capacity = bytes / 4;
    const s = new Float32Array(memory.buffer, src, capacity);
    for (let i = 0; i < capacity; i++) s[i] = (i & 1023) * 0.0009765625 - 0.5; // exact in f32
    new Float32Array(memory.buffer, dst, capacity).fill(1);
  }
  ensure(maxValues);

  return {
    memory,
    get capacity() { return capacity; },
    get src() { return new Float32Array(memory.buffer, src, capacity); },
    get dst() { return new Float32Array(memory.buffer, dst, capacity); },
    ensure,
    /** Copies n values src → dst (8 bytes per value moved). */
    copy(n) { if (n > capacity) ensure(n); copy_f32(n, src, dst); },
    /** Reads n values of src, returning their (float32) sum (4 bytes per value moved). */
    read(n) { if (n > capacity) ensure(n); return read_f32(n, src); },
    /** Σx + Σx² of n values of src in one pass (4 bytes per value moved). */
    sumsq(n) { if (n > capacity) ensure(n); return sumsq_f32(n, src); },
    /** dst = src·a + b over n values (the op-shaped bounds, ceiling.ts). */
    affine(n, a, b) { if (n > capacity) ensure(n); affine_f32(n, src, dst, a, b); },
    /** Σdst + Σdst·src over n values (dsums with x = src, dy = dst). */
    dsums(n) { if (n > capacity) ensure(n); return dsums_f32(n, src, dst); },
    /** dst = dst·a + src·b + c over n values (dxpass with x = src, dy = dst, in place). */
    dxpass(n, a, b, c) { if (n > capacity) ensure(n); dxpass_f32(n, src, dst, dst, a, b, c); },
  };
}

/**
 * The ceiling kernels running on ANOTHER module's memory (e.g. simdnorm's, from
 * sn.wasmMemory()), so a copy/read can move exactly the bytes an op moves, in the same cache
 * state: copyAt(n, srcPtr, dstPtr), readAt(n, ptr). Pointers are byte offsets.
 */
export async function loadCeilingOn(memory) {
  const { copy_f32, read_f32, sumsq_f32, affine_f32, dsums_f32, dxpass_f32 } = await ceilingExportsOn(memory);
  return {
    copyAt: (n, src, dst) => copy_f32(n, src, dst), readAt: (n, src) => read_f32(n, src), sumsqAt: (n, src) => sumsq_f32(n, src),
    // The op-shaped bounds (ceiling.ts): y = x·a + b; Σdy, Σdy·x; dx = dy·a + x·b + c.
    affineAt: (n, src, dst) => affine_f32(n, src, dst, 1.1, 0.1),
    dsumsAt: (n, x, dy) => dsums_f32(n, x, dy),
    dxpassAt: (n, x, dy, dst) => dxpass_f32(n, x, dy, dst, 0.9, -0.2, 0.05),
  };
}

/**
 * The raw exports of the ceiling module instantiated on `memory` (the imported-memory build,
 * rebuilt only when missing or older than ceiling.ts): for scripts that call its loops with their
 * own pointers (bench/kernel-ab.mjs, bench/short-rows-bound.mjs).
 */
export async function ceilingExportsOn(memory) {
  if (await stale(WASM_IMPORT_PATH)) await buildCeiling({ importMemory: true });
  return (await WebAssembly.instantiate(await readFile(WASM_IMPORT_PATH), { env: { memory } })).instance.exports;
}

/** True when the wasm at path is missing or older than ceiling.ts. */
async function stale(path) {
  try { await access(path); } catch { return true; }
  return (await stat(path)).mtimeMs < (await stat(new URL('./ceiling.ts', import.meta.url))).mtimeMs;
}

async function selfTest() {
  const c = await loadCeiling({ maxValues: 1 << 16 });
  let bad = 0;
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4099]) {
    c.dst.fill(-7);
    c.copy(n);
    const s = c.src, d = c.dst;
    for (let i = 0; i < n; i++) if (d[i] !== s[i]) { bad++; console.error(`copy n=${n}: dst[${i}] = ${d[i]}, src = ${s[i]}`); break; }
    if (d[n] !== -7) { bad++; console.error(`copy n=${n} wrote past the end`); }
    let e = 0; for (let i = 0; i < n; i++) e += s[i];
    const got = c.read(n);
    if (Math.abs(got - e) > 1e-4 * (1 + Math.abs(e))) { bad++; console.error(`read n=${n}: ${got} vs ${e}`); }
    let e2 = 0; for (let i = 0; i < n; i++) e2 += s[i] + s[i] * s[i];
    const got2 = c.sumsq(n);
    if (Math.abs(got2 - e2) > 1e-4 * (1 + Math.abs(e2))) { bad++; console.error(`sumsq n=${n}: ${got2} vs ${e2}`); }
    // The op-shaped bounds: affine writes exactly n values, dsums and dxpass read what they should.
    c.dst.fill(-7);
    c.affine(n, 1.5, 0.25);
    for (let i = 0; i < n; i++) if (d[i] !== Math.fround(Math.fround(s[i] * 1.5) + 0.25)) { bad++; console.error(`affine n=${n}: dst[${i}] = ${c.dst[i]}`); break; }
    if (c.dst[n] !== -7) { bad++; console.error(`affine n=${n} wrote past the end`); }
    const dy = c.dst.slice(0, n);
    let e3 = 0; for (let i = 0; i < n; i++) e3 += dy[i] + dy[i] * s[i];
    const got3 = c.dsums(n);
    if (Math.abs(got3 - e3) > 1e-4 * (1 + Math.abs(e3))) { bad++; console.error(`dsums n=${n}: ${got3} vs ${e3}`); }
    c.dxpass(n, 0.5, 2, -1);
    for (let i = 0; i < n; i++) {
      const e = Math.fround(Math.fround(dy[i] * 0.5) + Math.fround(Math.fround(s[i] * 2) - 1));
      if (c.dst[i] !== e) { bad++; console.error(`dxpass n=${n}: dst[${i}] = ${c.dst[i]}, expected ${e}`); break; }
    }
    if (c.dst[n] !== -7) { bad++; console.error(`dxpass n=${n} wrote past the end`); }
  }
  console.log(bad ? `ceiling self-test: ${bad} failures` : 'ceiling self-test: ok');
  const big = await loadCeiling();
  const n = big.capacity;
  for (const [name, f, bpv] of [['copy', () => big.copy(n), 8], ['read', () => big.read(n), 4], ['sumsq', () => big.sumsq(n), 4]]) {
    f();
    const t = [];
    for (let i = 0; i < 15; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); }
    t.sort((a, b) => a - b);
    console.log(`${name} ${(n * 4 / 2 ** 20).toFixed(0)} MiB: median ${t[7].toFixed(2)} ms, ${(n * bpv / t[7] / 1e6).toFixed(2)} GB/s`);
  }
  process.exitCode = bad ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await selfTest();
