// Writes sample.png, the example's default image: a synthetic 480×320 landscape (sky gradient,
// sun, hills, a lake, grain) — made here so the repository carries no third-party image.
//   node examples/browser/make-sample.mjs
import { deflateSync } from "node:zlib";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const W = 480, H = 320;
const rgb = new Uint8Array(W * H * 3);
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const mix = (a, b, t) => a + (b - a) * t;
const hill = (x, base, amp, f, ph) => base + amp * Math.sin(x * f + ph) + 0.4 * amp * Math.sin(x * f * 2.7 + ph * 1.3);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const t = y / H;
    let r = mix(255, 110, t * 1.6), g = mix(170, 150, t * 1.2), b = mix(90, 220, t * 1.1);
    const d = Math.hypot(x - 330, y - 95);
    if (d < 38) { r = 255; g = 236; b = 160; } else if (d < 80) { const k = (80 - d) / 42; r = mix(r, 255, k * 0.5); g = mix(g, 220, k * 0.4); }
    if (y > hill(x, 190, 22, 0.012, 1)) { const k = (y - 170) / 150; r = mix(70, 30, k); g = mix(120, 70, k); b = mix(60, 40, k); }
    if (y > hill(x, 225, 14, 0.021, 4)) { r = 46; g = 92; b = 52; }
    if (y > 250) { const k = (y - 250) / 70; r = mix(60, 25, k); g = mix(110, 60, k); b = mix(150, 110, k); if ((x + 3 * y) % 23 === 0) { r += 40; g += 40; b += 40; } }
    const n = (rand() - 0.5) * 8;
    const i = 3 * (y * W + x);
    rgb[i] = Math.max(0, Math.min(255, r + n)); rgb[i + 1] = Math.max(0, Math.min(255, g + n)); rgb[i + 2] = Math.max(0, Math.min(255, b + n));
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (buf) => { let c = 0xffffffff; for (const v of buf) c = crcTable[(c ^ v) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(H, 4); ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
const raw = Buffer.alloc(H * (1 + 3 * W));
for (let y = 0; y < H; y++) Buffer.from(rgb.buffer, 3 * W * y, 3 * W).copy(raw, y * (1 + 3 * W) + 1);
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
writeFileSync(fileURLToPath(new URL("./sample.png", import.meta.url)), png);
console.log(`sample.png: ${W}×${H}, ${png.length} bytes`);
