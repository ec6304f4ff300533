import { rt } from "./runtime";

/**
 * Bytes of wasm memory: in total, allocated (tensors + in-flight temporaries) and the scratch
 * block kept for the small temporaries of op calls: 16 KiB, grown for wide C up to at most
 * 1 MiB; a call whose O(C) temporaries need more takes them from the heap and gives them back
 * before it returns, so `scratchBytes` never exceeds 1 MiB and `allocatedBytes` returns to its
 * value before the call.
 * @example const { memoryBytes, allocatedBytes, scratchBytes } = memoryStats();
 */
export function memoryStats(): { memoryBytes: number; allocatedBytes: number; scratchBytes: number } {
  const h = rt().heap;
  return { memoryBytes: h.bytes, allocatedBytes: h.inUse, scratchBytes: h.stageBytes };
}

/**
 * The module's WebAssembly.Memory (advanced: share tensors with another wasm module by
 * importing it). Tensors are byte ranges of it; it only grows.
 */
export function wasmMemory(): WebAssembly.Memory {
  return rt().heap.memory;
}
