// The memory of one pool op, held from its first phase to its last (across awaits).
//   shared   the user's arrays bound by a Scope (zero-copy when they live in the shared memory,
//            else copied in once / out once), plus one scratch arena per worker involved. The
//            Scope takes nothing from the heap's LIFO stage (js/core/heap.ts): it lives across
//            awaits while other calls push and pop the stage.
//   message  parts are cut out of the user's arrays when posted; the outputs are assembled from
//            the workers' answers.
// `L` is the runtime of the bundle that made the pool (js/workers/link.ts).
import type { Scope } from "../core/scope";
import type { TensorLike } from "../core/tensor";
import type { PoolLink } from "./link";
import type { Input, OutSpec, Part } from "./plan";
import type { Ref } from "./protocol";

export class OpMemory {
  private readonly s: Scope | null;
  private readonly ptrs: number[] = [];
  private outs: ReturnType<Scope["output"]>[] = [];
  private values: Float32Array[] = [];
  private readonly arenas: [number, number][] = [];

  constructor(private readonly L: PoolLink, shared: boolean, private readonly inputs: Input[], private readonly outSpecs: OutSpec[], arenas: number, arenaBytes: number) {
    if (!shared) {
      // The Scope checks an `out` Tensor's shape and layout on the shared path; here, before any phase runs.
      for (const o of outSpecs) if (o.user && L.isTensor(o.user)) L.sameShape(o.name, o.user, o.shape, o.layout);
      this.s = null;
      this.values = outSpecs.map((o) => new Float32Array(o.len));
      return;
    }
    const s = (this.s = new L.Scope({ stage: false }));
    try {
      const args = inputs.map((a) => s.input(a.name, a.arr, a.len));
      const outs = outSpecs.map((o) => s.output(o.name, o.user, o.len, o.asTensor, o.shape, o.layout));
      s.commit(arenas * (arenaBytes + 16));
      for (const a of args) this.ptrs.push(a.ptr);
      this.outs = outs;
      for (let k = 0; k < arenas; k++) { const p = s.temp(arenaBytes); this.arenas.push([p, p + arenaBytes]); }
    } catch (e) {
      s.dispose(true);
      throw e;
    }
  }

  /** What a worker reads for input i from offset off (values); copies made here go in transfer. */
  ref(i: number, off: number, len: number, transfer: Transferable[]): Ref {
    if (this.s) return { ptr: this.ptrs[i] + 4 * off, len };
    const a = this.inputs[i].arr;
    const v = this.L.isTensor(a) ? a.data : a;
    const sub = v.subarray(off, off + len);
    // Posting a view clones its whole buffer: post the caller's array only when it is all of its
    // buffer (cloned once), else a copy of just the part, moved rather than cloned again.
    if (sub.byteOffset === 0 && sub.byteLength === sub.buffer.byteLength) return sub;
    const copy = sub.slice();
    transfer.push(copy.buffer);
    return copy;
  }

  /** Shared memory: where a worker writes output o from offset off. */
  outRef(o: number, off: number, len: number): { ptr: number; len: number } | undefined {
    return this.s ? { ptr: this.outs[o].ptr + 4 * off, len } : undefined;
  }

  /** Shared memory: the scratch arena of the k-th worker involved. */
  arena(k: number): [number, number] | undefined { return this.s ? this.arenas[k] : undefined; }

  /** Message transport: a worker's output for output o at offset off. */
  put(o: number, off: number, v: Float32Array): void { this.values[o].set(v, off); }

  /** The outputs, once every phase succeeded (plain arrays copied out, tensors made). */
  results(): TensorLike[] {
    if (this.s) return this.outs.map((o) => this.s!.result(o));
    return this.outSpecs.map((o, i) => {
      const v = this.values[i];
      if (o.user) { o.user.set(v); return o.user; }
      return o.asTensor ? this.L.tensor(o.shape, o.layout, v) : v;
    });
  }

  dispose(failed: boolean): void { this.s?.dispose(failed); }
}

/** The memory of an op on these parts; each worker's arena fits the kernels' temporaries of its largest part, with room to spare. */
export function opMemory(L: PoolLink, shared: boolean, C: number, parts: Part[], inputs: Input[], outs: OutSpec[]): OpMemory {
  let most = 0;
  for (const p of parts) if (p.size) most = Math.max(most, L.tempBytes(L.geometry(p.shape, p.layout)));
  const used = new Set(parts.filter((p) => p.slot >= 0).map((p) => p.slot)).size;
  return new OpMemory(L, shared, inputs, outs, used, most + 256 * C + 65536);
}
