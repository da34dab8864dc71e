import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { ClipwiseDataError } from '../errors.js';

/** A decoded image: RGB, channel-first (3 × height × width), bytes 0..255. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/** True if `bytes` start with the JPEG or PNG signature. */
export function imageKind(bytes: Uint8Array): 'jpeg' | 'png' | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  return null;
}

/** RGBA interleaved (height × width × 4) → RGB channel-first; alpha is dropped, not composited. */
function rgbaToChannelFirst(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(3 * plane);
  for (let p = 0, q = 0; p < plane; p++, q += 4) {
    out[p] = rgba[q];
    out[plane + p] = rgba[q + 1];
    out[2 * plane + p] = rgba[q + 2];
  }
  return out;
}

/**
 * Decodes a JPEG (jpeg-js) or PNG (pngjs) file to RGB channel-first bytes. Greyscale is expanded
 * to three equal channels, alpha is dropped, 16-bit PNGs are scaled to 8 bits. The format is told
 * by the file's signature, not its name.
 *
 * @param source file name used in error messages.
 * @example
 * ```ts
 * const { width, height, pixels } = decodeImage(readFileSync('cat.png'), 'cat.png');
 * ```
 */
export function decodeImage(bytes: Uint8Array, source: string): DecodedImage {
  const kind = imageKind(bytes);
  try {
    if (kind === 'jpeg') {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, pixels: rgbaToChannelFirst(img.data, img.width, img.height) };
    }
    if (kind === 'png') {
      const img = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: img.width, height: img.height, pixels: rgbaToChannelFirst(img.data, img.width, img.height) };
    }
  } catch (cause) {
    throw new ClipwiseDataError(
      `${source}: could not decode ${String(kind).toUpperCase()} (${(cause as Error).message}); the file is corrupt or truncated, replace or remove it.`,
      { cause },
    );
  }
  throw new ClipwiseDataError(
    `${source}: not a JPEG or PNG (starts with bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}); ` +
      `image folders may hold only .jpg, .jpeg and .png files: convert or remove it.`,
  );
}
