import { rt } from "./runtime";

/**
 * Bytes of wasm memory: in total, allocated (tensors + in-flight temporaries) and the scratch
 * block kept for the small temporaries of op calls (a few KiB, grown once for wide C).
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
