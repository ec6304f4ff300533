// The worker side of WorkerPool. build.mjs bundles this file on its own (IIFE, no wasm inside:
// the owner posts its compiled module) and the pool embeds the bundle as text, so one script
// runs in Node worker_threads (eval) and in browser Web Workers (Blob URL): nothing to host.
//
// What a worker computes in each phase is in js/workers/phase-work.ts.
import { init, rt } from "../core/runtime";
import { Heap } from "../core/heap";
import { tensor, Tensor } from "../core/tensor";
import { WORK, type Work } from "./phase-work";
import type { Outputs, WorkPart } from "./phases";
import { WRITES, type FromWorker, type Ref, type RunMsg, type ToWorker, type Fault } from "./protocol";
import { isNode } from "./env";

declare const process: { versions?: { node?: string }; exit(code: number): never } | undefined;
interface NodePort { on(ev: "message", fn: (m: ToWorker) => void): void; postMessage(m: unknown, t?: unknown[]): void; }
interface WebScope { addEventListener(ev: "message", fn: (e: { data: ToWorker }) => void): void; postMessage(m: unknown, t?: unknown[]): void; close(): void; }

const inNode = isNode();
/** Node: set once node:worker_threads is loaded (by import(): the eval'd script may run as CommonJS or as ESM). */
let nodePort: NodePort | null = null;
const web = globalThis as unknown as WebScope;

function send(m: FromWorker, transfer: unknown[] = []): void {
  if (nodePort) nodePort.postMessage(m, transfer);
  else web.postMessage(m, transfer);
}

let shared: WebAssembly.Memory | null = null;
let index = -1;
/** Message transport: the parts of an op kept in this worker's memory between its phases. */
const kept = new Map<number, { x?: Tensor; dy?: Tensor }[]>();

function onMessage(m: ToWorker): void {
  if (m.t === "init") { start(m.module, m.memory, m.arena, m.index); return; }
  if (m.t === "drop") { drop(m.op); return; }
  const fault = m.fault && (!m.fault.phase || m.fault.phase === m.phase) ? m.fault : undefined;
  if (fault && fault.kind !== "throw") { misbehave(fault); return; }
  try {
    if (fault) throw new Error(`injected fault (throw) in worker ${index}`);
    const transfer: unknown[] = [];
    const result = run(m, transfer);
    send({ t: "done", seq: m.seq, result }, transfer);
  } catch (e) {
    drop(m.op);
    send({ t: "failed", seq: m.seq, error: e instanceof Error ? `${e.name === "Error" ? "" : e.name + ": "}${e.message}` : String(e) });
  }
}

async function start(module: WebAssembly.Module, memory: WebAssembly.Memory | undefined, arena: [number, number] | undefined, i: number): Promise<void> {
  index = i;
  try {
    shared = memory ?? null;
    await init(memory ? { wasm: module, memory, arena: { start: arena![0], end: arena![1] } } : { wasm: module });
    send({ t: "ready" });
  } catch (e) {
    send({ t: "init-failed", error: String(e instanceof Error ? e.message : e) });
  }
}

/** Test faults that leave the message unanswered: the owner must notice on its own. */
function misbehave(f: Fault): void {
  if (f.kind === "uncaught") throw new Error(`injected fault (uncaught) in worker ${index}`);
  if (f.kind === "exit") {
    if (nodePort) process!.exit(7);
    web.close();
    return;
  }
  for (;;) { /* hang: only terminate() ends this */ }
}

function drop(op: number): void {
  const parts = kept.get(op);
  if (!parts) return;
  kept.delete(op);
  for (const p of parts) { p.x?.free(); p.dy?.free(); }
}

/** A view of a place in the shared memory, or the values posted to this worker. */
function view(r: Ref): Float32Array {
  if (r instanceof Float32Array) return r;
  return new Float32Array(rt().heap.buffer, r.ptr, r.len);
}

function run(m: RunMsg, transfer: unknown[]): Record<string, unknown> {
  if (shared) {
    const [start, end] = m.arena!;
    rt().heap = new Heap(shared, start, end);
  }
  // Inputs of each part: kept from an earlier phase, else what the message brought.
  let state = kept.get(m.op);
  if (!state && m.keep && !shared) {
    state = m.parts.map((p) => ({
      x: p.x ? tensor(p.shape, p.layout, view(p.x)) : undefined,
      dy: p.dy ? tensor(p.shape, p.layout, view(p.dy)) : undefined,
    }));
    kept.set(m.op, state);
  }
  const work = WORK[m.phase] as unknown as Work<unknown, Record<string, unknown>>, writes = WRITES[m.phase];
  const parts: WorkPart[] = m.parts.map((p, i) => ({
    x: state?.[i].x ?? view(p.x!),
    dy: state?.[i].dy ?? (p.dy ? view(p.dy) : undefined),
    shape: p.shape,
    layout: p.layout,
    out: !writes ? undefined : p.out ? view(p.out) : new Float32Array(p.shape.reduce((a, b) => a * b, 1)),
  }));
  const reply = work(parts, m.params ?? {});
  if (!m.keep) drop(m.op);
  // Outputs travel back only when this worker has its own memory (moved, not cloned).
  if (writes) {
    const r = reply as unknown as Outputs;
    if (shared) r.outs = [];
    else for (const o of r.outs) transfer.push(o.buffer);
  }
  return reply;
}

// Node buffers messages until the listener is attached.
const WORKER_THREADS: string = "node:worker_threads";
if (inNode) import(WORKER_THREADS).then((wt) => { nodePort = (wt as unknown as { parentPort: NodePort }).parentPort; nodePort.on("message", onMessage); });
else web.addEventListener("message", (e) => onMessage(e.data));
