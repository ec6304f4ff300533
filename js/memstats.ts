import { rt } from "./runtime";

/** Bytes of wasm memory in total and currently allocated (tensors + in-flight temporaries). */
export function memoryStats(): { memoryBytes: number; allocatedBytes: number } {
  const h = rt().heap;
  return { memoryBytes: h.bytes, allocatedBytes: h.inUse };
}

/**
 * The module's WebAssembly.Memory (advanced: share tensors with another wasm module by
 * importing it). Tensors are byte ranges of it; it only grows.
 */
export function wasmMemory(): WebAssembly.Memory {
  return rt().heap.memory;
}
