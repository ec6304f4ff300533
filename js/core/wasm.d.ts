// build.mjs embeds each imported .wasm as base64 with a lazy decoder: the default export is a
// function returning the bytes (decoded once, on first call).
declare module "*.wasm" {
  const bytes: () => Uint8Array;
  export default bytes;
}
