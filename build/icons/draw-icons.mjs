#!/usr/bin/env node
// Draws Pullback's icons (tray states and the app icon) as PNGs, from a few shapes, so the
// project owns them outright. Run: node build/icons/draw-icons.mjs (output is committed).
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Signed distances in unit coordinates (0..1); negative inside.
const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;
const roundedSquare = (r, pad) => (x, y) => {
  const qx = Math.abs(x - 0.5) - (0.5 - pad - r);
  const qy = Math.abs(y - 0.5) - (0.5 - pad - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const segment = (ax, ay, bx, by, w) => (x, y) => {
  const px = x - ax,
    py = y - ay,
    dx = bx - ax,
    dy = by - ay;
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - t * dx, py - t * dy) - w / 2;
};
const union =
  (...shapes) =>
  (x, y) =>
    Math.min(...shapes.map((s) => s(x, y)));

function hex(color) {
  const n = parseInt(color.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Paints layers [shape, color] back to front, 4×4 supersampled for smooth edges. */
function render(size, layers) {
  const out = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = (px + (sx + 0.5) / S) / size;
          const y = (py + (sy + 0.5) / S) / size;
          let cr = 0,
            cg = 0,
            cb = 0,
            ca = 0;
          for (const [shape, color] of layers) {
            if (shape(x, y) > 0) continue;
            [cr, cg, cb] = hex(color);
            ca = 1;
          }
          r += cr * ca;
          g += cg * ca;
          b += cb * ca;
          a += ca;
        }
      }
      const i = (py * size + px) * 4;
      out[i] = a ? Math.round(r / a) : 0;
      out[i + 1] = a ? Math.round(g / a) : 0;
      out[i + 2] = a ? Math.round(b / a) : 0;
      out[i + 3] = Math.round((a / (S * S)) * 255);
    }
  }
  return png(size, out);
}

const W = 0.12; // glyph stroke width
const disc = circle(0.5, 0.5, 0.47);
// The Pullback mark: an arrow pulling down into a tray.
const pullGlyph = (w) =>
  union(
    segment(0.5, 0.22, 0.5, 0.58, w),
    segment(0.34, 0.44, 0.5, 0.6, w),
    segment(0.66, 0.44, 0.5, 0.6, w),
    segment(0.26, 0.6, 0.26, 0.76, w),
    segment(0.26, 0.76, 0.74, 0.76, w),
    segment(0.74, 0.76, 0.74, 0.6, w),
  );
const TRAY = {
  ok: ['#2da44e', union(segment(0.28, 0.52, 0.44, 0.68, W), segment(0.44, 0.68, 0.72, 0.34, W))],
  running: ['#0a66c2', pullGlyph(W * 0.95)],
  overdue: [
    '#bf8700',
    union(
      (x, y) => Math.abs(circle(0.5, 0.5, 0.27)(x, y)) - W / 2.4,
      segment(0.5, 0.5, 0.5, 0.33, W * 0.85),
      segment(0.5, 0.5, 0.62, 0.58, W * 0.85),
    ),
  ],
  error: ['#cf222e', union(segment(0.5, 0.24, 0.5, 0.56, W * 1.1), circle(0.5, 0.73, W * 0.65))],
};

mkdirSync(join(root, 'main', 'icons'), { recursive: true });
for (const [state, [color, glyph]] of Object.entries(TRAY)) {
  for (const [suffix, size] of [
    ['', 22],
    ['@2x', 44],
  ]) {
    const file = join(root, 'main', 'icons', `tray-${state}${suffix}.png`);
    writeFileSync(
      file,
      render(size, [
        [disc, color],
        [glyph, '#ffffff'],
      ]),
    );
  }
}
for (const size of [512, 256, 128, 64, 48, 32, 16]) {
  const file = join(root, 'build', 'icons', `${size}x${size}.png`);
  writeFileSync(
    file,
    render(size, [
      [roundedSquare(0.18, 0.06), '#0a66c2'],
      [pullGlyph(0.09), '#ffffff'],
    ]),
  );
}
console.log('icons written to main/icons/ and build/icons/');
