/**
 * Bilinear resampling as Pillow does it (`Image.resize(..., BILINEAR)`, the filter the Hugging Face
 * ViT image processor uses): a separable triangle filter whose support widens with the
 * downscaling factor, so shrinking is antialiased and enlarging is plain half-pixel-centre bilinear
 * interpolation (align_corners = false). Edge taps outside the image are dropped and the remaining
 * weights renormalised, as Pillow does.
 */

/** Per-output-pixel taps along one axis. */
export interface ResampleTaps {
  readonly outSize: number;
  /** First input index of each output pixel. */
  readonly starts: Int32Array;
  /** Number of taps of each output pixel. */
  readonly counts: Int32Array;
  /** Weights, `maxTaps` per output pixel, summing to 1. */
  readonly weights: Float64Array;
  readonly maxTaps: number;
}

function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Taps for resampling an axis of `inSize` pixels to `outSize` (Pillow's `precompute_coeffs`). */
export function bilinearTaps(inSize: number, outSize: number): ResampleTaps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support is 1, widened when shrinking
  const maxTaps = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let x = xmin; x < xmax; x++) {
      const w = triangle((x - center + 0.5) / filterScale);
      weights[i * maxTaps + (x - xmin)] = w;
      total += w;
    }
    for (let k = 0; k < xmax - xmin; k++) weights[i * maxTaps + k] /= total;
    starts[i] = xmin;
    counts[i] = xmax - xmin;
  }
  return { outSize, starts, counts, weights, maxTaps };
}

/**
 * Resizes one channel plane `src` (inH × inW, row-major) into `dst` (outH × outW) at `dstOffset`,
 * using taps from {@link bilinearTaps}; `scratch` must hold inH × outW values.
 */
export function resizePlane(
  src: ArrayLike<number>,
  srcOffset: number,
  inH: number,
  inW: number,
  rows: ResampleTaps,
  cols: ResampleTaps,
  dst: Float32Array | Float64Array,
  dstOffset: number,
  scratch: Float64Array,
): void {
  const outW = cols.outSize;
  // Horizontal pass: inH × outW.
  for (let y = 0; y < inH; y++) {
    const rowBase = srcOffset + y * inW;
    for (let x = 0; x < outW; x++) {
      const start = cols.starts[x];
      const count = cols.counts[x];
      const wBase = x * cols.maxTaps;
      let acc = 0;
      for (let k = 0; k < count; k++) acc += cols.weights[wBase + k] * src[rowBase + start + k];
      scratch[y * outW + x] = acc;
    }
  }
  // Vertical pass: outH × outW.
  for (let y = 0; y < rows.outSize; y++) {
    const start = rows.starts[y];
    const count = rows.counts[y];
    const wBase = y * rows.maxTaps;
    const outBase = dstOffset + y * outW;
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (let k = 0; k < count; k++) acc += rows.weights[wBase + k] * scratch[(start + k) * outW + x];
      dst[outBase + x] = acc;
    }
  }
}

/**
 * Resizes a channel-first image (`channels × inH × inW`) to `channels × outH × outW`.
 *
 * @example
 * ```ts
 * const big = resizeBilinear(pixels, 3, 32, 32, 224, 224); // Float32Array of 3·224·224
 * ```
 */
export function resizeBilinear(
  src: ArrayLike<number>,
  channels: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  const rows = bilinearTaps(inH, outH);
  const cols = bilinearTaps(inW, outW);
  const dst = new Float32Array(channels * outH * outW);
  const scratch = new Float64Array(inH * outW);
  for (let c = 0; c < channels; c++) {
    resizePlane(src, c * inH * inW, inH, inW, rows, cols, dst, c * outH * outW, scratch);
  }
  return dst;
}
