// build.mjs turns each imported .wasm into a function giving the module's bytes: base64 text with
// a lazy decoder (decoded once, on first call); for the release build in the Node bundle a read of
// dist/simdnorm.wasm (a Promise); in the edge bundles the WebAssembly.Module the runtime compiled.
declare module "*simdnorm.wasm" {
  const bytes: () => Uint8Array | Promise<Uint8Array>;
  export default bytes;
}
declare module "*simdnorm-threads.wasm" {
  const bytes: () => Uint8Array;
  export default bytes;
}
