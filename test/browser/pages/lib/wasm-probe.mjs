// Hand-assembled wasm modules for feature probes (no toolchain needed in the page).

/**
 * (module (func (export "f") (param i32) (result i32)
 *   local.get 0  i32x4.splat  local.get 0  i32x4.splat  i32x4.add  i32x4.extract_lane 3))
 * f(x) = 2x, computed in v128 lanes. Validates only where fixed-width SIMD is supported.
 */
export const SIMD_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, // type: (i32) -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f" = func 0
  0x0a, 0x12, 0x01, 0x10, 0x00, // code: 1 body, 16 bytes, no locals
  0x20, 0x00, 0xfd, 0x11, // local.get 0, i32x4.splat
  0x20, 0x00, 0xfd, 0x11, // local.get 0, i32x4.splat
  0xfd, 0xae, 0x01, // i32x4.add
  0xfd, 0x1b, 0x03, // i32x4.extract_lane 3
  0x0b, // end
]);

/** SIMD_MODULE with i32x4.add replaced by an unassigned SIMD opcode (0xfd 511): must not validate. */
export const INVALID_SIMD_MODULE = (() => {
  const m = SIMD_MODULE.slice();
  if (m[40] !== 0xfd || m[41] !== 0xae || m[42] !== 0x01) throw new Error('wasm-probe: unexpected layout');
  m.set([0xff, 0x03], 41); // LEB128 511
  return m;
})();

/** true when this engine validates and runs wasm fixed-width SIMD (f(21) === 42 in v128 lanes). */
export async function simdWorks() {
  if (!WebAssembly.validate(SIMD_MODULE)) return false;
  const { instance } = await WebAssembly.instantiate(SIMD_MODULE);
  return instance.exports.f(21) === 42;
}
