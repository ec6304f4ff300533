// Module Web Worker used by the smoke pages (start it with { type: 'module' }).
// Every request { id, cmd, ... } gets one reply { id, ok, ... } or { id, ok: false, error }.
//   cmd 'probe'  → { simd, crossOriginIsolated, sharedArrayBuffer }
//   cmd 'echo'   → { payload } (structured clone / transfer round trip)
//   cmd 'sab'    → given an Int32Array-sized SharedArrayBuffer: writes i*i to slots 1..n-1, then
//                  Atomics.store(slot 0, 1) + Atomics.notify(slot 0) — the page waits on slot 0
//   cmd 'module' → instantiates a posted WebAssembly.Module (compile once, share with workers)
//                  and returns { value: exports.f(21) }
//   cmd 'memory' → same with a shared WebAssembly.Memory (what the threads build will share),
//                  writing f32 values at byteOffset and the flag at flagOffset
import { simdWorks } from './lib/wasm-probe.mjs';

const handlers = {
  async probe() {
    return {
      simd: await simdWorks(),
      crossOriginIsolated: self.crossOriginIsolated,
      sharedArrayBuffer: typeof SharedArrayBuffer,
    };
  },
  echo({ payload }) {
    return { payload };
  },
  async module({ module }) {
    const instance = await WebAssembly.instantiate(module);
    return { value: instance.exports.f(21) };
  },
  sab({ sab }) {
    const i32 = new Int32Array(sab);
    for (let i = 1; i < i32.length; i++) Atomics.store(i32, i, i * i);
    Atomics.store(i32, 0, 1);
    const woken = Atomics.notify(i32, 0);
    return { woken };
  },
  memory({ memory, byteOffset, count, flagOffset }) {
    const f32 = new Float32Array(memory.buffer, byteOffset, count);
    for (let i = 0; i < count; i++) f32[i] = i + 0.5;
    const flag = new Int32Array(memory.buffer, flagOffset, 1);
    Atomics.store(flag, 0, 1);
    const woken = Atomics.notify(flag, 0);
    return { woken, isShared: memory.buffer instanceof SharedArrayBuffer };
  },
};

self.onmessage = async (ev) => {
  const { id, cmd } = ev.data ?? {};
  try {
    const handler = handlers[cmd];
    if (!handler) throw new Error(`unknown cmd ${cmd}`);
    self.postMessage({ id, ok: true, ...(await handler(ev.data)) });
  } catch (err) {
    self.postMessage({ id, ok: false, error: `${err.name}: ${err.message}` });
  }
};
