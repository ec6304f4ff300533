// simdnorm browser example: an image's RGBA bytes → channels-last RGB float32 tensor in wasm
// memory (fromPixels, one SIMD pass) → per-channel statistics (channelStats) → standardized image
// (batchNormInfer with those statistics). The statistics straight from the bytes are timed too.
// Served from the repository root (e.g. `node test/browser/server.mjs`, then
// http://localhost:PORT/examples/browser/); a published app imports "simdnorm" instead.
import { init, tensor, fromPixels, channelStats, batchNormInfer, simdSupported, SIMD_REQUIREMENT } from "../../dist/browser.js";

const $ = (id) => document.getElementById(id);
const CHANNELS = [["red", "#e0403a"], ["green", "#3a9a4a"], ["blue", "#3a66d0"]];

/** Mean time of one call over n calls, in ms. */
function repeat(n, f) {
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t) / n;
}

async function show(img, name) {
  const W = img.width, H = img.height;
  const src = $("original"), dst = $("standardized");
  src.width = dst.width = W; src.height = dst.height = H;
  const g = src.getContext("2d", { willReadFrequently: true });
  g.drawImage(img, 0, 0);
  const image = g.getImageData(0, 0, W, H);
  const shape = [1, H, W, 3], layout = "NHWC";

  // The pixels go into wasm memory once, as a float32 Tensor of byte values (scale 1: the
  // statistics below are in 0…255); every op after that reads them in place.
  const xt = tensor(shape, layout), yt = tensor(shape, layout);
  const toTensor = () => fromPixels(image, { layout, scale: 1, out: xt });
  const byteStats = () => channelStats(image);
  // Untimed calls first: the engine runs a function's first calls in baseline code.
  repeat(10, toTensor); repeat(10, byteStats);
  const tConvert = repeat(25, toTensor);
  const tBytes = repeat(25, byteStats);
  const x = xt.toArray();
  const t1 = performance.now();
  const stats = channelStats(xt);
  const tFirst = performance.now() - t1;
  // Timers are coarse in pages (0.1 ms unless cross-origin isolated): time 25 calls together.
  repeat(10, () => channelStats(xt)); // untimed, as above
  const tStats = repeat(25, () => channelStats(xt));
  const std = Array.from(stats.var, Math.sqrt);

  const standardize = () => batchNormInfer(xt, { runningMean: stats.mean, runningVar: stats.var, eps: 1e-6, out: yt });
  standardize();
  const tNorm = repeat(25, standardize);
  const y = yt.toArray();
  xt.free(); yt.free();

  const out = g.createImageData(W, H);
  for (let i = 0, j = 0; j < y.length; i += 4, j += 3) {
    out.data[i] = 128 + 48 * y[j]; out.data[i + 1] = 128 + 48 * y[j + 1]; out.data[i + 2] = 128 + 48 * y[j + 2]; out.data[i + 3] = 255;
  }
  dst.getContext("2d").putImageData(out, 0, 0);

  $("cap-original").textContent = `${name} — ${W}×${H}, ${(W * H).toLocaleString("en")} pixels`;
  $("stats").tBodies[0].innerHTML = CHANNELS.map(([c, col], k) =>
    `<tr><td><span class="swatch" style="background:${col}"></span>${c}</td><td>${stats.mean[k].toFixed(2)}</td><td>${std[k].toFixed(2)}</td></tr>`).join("");
  const mb = (x.length * 4) / 1e6;
  $("timing").innerHTML = [
    `channelStats: <b>${tStats.toFixed(3)} ms</b> per call`,
    `(${(mb / tStats).toFixed(1)} GB/s over ${mb.toFixed(2)} MB; first call ${tFirst.toFixed(1)} ms)`,
    `standardize (batchNormInfer): <b>${tNorm.toFixed(3)} ms</b> per call`,
    `RGBA bytes → float32 tensor in wasm memory (fromPixels): <b>${tConvert.toFixed(3)} ms</b> per call`,
    `channelStats straight from the RGBA bytes (exact integer sums): <b>${tBytes.toFixed(3)} ms</b>`,
  ].join("<br>");
  // For tests and the screenshot script: what was computed, from which values.
  window.__example = { width: W, height: H, mean: Array.from(stats.mean), std, ms: tStats, convertMs: tConvert, x };
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${url}`));
    img.src = url;
  });
}

async function main() {
  if (!simdSupported()) throw new Error(`this browser has no WebAssembly SIMD: simdnorm ${SIMD_REQUIREMENT}`);
  await init();
  await show(await loadImage(new URL("./sample.png", import.meta.url)), "sample.png");
  $("file").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    const url = URL.createObjectURL(f);
    try { await show(await loadImage(url), f.name); } finally { URL.revokeObjectURL(url); }
  });
}

main().catch((e) => {
  $("timing").innerHTML = `<span class="err">${e.message}</span>`;
  window.__example = { error: e.message };
});
