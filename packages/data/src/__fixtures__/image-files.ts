// Test helper: small PNG / JPEG files with known pixels, written with pngjs / jpeg-js.
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

export type PixelFn = (x: number, y: number) => [number, number, number, number];

/** RGBA bytes of a w×h image whose pixel (x, y) is fn(x, y). */
export function rgba(w: number, h: number, fn: PixelFn): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(fn(x, y), (y * w + x) * 4);
  return data;
}

/** A PNG file; colorType 0 = grey, 2 = RGB, 6 = RGBA. */
export function pngFile(w: number, h: number, fn: PixelFn, colorType: 0 | 2 | 4 | 6 = 6): Buffer {
  const png = new pngjs.PNG({ width: w, height: h });
  png.data = rgba(w, h, fn);
  return pngjs.PNG.sync.write(png, { colorType });
}

/** A JPEG file at quality 100. */
export function jpegFile(w: number, h: number, fn: PixelFn): Buffer {
  return jpeg.encode({ width: w, height: h, data: rgba(w, h, fn) }, 100).data;
}

/** A smooth test pattern. */
export const gradient: PixelFn = (x, y) => [10 + 20 * x, 200 - 10 * y, 128, 255];
