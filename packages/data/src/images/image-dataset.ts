import { ClipwiseDataError, assertInteger } from '../errors.js';
import { bilinearTaps, resizePlane } from './resize-bilinear.js';

/** Fields of an {@link ImageDataset}. */
export interface ImageDatasetInit {
  /**
   * All images, channel-first (N × C × H × W, like Hugging Face `pixel_values`): raw bytes 0..255
   * (Uint8Array) or floats already rescaled to [0, 1] (Float32Array).
   */
  readonly images: Uint8Array | Float32Array;
  /** Class index of each image, in [0, numClasses). */
  readonly labels: Int32Array;
  readonly numClasses: number;
  /** Name of each class index; `classNames.length === numClasses`. */
  readonly classNames: readonly string[];
  readonly height: number;
  readonly width: number;
  /** 3 for RGB (all loaders of this package), 1 for greyscale data built by hand. */
  readonly channels: number;
}

/** Options of {@link ImageDataset.toPixelValues}; defaults match the Hugging Face ViT image processor. */
export interface PixelValuesOptions {
  /** Output side (square) or `{ height, width }`; default the dataset's own size (no resize). Use the ViT config's `image_size`. */
  readonly size?: number | { readonly height: number; readonly width: number };
  /** Per-channel mean subtracted after rescaling; default [0.5, 0.5, 0.5] (HF ViT `image_mean`). */
  readonly mean?: readonly number[];
  /** Per-channel std divided by; default [0.5, 0.5, 0.5] (HF ViT `image_std`). */
  readonly std?: readonly number[];
  /** Factor applied before normalising; default 1/255 for Uint8Array images, 1 for Float32Array. */
  readonly rescaleFactor?: number;
  /** Reuse this buffer (length B × 3 × size × size) instead of allocating one. */
  readonly out?: Float32Array;
}

const DEFAULT_MEAN = [0.5, 0.5, 0.5];
const DEFAULT_STD = [0.5, 0.5, 0.5];

/**
 * An in-memory labelled image set in channel-first layout, as every image loader of this package
 * returns. It holds plain typed arrays; the trainer turns batches into tensors.
 *
 * @example
 * ```ts
 * const ds = await readImageArchive('cifar10-jpeg.tar.gz', { split: 'train', limitPerClass: 100 });
 * const batch = [0, 5, 17];
 * const pixelValues = ds.toPixelValues(batch, { size: 224 }); // Float32Array [3, 3, 224, 224]
 * const labels = ds.gatherLabels(batch);                       // Int32Array [3]
 * ```
 */
export class ImageDataset implements ImageDatasetInit {
  readonly images: Uint8Array | Float32Array;
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly height: number;
  readonly width: number;
  readonly channels: number;

  constructor(init: ImageDatasetInit) {
    assertInteger(init.height, 'ImageDataset height', 1);
    assertInteger(init.width, 'ImageDataset width', 1);
    assertInteger(init.channels, 'ImageDataset channels', 1);
    assertInteger(init.numClasses, 'ImageDataset numClasses', 1);
    const perImage = init.channels * init.height * init.width;
    if (init.images.length !== init.labels.length * perImage) {
      throw new ClipwiseDataError(
        `ImageDataset images has ${init.images.length} values but ${init.labels.length} labels × ` +
          `${init.channels}×${init.height}×${init.width} = ${init.labels.length * perImage} were expected; ` +
          `pass one channel-first image per label.`,
      );
    }
    if (init.classNames.length !== init.numClasses) {
      throw new ClipwiseDataError(
        `ImageDataset classNames has ${init.classNames.length} names but numClasses is ${init.numClasses}; give one name per class.`,
      );
    }
    for (let i = 0; i < init.labels.length; i++) {
      const label = init.labels[i];
      if (label < 0 || label >= init.numClasses) {
        throw new ClipwiseDataError(
          `ImageDataset label ${label} of image ${i} is outside [0, ${init.numClasses}); fix the label or numClasses.`,
        );
      }
    }
    this.images = init.images;
    this.labels = init.labels;
    this.numClasses = init.numClasses;
    this.classNames = init.classNames;
    this.height = init.height;
    this.width = init.width;
    this.channels = init.channels;
  }

  /** Number of images. */
  get size(): number {
    return this.labels.length;
  }

  /** A view of image `index` (C × H × W). */
  image(index: number): Uint8Array | Float32Array {
    this.checkIndex(index);
    const perImage = this.channels * this.height * this.width;
    return this.images.subarray(index * perImage, (index + 1) * perImage);
  }

  /** Labels of the given images, in order. */
  gatherLabels(indices: ArrayLike<number>): Int32Array {
    const out = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      this.checkIndex(indices[i]);
      out[i] = this.labels[indices[i]];
    }
    return out;
  }

  /** A new dataset holding copies of the given images (same classes). */
  subset(indices: ArrayLike<number>): ImageDataset {
    const perImage = this.channels * this.height * this.width;
    const images = this.images instanceof Uint8Array ? new Uint8Array(indices.length * perImage) : new Float32Array(indices.length * perImage);
    for (let i = 0; i < indices.length; i++) images.set(this.image(indices[i]), i * perImage);
    return new ImageDataset({ ...this, images, labels: this.gatherLabels(indices) });
  }

  /**
   * Model input for a batch: resize (Pillow-style bilinear, see `resizeBilinear`), rescale
   * (1/255 for bytes) and normalise `(x − mean[c]) / std[c]`, as the Hugging Face ViT image
   * processor does (it rounds the resized image to bytes first; this does not, a difference below
   * 1/255). Greyscale images are repeated over 3 channels.
   *
   * @returns Float32Array of shape [B, 3, height, width], row-major.
   */
  toPixelValues(indices: ArrayLike<number>, options: PixelValuesOptions = {}): Float32Array {
    const outH = typeof options.size === 'number' ? options.size : (options.size?.height ?? this.height);
    const outW = typeof options.size === 'number' ? options.size : (options.size?.width ?? this.width);
    assertInteger(outH, 'toPixelValues size (height)', 1);
    assertInteger(outW, 'toPixelValues size (width)', 1);
    const mean = options.mean ?? DEFAULT_MEAN;
    const std = options.std ?? DEFAULT_STD;
    if (mean.length !== 3 || std.length !== 3 || std.some((s) => !(s > 0))) {
      throw new ClipwiseDataError(
        `toPixelValues mean ${JSON.stringify(mean)} / std ${JSON.stringify(std)} must be 3 numbers each with std > 0 ` +
          `(one per RGB channel); copy image_mean / image_std from the model's preprocessor config.`,
      );
    }
    if (this.channels !== 3 && this.channels !== 1) {
      throw new ClipwiseDataError(`toPixelValues needs 1- or 3-channel images, this dataset has ${this.channels}; convert it to RGB first.`);
    }
    const rescale = options.rescaleFactor ?? (this.images instanceof Uint8Array ? 1 / 255 : 1);
    const plane = outH * outW;
    const needed = indices.length * 3 * plane;
    const out = options.out ?? new Float32Array(needed);
    if (out.length !== needed) {
      throw new ClipwiseDataError(`toPixelValues out has length ${out.length}, expected B×3×H×W = ${needed}; allocate it for this batch size.`);
    }
    const same = outH === this.height && outW === this.width;
    const rows = same ? null : bilinearTaps(this.height, outH);
    const cols = same ? null : bilinearTaps(this.width, outW);
    const scratch = new Float64Array(this.height * outW);
    const inPlane = this.height * this.width;
    for (let b = 0; b < indices.length; b++) {
      const img = this.image(indices[b]);
      for (let c = 0; c < 3; c++) {
        const srcC = this.channels === 1 ? 0 : c;
        const base = (b * 3 + c) * plane;
        if (rows && cols) resizePlane(img, srcC * inPlane, this.height, this.width, rows, cols, out, base, scratch);
        else for (let k = 0; k < plane; k++) out[base + k] = img[srcC * inPlane + k];
        const scale = rescale / std[c];
        const shift = mean[c] / std[c];
        for (let k = 0; k < plane; k++) out[base + k] = out[base + k] * scale - shift;
      }
    }
    return out;
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new ClipwiseDataError(`image index ${index} is outside [0, ${this.size}); sample indices from 0 to size − 1.`);
    }
  }
}
