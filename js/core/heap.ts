// JS-side allocator for the module's linear memory. The kernels never allocate; JS owns every
// byte above heap_base, so one allocator serves the plain build and the shared-memory (threads)
// build alike: only the owning thread allocates, workers receive pointers.
//
// First-fit over an address-ordered free list with coalescing; 16-byte alignment so f32x4 rows
// start aligned. Memory only grows (wasm cannot shrink); after a growth the old ArrayBuffer is
// detached, so views are always made fresh from the current buffer, never cached across calls.

const ALIGN = 16;
const PAGE = 65536;

/** bytes rounded up to the allocation alignment (0 stays 0): offsets of blocks packed into one temporary. */
export const aligned = (bytes: number): number => (bytes + ALIGN - 1) & ~(ALIGN - 1);
/**
 * Largest stage kept between calls (bytes). A call that needs more temporaries takes them from
 * the heap and gives them back when it returns, so scratch kept by the module stays bounded.
 */
export const STAGE_MAX = 1 << 20;

export class Heap {
  readonly memory: WebAssembly.Memory;
  private free: Array<[number, number]> = []; // [ptr, size], address-ordered
  private used = new Map<number, number>();
  private buf: ArrayBuffer | SharedArrayBuffer;
  /** The memory is shared with other threads (the threads build). */
  private readonly shared: boolean;
  private f32v: Float32Array;
  private f64v: Float64Array;
  /** Buffers this memory had before it grew (their views are stale when detached). */
  readonly past = new WeakSet<object>();
  /** Bytes currently allocated. */
  inUse = 0;
  /** Allocated block starts in address order, rebuilt on demand (null after any alloc/release). */
  private starts: number[] | null = null;
  /** Bytes at and above this address were never handed out: wasm zero-fills them on growth. */
  private fresh: number;

  /** End of the range this heap may use, when it is confined to an arena (never grows). */
  private readonly limit?: number;

  // The stage: one block kept for the small temporaries of op calls (parameters, accumulators,
  // lane patterns). A call bump-allocates from it and gives everything back at once when it
  // ends, so an op on zero-copy tensors walks no free list and allocates nothing (after a big
  // kernel the allocator's state is out of the caches: docs/performance.md, per-call cost).
  private stageBase = -1;
  private stageSize = 0;
  /** Bytes of the stage in use (by the running call and any call it nests). */
  stageTop = 0;

  /**
   * Manage [base, end of memory), or only [base, limit) when limit is given: a worker sharing
   * memory that another thread allocates uses an arena the owner lent it, and never grows it.
   */
  constructor(memory: WebAssembly.Memory, base: number, limit?: number) {
    this.memory = memory;
    this.limit = limit;
    const start = Math.ceil(base / ALIGN) * ALIGN;
    this.buf = memory.buffer;
    this.shared = typeof SharedArrayBuffer !== "undefined" && this.buf instanceof SharedArrayBuffer;
    this.f32v = new Float32Array(this.buf);
    this.f64v = new Float64Array(this.buf);
    const end = limit ?? this.buf.byteLength;
    if (end > start) this.free.push([start, end - start]);
    // An arena lent by another thread may hold old bytes; memory of our own starts zeroed.
    this.fresh = limit === undefined ? start : end;
  }

  /** Allocate bytes (rounded up to 16); grows memory when no free block fits. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let i = this.free.findIndex((b) => b[1] >= size);
    if (i < 0) { this.grow(size); i = this.free.findIndex((b) => b[1] >= size); }
    const blk = this.free[i];
    const ptr = blk[0];
    if (blk[1] === size) this.free.splice(i, 1);
    else { blk[0] += size; blk[1] -= size; }
    this.used.set(ptr, size);
    this.inUse += size;
    this.starts = null;
    return ptr;
  }

  /** alloc, with the block zeroed (only the part that was handed out before: fresh memory is zero). */
  allocZeroed(bytes: number): number {
    const p = this.alloc(bytes);
    const end = p + Math.ceil(bytes / 4) * 4;
    if (p < this.fresh) this.F32.fill(0, p / 4, Math.min(end, this.fresh) / 4);
    if (end > this.fresh) this.fresh = end;
    return p;
  }

  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`free: pointer ${ptr} is not an allocated block (double free?)`);
    this.used.delete(ptr);
    this.inUse -= size;
    this.starts = null;
    if (ptr + size > this.fresh) this.fresh = ptr + size;
    // Insert in address order, coalescing with neighbours.
    let lo = 0, hi = this.free.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (this.free[mid][0] < ptr) lo = mid + 1; else hi = mid; }
    const prev = this.free[lo - 1], next = this.free[lo];
    if (prev && prev[0] + prev[1] === ptr) {
      prev[1] += size;
      if (next && prev[0] + prev[1] === next[0]) { prev[1] += next[1]; this.free.splice(lo, 1); }
    } else if (next && ptr + size === next[0]) {
      next[0] = ptr; next[1] += size;
    } else {
      this.free.splice(lo, 0, [ptr, size]);
    }
  }

  /**
   * True when `bytes` of stage temporaries fit above the current top. With nothing staged the
   * stage grows to fit (this may grow memory: call it before taking views); a nested call never
   * moves the block its caller is using, so it may get false.
   */
  stageEnsure(bytes: number): boolean {
    if (this.stageTop + bytes <= this.stageSize) return true;
    if (this.stageTop !== 0 || bytes > STAGE_MAX) return false;
    const size = Math.min(Math.max(Math.ceil((bytes * 1.25) / 4096) * 4096, 16384), STAGE_MAX);
    let p: number;
    try { p = this.alloc(size); } catch { return false; } // an arena too small: plain temporaries
    if (this.stageBase >= 0) this.releaseStage();
    this.stageBase = p;
    this.stageSize = size;
    this.inUse -= size; // scratch, not the caller's memory (see memoryStats)
    return true;
  }

  /** `bytes` (rounded to 16) from the stage, or −1 when it is full. */
  stageAlloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    if (this.stageTop + size > this.stageSize) return -1;
    const p = this.stageBase + this.stageTop;
    this.stageTop += size;
    return p;
  }

  /** Bytes held by the stage (not counted in inUse). */
  get stageBytes(): number { return this.stageSize; }

  private releaseStage(): void {
    this.inUse += this.stageSize;
    this.release(this.stageBase);
    this.stageBase = -1;
    this.stageSize = 0;
  }

  isAllocated(ptr: number): boolean { return this.used.has(ptr); }

  /** Size of the allocated block starting at ptr (0 when none does, or it is the stage). */
  sizeOf(ptr: number): number { return ptr === this.stageBase ? 0 : this.used.get(ptr) ?? 0; }

  /**
   * True when [ptr, ptr + bytes) lies inside one allocated block that is not the stage (the
   * module's own scratch): the only places a caller's view of wasm memory may point to.
   */
  inLiveBlock(ptr: number, bytes: number): boolean {
    // A worker's arena heap cannot see the owner's allocations; its views come from the pool,
    // which checked them on the owning thread.
    if (this.limit !== undefined) return ptr + bytes <= this.buf.byteLength;
    if (!this.starts) this.starts = Array.from(this.used.keys()).sort((a, b) => a - b);
    const st = this.starts;
    let lo = 0, hi = st.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (st[mid] <= ptr) lo = mid + 1; else hi = mid; }
    if (lo === 0) return false;
    const b = st[lo - 1];
    return b !== this.stageBase && ptr + bytes <= b + this.used.get(b)!;
  }

  /** Make sure one free block of at least `bytes` exists, growing now rather than mid-op. */
  reserve(bytes: number): void {
    if (bytes <= 0) return;
    const size = Math.ceil(bytes / ALIGN) * ALIGN + ALIGN * 64;
    if (!this.free.some((b) => b[1] >= size)) this.grow(size);
  }

  private grow(size: number): void {
    if (this.limit !== undefined) throw new Error(`out of arena memory: needed ${size} bytes, the arena ends at ${this.limit} (${this.inUse} bytes in use)`);
    const oldEnd = this.buf.byteLength;
    const last = this.free[this.free.length - 1];
    const tailFree = last && last[0] + last[1] === oldEnd ? last[1] : 0;
    const need = size - tailFree;
    // Grow by at least 1/8 of the current size so a stream of allocations grows rarely.
    // Near the engine's limit (4 GiB for wasm32) the 1/8 step may not fit where the need does.
    const pages = Math.ceil(need / PAGE), step = Math.max(pages, Math.ceil(oldEnd / PAGE / 8));
    try {
      this.memory.grow(step);
    } catch {
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new Error(`out of wasm memory: needed ${size} more bytes, memory is ${oldEnd} bytes and cannot grow by ${pages} pages (${(e as Error).message})`);
      }
    }
    this.past.add(this.buf);
    this.refresh(true);
    const newEnd = this.buf.byteLength;
    if (tailFree) last[1] += newEnd - oldEnd;
    else this.free.push([oldEnd, newEnd - oldEnd]);
  }

  private refresh(grown = false): void {
    // memory.buffer is a getter into the engine (~20 ns, and views are taken several times a
    // call): for a memory of this thread only, read it after grow() and when our views are
    // detached (length 0: something else grew the memory). Shared memory never detaches and
    // another thread may grow it: read every time.
    if ((grown || this.shared || this.f32v.length === 0) && this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.f32v = new Float32Array(this.buf);
      this.f64v = new Float64Array(this.buf);
    }
  }

  /**
   * True when the views may be stale (refresh's condition without a growth): the getters test it
   * themselves and call refresh only then (its call, on every view taken, was ~1 % of a call).
   */
  private get stale(): boolean { return this.shared || this.f32v.length === 0; }

  get buffer(): ArrayBuffer | SharedArrayBuffer { if (this.stale) this.refresh(); return this.buf; }
  /** Whole-memory views, current after any growth. */
  get F32(): Float32Array { if (this.stale) this.refresh(); return this.f32v; }
  get F64(): Float64Array { if (this.stale) this.refresh(); return this.f64v; }

  f32(ptr: number, len: number): Float32Array { if (this.stale) this.refresh(); return new Float32Array(this.buf, ptr, len); }
  f64(ptr: number, len: number): Float64Array { if (this.stale) this.refresh(); return new Float64Array(this.buf, ptr, len); }

  /** Byte size of the memory. */
  get bytes(): number { return this.memory.buffer.byteLength; }
}
