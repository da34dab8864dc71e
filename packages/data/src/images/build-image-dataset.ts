import { ClipwiseDataError, assertInteger } from '../errors.js';
import { decodeImage, type DecodedImage } from './decode-image.js';
import { ImageDataset } from './image-dataset.js';
import { resizeBilinear } from './resize-bilinear.js';

/** Target size for images of mixed sizes: a side, or height and width. */
export type ResizeTo = number | { readonly height: number; readonly width: number };

/** An image chosen for a dataset, not yet decoded. */
export interface PendingImage {
  readonly label: number;
  /** Where it came from, for error messages. */
  readonly source: string;
  readonly bytes: Uint8Array;
}

function resizeToBytes(img: DecodedImage, height: number, width: number): Uint8Array {
  const resized = resizeBilinear(img.pixels, 3, img.height, img.width, height, width);
  const out = new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(resized[i])));
  return out;
}

/**
 * Decodes the chosen images in order into one channel-first byte array. Every image must have the
 * first one's size unless `resizeTo` is given, in which case each is resized (Pillow-style bilinear).
 */
export function buildImageDataset(images: readonly PendingImage[], classNames: readonly string[], resizeTo?: ResizeTo): ImageDataset {
  if (images.length === 0) {
    throw new ClipwiseDataError(`no images were selected from classes ${JSON.stringify(classNames)}; check the split name and the subset options.`);
  }
  let height = typeof resizeTo === 'number' ? resizeTo : resizeTo?.height;
  let width = typeof resizeTo === 'number' ? resizeTo : resizeTo?.width;
  if (height !== undefined) assertInteger(height, 'resizeTo height', 1);
  if (width !== undefined) assertInteger(width, 'resizeTo width', 1);
  let pixels: Uint8Array | undefined;
  const labels = new Int32Array(images.length);
  images.forEach((pending, i) => {
    const img = decodeImage(pending.bytes, pending.source);
    if (height === undefined || width === undefined) {
      height = img.height;
      width = img.width;
    }
    let data = img.pixels;
    if (img.height !== height || img.width !== width) {
      if (resizeTo === undefined) {
        throw new ClipwiseDataError(
          `${pending.source}: image is ${img.width}×${img.height} but ${images[0].source} is ${width}×${height}; ` +
            `all images must share a size: pass resizeTo (e.g. resizeTo: 224) to resize them while loading.`,
        );
      }
      data = resizeToBytes(img, height, width);
    }
    pixels ??= new Uint8Array(images.length * 3 * height * width);
    pixels.set(data, i * 3 * height * width);
    labels[i] = pending.label;
  });
  return new ImageDataset({
    images: pixels!,
    labels,
    numClasses: classNames.length,
    classNames,
    height: height!,
    width: width!,
    channels: 3,
  });
}
