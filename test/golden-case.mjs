// One golden case (test/golden/FORMAT.md) against the public API: decoding and checking. No
// Node imports, so the runtime matrix (test/runtimes) runs the same logic in Deno, Bun and workerd;
// golden-runner.mjs adds reading case directories.
import { GOLDEN_OPS } from "./golden-ops.mjs";
import { compare } from "./reference.mjs";

export function decode(b64) {
  const buf = typeof Buffer === "function" ? Buffer.from(b64, "base64") : Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const out = new Float32Array(buf.length / 4);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** A parsed case file → the case with decoded inputs/expected (Float32Array) and `file` set. */
export function decodeCase(c, file) {
  c.file = file ?? c.file;
  c.params = c.params || {};
  c.inputs = Object.fromEntries(Object.entries(c.inputs || {}).map(([k, v]) => [k, decode(v)]));
  if (c.expected) c.expected = Object.fromEntries(Object.entries(c.expected).map(([k, v]) => [k, decode(v)]));
  return c;
}

const toArray = (v) => (v && typeof v.toArray === "function" ? v.toArray() : v);

/** Run one case → { ok, message }. */
export async function runCase(api, c, ops = GOLDEN_OPS) {
  const op = ops[c.op];
  if (!op) return { ok: false, message: `unsupported op ${c.op}` };
  if (c.expect_error) {
    const snapshot = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.slice()]));
    try {
      await op(api, c);
    } catch (e) {
      const changed = Object.keys(snapshot).filter((k) => snapshot[k].some((v, i) => !Object.is(v, c.inputs[k][i])));
      if (changed.length) return { ok: false, message: `threw but modified ${changed.join(", ")}` };
      const msg = String(e && e.message);
      if (!msg.includes(c.expect_error)) return { ok: false, message: `threw "${msg}", expected a message naming "${c.expect_error}"` };
      return { ok: true };
    }
    return { ok: false, message: `did not throw (expected: ${c.expect_error})` };
  }
  let got;
  try {
    got = await op(api, c);
  } catch (e) {
    return { ok: false, message: `threw ${e && e.stack ? e.stack.split("\n").slice(0, 2).join(" ") : e}` };
  }
  let worst = null;
  for (const [name, exp] of Object.entries(c.expected)) {
    const g = toArray(got[name]);
    if (!g) { worst = { name, msg: `output ${name} missing` }; break; }
    const tol = (c.tolerance && c.tolerance[name]) || { atol: 1e-4, rtol: 1e-4 };
    const r = compare(g, exp, tol.atol, tol.rtol);
    if (r && (!worst || !worst.r || r.err / (tol.atol + 1e-30) > worst.r.err / (worst.tol.atol + 1e-30))) worst = { name, r, tol };
  }
  if (!worst) return { ok: true };
  if (worst.msg) return { ok: false, message: worst.msg };
  const { r, name, tol } = worst;
  if (r.lengthMismatch) return { ok: false, message: `${name}: ${r.got} values, expected ${r.expected}` };
  return { ok: false, message: `${name}[${r.index}] = ${r.got}, expected ${r.expected} (|err| ${r.err.toExponential(2)} > atol ${tol.atol} + rtol ${tol.rtol}·|e|; ${r.count} values off)` };
}

