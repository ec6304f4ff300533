// Base64 → bytes with the fastest decoder the engine has (Uint8Array.fromBase64, Node's Buffer,
// else atob). The embedded wasm modules are decoded on first use, not at import: a JS decode
// loop running in the interpreter at import cost a measurable part of the cold start.
export function decodeBase64(s: string): Uint8Array {
  const g = globalThis as unknown as {
    Uint8Array: { fromBase64?: (s: string) => Uint8Array };
    Buffer?: { from(s: string, enc: string): Uint8Array };
  };
  if (typeof g.Uint8Array.fromBase64 === "function") return g.Uint8Array.fromBase64(s);
  if (g.Buffer) return new Uint8Array(g.Buffer.from(s, "base64"));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
