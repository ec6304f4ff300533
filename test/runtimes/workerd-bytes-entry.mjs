// Control for the workerd run: the default entry (embedded bytes, compiled with
// new WebAssembly.Module) must be refused by workerd, as on Cloudflare. If it were accepted,
// the workerd run would not be testing what makes the edge entry necessary.
import * as api from "simdnorm";

export default {
  async test() {
    let err;
    try { await api.init(); } catch (e) { err = e; }
    const ok = !!err && /disallowed/i.test(String(err && err.message));
    const results = [{ name: "control: workerd refuses the default entry's embedded bytes (Wasm code generation disallowed)", ok, message: ok ? undefined : err ? `init() threw "${err.message}"` : "init() resolved: this workerd compiles wasm from bytes" }];
    console.log("RESULT " + JSON.stringify({ runtime: "workerd", mode: "control", format: "esm", results }));
    if (!ok) throw new Error(results[0].message);
  },
};
