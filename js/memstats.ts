import { rt } from "./runtime";

/** Bytes of wasm memory in total and currently allocated (tensors + in-flight temporaries). */
export function memoryStats(): { memoryBytes: number; allocatedBytes: number } {
  const h = rt().heap;
  return { memoryBytes: h.bytes, allocatedBytes: h.inUse };
}
