import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipwiseDataError } from '../errors.js';
import { readCifarBinary } from '../node/read-cifar-binary.js';
import { parseCifarBinary } from './cifar-binary.js';

const dir = mkdtempSync(path.join(tmpdir(), 'clipwise-cifar-'));

/** A known image: red = f(i), green = g(i), blue = h(i) of the pixel index, shifted by `seed`. */
function knownPixels(seed: number): Uint8Array {
  const px = new Uint8Array(3072);
  for (let i = 0; i < 1024; i++) {
    px[i] = (i + seed) & 255;
    px[1024 + i] = (3 * i + seed) & 255;
    px[2048 + i] = (255 - i + seed) & 255;
  }
  return px;
}

function record(labels: number[], seed: number): Uint8Array {
  return Uint8Array.from([...labels, ...knownPixels(seed)]);
}

function file(name: string, records: Uint8Array[]): string {
  const p = path.join(dir, name);
  writeFileSync(p, Buffer.concat(records));
  return p;
}

describe('CIFAR binary format', () => {
  it('round-trips CIFAR-10 records: label byte then R, G, B planes, channel-first', async () => {
    const p = file('c10.bin', [record([3], 1), record([7], 2), record([3], 3)]);
    const ds = await readCifarBinary(p);
    expect(Array.from(ds.labels)).toEqual([3, 7, 3]);
    expect([ds.size, ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([3, 3, 32, 32, 10]);
    expect(ds.classNames[3]).toBe('cat');
    expect(ds.images).toBeInstanceOf(Uint8Array);
    expect(ds.image(1)).toEqual(knownPixels(2));
    // Pixel (row 1, col 2) of image 0: index 34 in each plane.
    expect([ds.image(0)[34], ds.image(0)[1024 + 34], ds.image(0)[2048 + 34]]).toEqual([35, 103, 222]);
  });

  it('reads CIFAR-100 fine or coarse labels', async () => {
    const p = file('c100.bin', [record([4, 30], 5), record([19, 99], 6)]);
    const fine = await readCifarBinary(p, { variant: 'cifar100' });
    const coarse = await readCifarBinary(p, { variant: 'cifar100', labelKind: 'coarse' });
    expect(Array.from(fine.labels)).toEqual([30, 99]);
    expect(fine.classNames[99]).toBe('worm');
    expect(Array.from(coarse.labels)).toEqual([4, 19]);
    expect(coarse.numClasses).toBe(20);
    expect(fine.image(0)).toEqual(knownPixels(5));
  });

  it('reads the train or test split of a cifar-10-batches-bin directory, with meta names and limitPerClass', async () => {
    const root = path.join(dir, 'release');
    const bin = path.join(root, 'cifar-10-batches-bin');
    mkdirSync(bin, { recursive: true });
    for (let b = 1; b <= 5; b++) writeFileSync(path.join(bin, `data_batch_${b}.bin`), Buffer.concat([record([b], b), record([0], 10 + b)]));
    writeFileSync(path.join(bin, 'test_batch.bin'), record([9], 99));
    writeFileSync(path.join(bin, 'batches.meta.txt'), 'plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
    const train = await readCifarBinary(root, { split: 'train' });
    expect(Array.from(train.labels)).toEqual([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]);
    expect(train.classNames[0]).toBe('plane');
    expect(train.image(9)).toEqual(knownPixels(15));
    const test = await readCifarBinary(bin, { split: 'test' });
    expect(Array.from(test.labels)).toEqual([9]);
    const limited = await readCifarBinary(bin, { limitPerClass: 2 });
    expect(Array.from(limited.labels)).toEqual([1, 0, 2, 0, 3, 4, 5]);
  });

  it('rejects a truncated file, naming it, its size and the fix', async () => {
    const whole = Buffer.concat([record([1], 1), record([2], 2)]);
    const p = path.join(dir, 'truncated.bin');
    writeFileSync(p, whole.subarray(0, whole.length - 10));
    await expect(readCifarBinary(p)).rejects.toThrow(ClipwiseDataError);
    await expect(readCifarBinary(p)).rejects.toThrow(/truncated.bin: 6136 bytes is not a whole number of 3073-byte cifar10 records.*download it again/);
    expect(() => parseCifarBinary(new Uint8Array(0), 'empty.bin')).toThrow(/empty.bin: 0 bytes/);
    await expect(readCifarBinary(path.join(dir, 'missing.bin'))).rejects.toThrow(/missing.bin: no such file/);
  });

  it('rejects labels out of range (e.g. a CIFAR-100 file read as CIFAR-10)', () => {
    const bytes = Buffer.concat([record([12], 0)]);
    expect(() => parseCifarBinary(bytes, 'x.bin')).toThrow(/record 0 has label 12/);
  });
});
