// fromPixels and byte-image statistics against the float64 reference: every layout and preset,
// RGB and RGBA, odd widths and heights, SIMD tails, batches (arrays, one buffer of N images,
// ImageData-like objects), chunk boundaries, out given, bytes already in wasm memory, the
// rounding bound of the folded affine, exact byte statistics equal to float statistics of the
// converted data, and bad input (clear message, nothing written).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as api from "../dist/index.js";
import { refFromPixels, refPixelStats, rng } from "./reference.mjs";
import { throwsWith } from "./helpers.mjs";

await api.init();
const { fromPixels, channelStats, partialStats, StatsAccumulator, PIXEL_PRESETS } = api;
const PRESETS = Object.keys(PIXEL_PRESETS);
const U = 2 ** -24;

function bytes(n, seed = 1) {
  const r = rng(seed), b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r.u() * 256);
  return b;
}

/** The folded affine's parameters as the library rounds them. */
function folded({ mean, std, scale }) {
  return { a: std.map((s) => Math.fround(scale / s)), b: mean.map((m, c) => Math.fround(-m / std[c])) };
}

/**
 * y against the exact value, within the folded formula's bound 3·2⁻²⁴·(|byte·a| + |b|)
 * (a = scale/std, b = −mean/std): a, b and the product each round once, the sum once.
 */
function checkImage(y, px, N, H, W, C, layout, p, what) {
  const want = refFromPixels(px, N, H, W, C, layout, p);
  const a = p.std.map((s) => p.scale / s), b = p.mean.map((m, c) => -m / p.std[c]), S = H * W;
  assert.is(y.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const c = layout === "NCHW" ? Math.floor(i / S) % 3 : i % 3;
    const byte = want[i] * p.std[c] / p.scale + p.mean[c] / p.scale;
    const bound = 3 * U * (Math.abs(byte * a[c]) + Math.abs(b[c])) + 1e-300;
    if (!(Math.abs(y[i] - want[i]) <= bound)) {
      throw new Error(`${what}: index ${i} (channel ${c}): got ${y[i]}, expected ${want[i]}, error ${Math.abs(y[i] - want[i])} > ${bound}`);
    }
  }
}

const presetParams = (name) => PIXEL_PRESETS[name];

test("every preset, layout and channel count, odd widths and heights", () => {
  for (const name of PRESETS) for (const layout of ["NCHW", "NHWC"]) for (const C of [3, 4]) {
    for (const W of [1, 3, 5, 17]) for (const H of [1, 2, 3, 7]) {
      const px = bytes(W * H * C, W * 31 + H);
      const t = fromPixels(px, { width: W, height: H, channels: C, layout, preset: name });
      assert.equal(t.shape, layout === "NCHW" ? [1, 3, H, W] : [1, H, W, 3]);
      assert.is(t.layout, layout);
      checkImage(t.data, px, 1, H, W, C, layout, presetParams(name), `${name} ${layout} C=${C} ${W}×${H}`);
      t.free();
    }
  }
});

test("folded factors past float32's range (tiny std, huge scale) are refused, not turned into NaN", () => {
  const px = new Uint8Array([0, 10, 255, 255, 128, 0, 64, 255]), at = { width: 2, height: 1 };
  throwsWith(() => api.fromPixels(px, { ...at, std: 1e-300 }), "scale / std[0] is", "past float32's range");
  throwsWith(() => api.fromPixels(px, { ...at, scale: 1e300 }), "scale / std[0] is 1e+300");
  throwsWith(() => api.fromPixels(px, { ...at, scale: 1e-40, std: [1, 1, 1e-36], mean: [0, 0, 1e3] }), "mean[2] / std[2] is");
  const t = api.fromPixels(px, { ...at, std: 1e-30 });
  assert.ok(Array.from(t.data).every((v) => !Number.isNaN(v)), "within range: no NaN");
  t.free();
});

test("SIMD tails: rows of 1…9, 15…17, 63…65 pixels; default is unit, NCHW, RGBA", () => {
  for (const W of [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65]) for (const C of [3, 4]) for (const layout of ["NCHW", "NHWC"]) {
    const px = bytes(W * C, W);
    const y = fromPixels(px, { width: W, height: 1, channels: C, layout, out: new Float32Array(3 * W) });
    checkImage(y, px, 1, 1, W, C, layout, PIXEL_PRESETS.unit, `tail ${layout} C=${C} W=${W}`);
  }
  const px = bytes(4 * 6, 3), t = fromPixels(px, { width: 3, height: 2 });
  assert.equal([t.shape, t.layout], [[1, 3, 2, 3], "NCHW"]);
  checkImage(t.data, px, 1, 2, 3, 4, "NCHW", PIXEL_PRESETS.unit, "defaults");
  t.free();
});

test("NCHW equals the transposed NHWC bit for bit (same folded affine, RGB and RGBA)", () => {
  for (const C of [3, 4]) for (const [W, H, N] of [[17, 5, 2], [64, 9, 1], [3, 1, 3]]) {
    const px = bytes(N * W * H * C, W * H + C), S = W * H, o = { width: W, height: H, channels: C, preset: "clip" };
    const a = fromPixels(px, { ...o, layout: "NCHW", out: new Float32Array(N * 3 * S) });
    const b = fromPixels(px, { ...o, layout: "NHWC", out: new Float32Array(N * 3 * S) });
    for (let n = 0; n < N; n++) for (let c = 0; c < 3; c++) for (let p = 0; p < S; p++) {
      if (!Object.is(a[(n * 3 + c) * S + p], b[(n * S + p) * 3 + c])) throw new Error(`C=${C} ${W}×${H}×${N}: n ${n} channel ${c} pixel ${p}`);
    }
  }
});

test("custom mean / std / scale (arrays, one number, Float32Array, negative std)", () => {
  const cases = [
    { mean: [10, 20, 30], std: [2, 4, 8], scale: 1 },
    { mean: 0.5, std: 0.25, scale: 1 / 255 },
    { mean: Float32Array.of(0.1, 0.2, 0.3), std: Float64Array.of(-0.5, 1, 3) },
  ];
  for (const o of cases) for (const layout of ["NCHW", "NHWC"]) {
    const px = bytes(5 * 3 * 4, 9);
    const y = fromPixels(px, { width: 5, height: 3, layout, ...o, out: new Float32Array(45) });
    const vec = (v, d) => (v === undefined ? [d, d, d] : typeof v === "number" ? [v, v, v] : Array.from(v));
    checkImage(y, px, 1, 3, 5, 4, layout, { mean: vec(o.mean, 0), std: vec(o.std, 1), scale: o.scale ?? 1 / 255 }, `custom ${JSON.stringify(o)}`);
  }
});

test("every byte value: within the folded bound, and a few ulp from the two-step float32 formula", () => {
  const px = new Uint8Array(256 * 4);
  for (let v = 0; v < 256; v++) px.fill(v, 4 * v, 4 * v + 4);
  for (const name of PRESETS) {
    const p = PIXEL_PRESETS[name], y = fromPixels(px, { width: 256, height: 1, layout: "NHWC", preset: name, out: new Float32Array(768) });
    checkImage(y, px, 1, 1, 256, 4, "NHWC", p, name);
    const { a, b } = folded(p);
    let worst = 0;
    for (let v = 0; v < 256; v++) for (let c = 0; c < 3; c++) {
      const f = Math.fround, two = f(f(f(v * f(p.scale)) - f(p.mean[c])) / f(p.std[c]));
      const M = Math.max(Math.abs(v * a[c]), Math.abs(b[c]));
      const ulp = 2 ** (Math.floor(Math.log2(M || 1)) - 23);
      worst = Math.max(worst, Math.abs(y[3 * v + c] - two) / ulp);
    }
    assert.ok(worst <= 4, `${name}: ${worst} ulp from the two-step formula`);
  }
});

test("batches: one buffer of N images, an array of images, ImageData-like objects", () => {
  for (const layout of ["NCHW", "NHWC"]) for (const C of [3, 4]) {
    const W = 5, H = 3, per = W * H * C, N = 3, px = bytes(N * per, C);
    const p = PIXEL_PRESETS.imagenet;
    const one = fromPixels(px, { width: W, height: H, channels: C, layout, preset: "imagenet" });
    assert.equal(one.shape, layout === "NCHW" ? [N, 3, H, W] : [N, H, W, 3]);
    checkImage(one.data, px, N, H, W, C, layout, p, `buffer of ${N} ${layout} C=${C}`);
    const list = [0, 1, 2].map((n) => px.slice(n * per, (n + 1) * per));
    const arr = fromPixels(list, { width: W, height: H, channels: C, layout, preset: "imagenet" });
    assert.equal(Array.from(arr.data), Array.from(one.data));
    one.free(); arr.free();
  }
  const W = 17, H = 3, imgs = [1, 2].map((s) => ({ data: new Uint8ClampedArray(bytes(W * H * 4, s)), width: W, height: H }));
  const all = new Uint8Array(2 * W * H * 4); all.set(imgs[0].data); all.set(imgs[1].data, W * H * 4);
  for (const layout of ["NCHW", "NHWC"]) {
    const t = fromPixels(imgs, { layout, preset: "clip" });
    checkImage(t.data, all, 2, H, W, 4, layout, PIXEL_PRESETS.clip, `ImageData batch ${layout}`);
    t.free();
    const single = fromPixels(imgs[1], { layout, preset: "clip" });
    checkImage(single.data, imgs[1].data, 1, H, W, 4, layout, PIXEL_PRESETS.clip, `ImageData ${layout}`);
    single.free();
  }
});

test("images larger than a copy chunk, batched so chunks meet image boundaries", () => {
  for (const [W, H, N] of [[190, 190, 2], [181, 200, 1], [256, 128, 3], [97, 97, 5]]) for (const C of [3, 4]) for (const layout of ["NCHW", "NHWC"]) {
    const px = bytes(N * W * H * C, W + C);
    const t = fromPixels(px, { width: W, height: H, channels: C, layout, preset: "minus1to1" });
    checkImage(t.data, px, N, H, W, C, layout, PIXEL_PRESETS.minus1to1, `${N}×${W}×${H} ${layout} C=${C}`);
    t.free();
  }
});

test("out: a plain Float32Array, a Tensor, a view of wasm memory; bytes already in wasm memory", () => {
  const W = 9, H = 4, px = bytes(W * H * 4, 5), p = PIXEL_PRESETS.imagenet;
  const plain = new Float32Array(3 * W * H);
  assert.ok(fromPixels(px, { width: W, height: H, preset: "imagenet", out: plain }) === plain);
  checkImage(plain, px, 1, H, W, 4, "NCHW", p, "plain out");
  const t = api.tensor([1, H, W, 3], "NHWC");
  assert.ok(fromPixels(px, { width: W, height: H, preset: "imagenet", layout: "NHWC", out: t }) === t);
  checkImage(t.data, px, 1, H, W, 4, "NHWC", p, "tensor out");
  const view = t.data;
  assert.ok(fromPixels(px, { width: W, height: H, preset: "imagenet", layout: "NCHW", out: view }) === view);
  checkImage(view, px, 1, H, W, 4, "NCHW", p, "wasm view out");
  // Bytes in wasm memory (read in place), RGB and RGBA, in a tensor's storage.
  for (const C of [3, 4]) {
    const host = api.tensor([1, W * H * C], "NC");
    const inWasm = new Uint8Array(api.wasmMemory().buffer, host.ptr, W * H * C);
    const src = bytes(W * H * C, C); inWasm.set(src);
    const y = fromPixels(inWasm, { width: W, height: H, channels: C, preset: "imagenet" });
    checkImage(y.data, src, 1, H, W, C, "NCHW", p, `wasm bytes C=${C}`);
    const st = channelStats(new Uint8Array(api.wasmMemory().buffer, host.ptr, W * H * C), { width: W, height: H, channels: C });
    assert.equal(Array.from(st.mean), refPixelStats(src, C).mean);
    y.free(); host.free();
  }
  t.free();
});

test("bytes in wasm memory stay readable when the output's allocation grows memory", () => {
  const W = 1024, H = 1024, per = W * H * 4, host = api.tensor([1, per / 4], "NC");
  const inWasm = new Uint8Array(api.wasmMemory().buffer, host.ptr, per), src = bytes(per, 11);
  inWasm.set(src);
  const before = api.wasmMemory().buffer.byteLength;
  const t = fromPixels([inWasm, src, inWasm], { width: W, height: H, layout: "NHWC", preset: "imagenet" });
  assert.ok(api.wasmMemory().buffer.byteLength > before, "memory grew for the output");
  const all = new Uint8Array(3 * per); all.set(src); all.set(src, per); all.set(src, 2 * per);
  checkImage(t.data, all, 3, H, W, 4, "NHWC", PIXEL_PRESETS.imagenet, "after growth");
  t.free(); host.free();
});

test("byte statistics are exact, around every block and tail, and need no overflow room", () => {
  // Blocks of 512 pixels, 16-pixel SIMD steps (RGB stops 18 pixels before the end), copy chunks
  // of 32768 pixels.
  for (const R of [1, 2, 3, 4, 5, 15, 16, 17, 18, 19, 31, 33, 34, 35, 511, 512, 513, 529, 530, 2049, 32767, 32769, 40000]) for (const C of [3, 4]) {
    const px = bytes(R * C, R + C), st = channelStats(px, { width: R, height: 1, channels: C }), want = refPixelStats(px, C);
    assert.is(st.count, R);
    assert.equal(Array.from(st.mean), want.mean, `mean R=${R} C=${C}`);
    assert.equal(Array.from(st.var), want.var, `var R=${R} C=${C}`);
  }
  for (const C of [3, 4]) {
    const full = new Uint8Array(700 * 700 * C).fill(255);
    const st = channelStats(full, { width: 700, height: 700, channels: C });
    assert.equal([Array.from(st.mean), Array.from(st.var)], [[255, 255, 255], [0, 0, 0]]);
    // Rows alternating 0 and 255 (the largest variance): mean 127.5, variance 255²/4, exactly.
    const half = full.map((v, i) => (Math.floor(i / (700 * C)) % 2 ? 0 : v));
    const sh = channelStats(half, { width: 700, height: 700, channels: C });
    assert.equal([Array.from(sh.mean), Array.from(sh.var)], [[127.5, 127.5, 127.5], [16256.25, 16256.25, 16256.25]]);
  }
});

test("byte statistics equal the float statistics of the converted data (scale 1, and a preset)", () => {
  for (const C of [3, 4]) for (const [W, H, N] of [[17, 5, 3], [224, 224, 1], [65, 33, 2]]) {
    const px = bytes(N * W * H * C, W * C), opts = { width: W, height: H, channels: C };
    const st = channelStats(px, opts);
    const raw = fromPixels(px, { ...opts, layout: "NHWC", scale: 1 });
    const fs = channelStats(raw);
    const img = fromPixels(px, { ...opts, preset: "imagenet" }), fi = channelStats(img);
    const { a, b } = { a: PIXEL_PRESETS.imagenet.std.map((s) => 1 / 255 / s), b: PIXEL_PRESETS.imagenet.mean.map((m, c) => -m / PIXEL_PRESETS.imagenet.std[c]) };
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(fs.mean[c] - st.mean[c]) <= 1e-6 * st.mean[c] && Math.abs(fs.var[c] - st.var[c]) <= 1e-6 * st.var[c], `scale 1, channel ${c}: ${fs.mean[c]} vs ${st.mean[c]}, ${fs.var[c]} vs ${st.var[c]}`);
      assert.ok(Math.abs(fi.mean[c] - (st.mean[c] * a[c] + b[c])) <= 1e-6, `imagenet mean, channel ${c}`);
      assert.ok(Math.abs(fi.var[c] - st.var[c] * a[c] * a[c]) <= 1e-6 * fi.var[c], `imagenet var, channel ${c}`);
    }
    raw.free(); img.free();
  }
});

test("StatsAccumulator.update and partialStats take byte images; chunked == one-shot", () => {
  const W = 13, H = 7, imgs = [1, 2, 3, 4].map((s) => bytes(W * H * 4, s));
  const acc = new StatsAccumulator(3);
  acc.update(imgs[0], { width: W, height: H }).update(imgs.slice(1, 3), { width: W, height: H });
  acc.update({ data: new Uint8ClampedArray(imgs[3]), width: W, height: H });
  const all = new Uint8Array(4 * W * H * 4); imgs.forEach((b, i) => all.set(b, i * W * H * 4));
  const one = channelStats(all, { width: W, height: H }), want = refPixelStats(all, 4), r = acc.result();
  assert.is(r.count, 4 * W * H);
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(r.mean[c] - want.mean[c]) <= 1e-13 * want.mean[c] && Math.abs(r.var[c] - want.var[c]) <= 1e-12 * want.var[c], `channel ${c}`);
  }
  assert.equal(Array.from(one.mean), want.mean);
  const p = partialStats(all, { width: W, height: H });
  assert.equal(Array.from(p.filter((_, i) => i % 3 === 1)), want.mean);
  throwsWith(() => new StatsAccumulator(4).update(imgs[0], { width: W, height: H }), "3 colour channels", "4");
  const kept = Array.from(acc.partials);
  throwsWith(() => acc.update(imgs[0], { width: W + 1, height: H }), "pixels has 364 bytes");
  assert.equal(Array.from(acc.partials), kept, "a failed update leaves the accumulator as it was");
});

test("bad input: a clear error and nothing written", () => {
  const px = bytes(5 * 3 * 4, 1), out = new Float32Array(45).fill(7);
  const bad = (o, ...frag) => {
    throwsWith(() => fromPixels(o.pixels ?? px, { width: 5, height: 3, out, ...o, pixels: undefined }), ...frag);
    assert.ok(out.every((v) => v === 7), `out written for ${frag[0]}`);
  };
  bad({ width: 4 }, "pixels has 60 bytes", "4 × 3 × 4 = 48");
  bad({ pixels: bytes(61) }, "pixels has 61 bytes", "not a whole number of images");
  bad({ channels: 2 }, "channels must be 3 (RGB) or 4 (RGBA)", "got 2");
  bad({ width: 0 }, "width must be a positive integer", "got 0");
  bad({ height: 1.5 }, "height must be a positive integer", "1.5");
  bad({ width: undefined }, "width and height are required");
  bad({ mean: [1, 2] }, "mean has 2 values", "3 channels");
  bad({ std: [1, 0, 1] }, "std[1] is 0");
  bad({ mean: [0, NaN, 0] }, "mean[1] is NaN", "finite");
  bad({ scale: 0 }, "scale must be a finite nonzero number");
  bad({ preset: "imagenet21k" }, "unknown preset", "imagenet, clip, minus1to1, unit");
  bad({ preset: "toString" }, "unknown preset");
  bad({ preset: "imagenet", mean: [0, 0, 0] }, 'preset "imagenet"', "mean");
  bad({ layout: "NCL" }, 'layout must be "NCHW" or "NHWC"', "NCL");
  bad({ out: new Float32Array(44) }, "out holds 44 values", "45");
  bad({ pixels: new Float32Array(60) }, "pixels must be a Uint8Array, Uint8ClampedArray or ImageData", "Float32Array");
  bad({ pixels: [px, new Int8Array(60)] }, "pixels[1] must be", "Int8Array");
  bad({ pixels: [px, px.subarray(4)] }, "pixels[1] has 56 bytes", "60 per image");
  bad({ pixels: [] }, "empty array");
  bad({ pixels: [{ data: new Uint8ClampedArray(60), width: 5, height: 3 }, { data: new Uint8ClampedArray(60), width: 3, height: 5 }], width: undefined, height: undefined }, "pixels[1] is 3×5", "5×3");
  bad({ pixels: { data: new Uint8ClampedArray(60), width: 5, height: 3 }, channels: 3 }, "channels is 3", "ImageData holds 4");
  // out overlapping bytes that live in wasm memory.
  const t = api.tensor([1, 3, 3, 5], "NCHW");
  const inside = new Uint8Array(api.wasmMemory().buffer, t.ptr + 8, 60);
  throwsWith(() => fromPixels(inside, { width: 5, height: 3, out: t }), "out overlaps pixels");
  const tp = t.ptr;
  t.free();
  // Bytes in wasm memory only inside a live allocation (here: the block just freed).
  const freed = new Uint8Array(api.wasmMemory().buffer, tp, 60);
  throwsWith(() => fromPixels(freed, { width: 5, height: 3 }), "outside any live allocation");
  throwsWith(() => channelStats(freed, { width: 5, height: 3 }), "outside any live allocation");
  throwsWith(() => channelStats(bytes(61), { width: 5, height: 3 }), "pixels has 61 bytes");
  throwsWith(() => channelStats(px, { width: 5, height: 3, channels: 5 }), "channels must be 3 (RGB) or 4 (RGBA)");
});

test("hostile values for every option and for pixels: a plain Error or a result, never TypeError/RangeError", () => {
  const hostile = [null, "x", "toString", NaN, -1, 0, 1.5, 1e300, {}, [], [NaN, NaN, NaN], new Array(3), Symbol("s"), 10n, () => 0,
    new Proxy([1, 1, 1], {}), new Proxy(new Uint8Array(60), {}), Object.create(Uint8Array.prototype), new Float64Array(3), "NCHW", "imagenet"];
  const px = bytes(60, 2), base = { width: 5, height: 3 };
  let threw = 0;
  const attempt = (what, fn) => {
    try { const r = fn(); if (r && typeof r.free === "function") r.free(); } catch (e) {
      threw++;
      if (e.constructor !== Error) throw new Error(`${what}: ${e.constructor.name}: ${e.message}`);
    }
  };
  for (const k of ["width", "height", "channels", "layout", "preset", "mean", "std", "scale", "out"]) {
    for (const v of hostile) {
      attempt(`fromPixels ${k} = ${String(hostile.indexOf(v))}`, () => fromPixels(px, { ...base, [k]: v }));
      attempt(`channelStats ${k} = ${String(hostile.indexOf(v))}`, () => channelStats(px, { ...base, [k]: v }));
    }
  }
  for (const v of hostile) {
    attempt(`fromPixels pixels = ${String(hostile.indexOf(v))}`, () => fromPixels(v, base));
    attempt(`fromPixels options = ${String(hostile.indexOf(v))}`, () => fromPixels(px, v));
    attempt(`update options = ${String(hostile.indexOf(v))}`, () => new StatsAccumulator(3).update(px, v));
  }
  assert.ok(threw > 150, `${threw} refusals`);
});

test.run();
