import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradient, jpegFile, pngFile } from '../__fixtures__/image-files.js';
import { ClipwiseDataError } from '../errors.js';
import { readImageFolder } from './image-folder.js';

describe('readImageFolder', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'clipwise-folder-'));
  const put = (rel: string, bytes: Buffer | string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), bytes);
  };
  put('train/dog/b.png', pngFile(4, 3, gradient));
  put('train/dog/a.PNG', pngFile(4, 3, (x) => [x * 50, x * 50, x * 50, 255], 0)); // greyscale
  put('train/cat/z.jpg', jpegFile(4, 3, gradient));
  put('train/cat/notes.txt', 'ignored');
  put('train/ant/x.png', pngFile(4, 3, (x, y) => [255, 0, 0, x * y * 20], 6)); // with alpha
  put('train/ant/y.jpeg', jpegFile(4, 3, () => [0, 0, 255, 255]));
  put('odd/big/one.png', pngFile(8, 6, gradient));
  put('odd/small/two.png', pngFile(4, 3, gradient));

  it('labels by sorted class folder, orders by file name, decodes RGB channel-first', async () => {
    const ds = await readImageFolder(root, { split: 'train' });
    expect(ds.classNames).toEqual(['ant', 'cat', 'dog']);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 2, 2]);
    expect([ds.height, ds.width, ds.channels]).toEqual([3, 4, 3]);
    // ant/x.png: red, alpha dropped (not composited).
    expect(Array.from(ds.image(0).subarray(0, 12))).toEqual(new Array(12).fill(255));
    expect(Array.from(ds.image(0).subarray(12))).toEqual(new Array(24).fill(0));
    // dog/a.PNG: greyscale expanded to three equal planes.
    const grey = ds.image(3);
    for (let p = 0; p < 12; p++) expect([grey[p], grey[12 + p], grey[24 + p]]).toEqual(new Array(3).fill((p % 4) * 50));
    // dog/b.png exact; cat/z.jpg within JPEG error (quality 100, smooth image: ≤ 8 levels).
    const png = ds.image(4);
    const jpg = ds.image(2);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        const [r, g, b] = gradient(x, y);
        const p = y * 4 + x;
        expect([png[p], png[12 + p], png[24 + p]]).toEqual([r, g, b]);
        for (const [c, v] of [r, g, b].entries()) expect(Math.abs(jpg[c * 12 + p] - v)).toBeLessThanOrEqual(8);
      }
    }
  });

  it('takes the first files by name with limitPerClass, and a seeded fraction deterministically', async () => {
    const limited = await readImageFolder(root, { split: 'train', limitPerClass: 1 });
    expect(Array.from(limited.labels)).toEqual([0, 1, 2]);
    expect(limited.image(2)[0]).toBe(0); // dog/a.PNG (grey, first column 0), not dog/b.png
    const a = await readImageFolder(root, { split: 'train', fraction: 0.5, seed: 3 });
    const b = await readImageFolder(root, { split: 'train', fraction: 0.5, seed: 3 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.numClasses).toBe(3);
  });

  it('needs one image size unless resizeTo is given', async () => {
    await expect(readImageFolder(path.join(root, 'odd'))).rejects.toThrow(/small\/two.png: image is 4×3 but .*big\/one.png is 8×6.*resizeTo/);
    const ds = await readImageFolder(path.join(root, 'odd'), { resizeTo: { height: 6, width: 8 } });
    expect([ds.size, ds.height, ds.width]).toEqual([2, 6, 8]);
  });

  it('explains a wrong root or split', async () => {
    await expect(readImageFolder(root, { split: 'validation' })).rejects.toThrow(ClipwiseDataError);
    await expect(readImageFolder(root, { split: 'validation' })).rejects.toThrow(/validation: cannot list/);
    await expect(readImageFolder(path.join(root, 'train', 'cat'))).rejects.toThrow(/no class folders/);
    await expect(readImageFolder(root, { split: 'train', fraction: 2 })).rejects.toThrow(/fraction must be in \(0, 1\], got 2/);
  });
});
