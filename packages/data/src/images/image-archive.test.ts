import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { gradient, jpegFile, pngFile } from '../__fixtures__/image-files.js';
import { hasSharedData, sharedDataDir } from '../__fixtures__/shared-data.js';
import { makeTar, type FixtureEntry } from '../__fixtures__/tar-writer.js';
import { CIFAR10_CLASS_NAMES } from './cifar-names.js';
import { readImageArchive } from './image-archive.js';
import { readImageFolder } from './image-folder.js';

const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-archive-'));

function writeArchive(name: string, entries: FixtureEntry[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, makeTar(entries));
  return file;
}

const solid = (v: number) => () => [v, v, v, 255] as [number, number, number, number];

describe('readImageArchive, image-folder layout', () => {
  // Deliberately unsorted, with a prefix folder, a long (pax) path and a test split to ignore.
  const longClass = 'c'.repeat(120);
  const entries: FixtureEntry[] = [
    { path: 'images/train/', type: 'directory' },
    { path: 'images/train/zebra/2.png', data: pngFile(2, 2, solid(20)) },
    { path: 'images/train/zebra/1.png', data: pngFile(2, 2, solid(10)) },
    { path: 'images/test/zebra/9.png', data: pngFile(2, 2, solid(99)) },
    { path: 'images/train/apple/3.jpg', data: jpegFile(2, 2, solid(30)) },
    { path: `images/train/${longClass}/0.png`, data: pngFile(2, 2, solid(5)), longName: 'pax' },
    { path: 'images/train/zebra/0.png', data: pngFile(2, 2, solid(0)) },
    { path: 'images/README.txt', data: 'not an image' },
  ];
  const file = writeArchive('folders.tar.gz', entries);

  it('labels by sorted class name and orders by file name, whatever the archive order', async () => {
    const ds = await readImageArchive(file, { split: 'train' });
    expect(ds.classNames).toEqual(['apple', longClass, 'zebra']);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 2, 2]);
    expect([0, 1, 2, 3, 4].map((i) => ds.image(i)[0])).toEqual([30, 5, 0, 10, 20]);
    expect([ds.height, ds.width]).toEqual([2, 2]);
  });

  it('keeps the smallest names per class with limitPerClass, reading nothing else', async () => {
    const ds = await readImageArchive(file, { split: 'train', limitPerClass: 2 });
    expect([0, 1, 2, 3].map((i) => ds.image(i)[0])).toEqual([30, 5, 0, 10]);
    const test = await readImageArchive(file, { split: 'test' });
    expect(test.classNames).toEqual(['zebra']);
    expect(test.image(0)[0]).toBe(99);
  });

  it('chooses the same fraction subset as readImageFolder on the unpacked files', async () => {
    const unpacked = path.join(dir, 'unpacked');
    for (const e of entries) {
      if (e.type === 'directory' || !e.path.startsWith('images/train/')) continue;
      mkdirSync(path.dirname(path.join(unpacked, e.path)), { recursive: true });
      writeFileSync(path.join(unpacked, e.path), e.data as Uint8Array);
    }
    for (const seed of [1, 2, 3]) {
      const fromArchive = await readImageArchive(file, { split: 'train', fraction: 0.6, seed, resizeTo: 2 }).catch(() => null);
      const fromFolder = await readImageFolder(path.join(unpacked, 'images'), { split: 'train', fraction: 0.6, seed }).catch(() => null);
      expect(fromArchive?.images).toEqual(fromFolder?.images);
    }
  });

  it('says what it expected when nothing matches', async () => {
    await expect(readImageArchive(file, { split: 'validation' })).rejects.toThrow(/found no images under validation\/<class>\//);
  });
});

describe('readImageArchive, CIFAR binary layout', () => {
  const record = (label: number, v: number) => Uint8Array.from([label, ...new Array(3072).fill(v)]);
  const concat = (...rs: Uint8Array[]) => Uint8Array.from(rs.flatMap((r) => Array.from(r)));
  const entries: FixtureEntry[] = [
    { path: 'cifar-10-batches-bin/', type: 'directory' },
    { path: 'cifar-10-batches-bin/batches.meta.txt', data: CIFAR10_CLASS_NAMES.join('\n') },
    ...[1, 2, 3, 4, 5].map((b) => ({ path: `cifar-10-batches-bin/data_batch_${b}.bin`, data: concat(record(b, b), record(0, 100 + b)) })),
    { path: 'cifar-10-batches-bin/test_batch.bin', data: concat(record(9, 9)) },
  ];
  const file = writeArchive('cifar-10-binary.tar.gz', entries);

  it('reads the train batches in order, or the test batch', async () => {
    const train = await readImageArchive(file);
    expect(Array.from(train.labels)).toEqual([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
    expect(train.image(3)[3071]).toBe(102);
    expect(train.classNames).toEqual(CIFAR10_CLASS_NAMES);
    const test = await readImageArchive(file, { split: 'test' });
    expect(Array.from(test.labels)).toEqual([9]);
    const limited = await readImageArchive(file, { limitPerClass: 1 });
    expect(Array.from(limited.labels)).toEqual([1, 0, 2, 3, 4, 5]);
  });
});

/**
 * Independent extraction: find a member's header by its name in the gunzipped archive. The test
 * split comes first in the archive, so the first 6 MB of compressed bytes hold the members we check.
 */
function extractMember(tar: Buffer, name: string): Uint8Array {
  const at = tar.indexOf(Buffer.from(`${name}\0`));
  const size = parseInt(tar.subarray(at + 124, at + 135).toString('latin1'), 8);
  return tar.subarray(at + 512, at + 512 + size);
}

describe.skipIf(!hasSharedData)('readImageArchive on the shared CIFAR-10 JPEG archive', () => {
  const archive = path.join(sharedDataDir, 'cifar10-jpeg.tar.gz');

  it('takes the first 10 test images of each class and decodes them like jpeg-js does', async () => {
    const t0 = performance.now();
    const ds = await readImageArchive(archive, { split: 'test', limitPerClass: 10 });
    const ms = performance.now() - t0;
    expect(ds.size).toBe(100);
    expect(ds.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect([ds.height, ds.width, ds.channels]).toEqual([32, 32, 3]);
    expect(Array.from(ds.labels)).toEqual(CIFAR10_CLASS_NAMES.flatMap((_, c) => new Array(10).fill(c)));
    const tar = gunzipSync(readFileSync(archive).subarray(0, 6 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    for (const [index, member] of [[0, 'test/airplane/0000.jpg'], [37, 'test/cat/0007.jpg'], [99, 'test/truck/0009.jpg']] as const) {
      const ref = jpeg.decode(extractMember(tar, member), { useTArray: true });
      const expected = new Uint8Array(3072);
      for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) expected[c * 1024 + p] = ref.data[p * 4 + c];
      expect(ds.image(index)).toEqual(expected);
    }
    const px = ds.toPixelValues([0, 1, 2, 3], { size: 224 });
    expect(px).toHaveLength(4 * 3 * 224 * 224);
    expect(Math.max(...px.subarray(0, 1000))).toBeLessThanOrEqual(1);
    console.log(`read + decode 100 CIFAR-10 test JPEGs from the tar.gz: ${ms.toFixed(0)} ms`);
  });

  it('picks a deterministic seeded fraction of the train split', async () => {
    const ds = await readImageArchive(archive, { split: 'train', fraction: 0.004, seed: 7 });
    // 50 000 × 0.004 = 200 expected; Binomial sd ≈ 14: allow 5 sd.
    expect(Math.abs(ds.size - 200)).toBeLessThan(70);
    expect(new Set(ds.labels).size).toBe(10);
  });
});
