import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { ImageDataset } from './image-dataset.js';
import { resizeBilinear } from './resize-bilinear.js';

function tinyDataset(): ImageDataset {
  // Two 3-channel 2×2 images: image 0 all 0, image 1 channels 255 / 51 / 102.
  const images = new Uint8Array(24);
  images.fill(255, 12, 16);
  images.fill(51, 16, 20);
  images.fill(102, 20, 24);
  return new ImageDataset({ images, labels: Int32Array.from([1, 0]), numClasses: 2, classNames: ['a', 'b'], height: 2, width: 2, channels: 3 });
}

describe('ImageDataset', () => {
  it('normalises with HF ViT defaults (rescale 1/255, mean = std = 0.5) without resizing', () => {
    const ds = tinyDataset();
    const px = ds.toPixelValues([1, 0]);
    expect(px).toHaveLength(2 * 3 * 4);
    expect(px[0]).toBeCloseTo(1, 6); // 255 → 1
    expect(px[4]).toBeCloseTo((51 / 255 - 0.5) / 0.5, 6);
    expect(px[8]).toBeCloseTo((102 / 255 - 0.5) / 0.5, 6);
    expect(px[12]).toBeCloseTo(-1, 6); // 0 → −1
    expect(Array.from(ds.gatherLabels([1, 0]))).toEqual([0, 1]);
  });

  it('applies per-channel mean/std (ImageNet) and resizes like resizeBilinear', () => {
    const images = new Uint8Array(3 * 4 * 4).map((_, i) => (i * 37) % 256);
    const ds = new ImageDataset({ images, labels: Int32Array.from([0]), numClasses: 1, classNames: ['x'], height: 4, width: 4, channels: 3 });
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const px = ds.toPixelValues([0], { size: 7, mean, std });
    const ref = resizeBilinear(images, 3, 4, 4, 7, 7);
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < 49; k++) expect(px[c * 49 + k]).toBeCloseTo((ref[c * 49 + k] / 255 - mean[c]) / std[c], 5);
    }
  });

  it('repeats a greyscale channel, accepts float images in [0, 1] and reuses an out buffer', () => {
    const ds = new ImageDataset({
      images: Float32Array.from([0, 0.25, 0.5, 1]),
      labels: Int32Array.from([0]),
      numClasses: 1,
      classNames: ['g'],
      height: 2,
      width: 2,
      channels: 1,
    });
    const out = new Float32Array(12);
    const px = ds.toPixelValues([0], { out });
    expect(px).toBe(out);
    expect(Array.from(px)).toEqual([-1, -0.5, 0, 1, -1, -0.5, 0, 1, -1, -0.5, 0, 1]);
  });

  it('subsets and checks its fields', () => {
    const ds = tinyDataset();
    const sub = ds.subset([1]);
    expect(sub.size).toBe(1);
    expect(Array.from(sub.labels)).toEqual([0]);
    expect(sub.image(0)[0]).toBe(255);
    expect(() => ds.toPixelValues([2])).toThrow(/image index 2 is outside \[0, 2\)/);
    expect(() => ds.toPixelValues([0], { std: [0.5, 0, 0.5] })).toThrow(ClipwiseDataError);
    expect(() => new ImageDataset({ ...ds, labels: Int32Array.from([0, 5]) })).toThrow(/label 5 of image 1/);
    expect(() => new ImageDataset({ ...ds, images: new Uint8Array(5) })).toThrow(/has 5 values/);
  });
});
