// The process's allocator brought to its steady state before timing ops that return fresh arrays
// (bench/matrix.mjs, bench/shapes.mjs).

/**
 * Brings the process's allocator to its steady state before any cell is timed. An op returns
 * fresh typed arrays (statistics: 3·C float64); past 64 bytes V8 puts their bytes off its heap,
 * and until the first garbage collections free such stores for reuse (≈ 30 MB of them), each
 * one lands on never-touched pages. A first touch costs ~13 µs a page on this VM (measured:
 * 5.8 faults and 75 µs per 24 KiB Float64Array, 0 faults and 4 µs once warm), so the 64 Ki-value
 * cells of wide C measured the VM's page faults instead of the op (statistics at C = 512: 43 µs
 * a call, 11 %, against 11 µs warm; docs/performance.md). Allocates and drops 24 KiB arrays
 * until a batch of them touches no fresh page (at most 8192 arrays, ≈ 0.3 s).
 */
export function warmAllocator() {
  const faults = () => process.resourceUsage().minorPageFault;
  for (let batch = 0; batch < 128; batch++) {
    const f0 = faults();
    for (let i = 0; i < 64; i++) new Float64Array(3072);
    if (faults() - f0 < 8) return;
  }
}
