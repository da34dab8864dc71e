import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packByCopies, packByCopiesEnabled, setPackByCopies } from './pack-by-copies';
import { readAll } from '../read-all';

/** Vectors of uneven lengths (0, 1, and past a size class), one 2-D and one scalar: `k` tensors in all, tensor j holding j·1000 + i. */
const made = (k: number) =>
  tf.tidy(() =>
    Array.from({ length: k }, (_, j) => {
      const n = [0, 1, 7, 33, 1001][j % 5]!;
      const v = tf.add(tf.range(0, n), j * 1000);
      return j === 3 ? tf.reshape(v, [3, 11]) : j === 1 ? tf.reshape(v, []) : v;
    }),
  );

describe('packByCopies', () => {
  beforeAll(() => setPackByCopies(true));
  afterAll(() => setPackByCopies(null));

  it('is off unless switched on (CLIPWISE_PACK_BY_COPIES); off, it returns null', () => {
    setPackByCopies(null);
    expect(packByCopiesEnabled()).toBe(process.env.CLIPWISE_PACK_BY_COPIES === 'on');
    setPackByCopies(false);
    const ts = [tf.tensor1d([1, 2]), tf.tensor1d([3])];
    expect(packByCopies(ts)).toBeNull();
    setPackByCopies(true);
    tf.dispose(ts);
  });

  it('lays float32 tensors end to end, values as a concat gives them, on webgpu; null elsewhere or where it does not apply', async () => {
    const ts = made(150);
    const packed = packByCopies(ts);
    if (tf.getBackend() !== 'webgpu') {
      expect(packed).toBeNull();
    } else {
      const want = tf.concat(ts.map((t) => tf.reshape(t, [-1])));
      expect(packed!.shape).toEqual(want.shape);
      expect(Array.from(await packed!.data())).toEqual(Array.from(await want.data()));
      tf.dispose([packed!, want]);
    }
    expect(packByCopies([ts[2]!])).toBeNull(); // one tensor: read it as it is
    const ints = tf.tensor1d([1, 2], 'int32');
    expect(packByCopies([ts[2]!, ints])).toBeNull();
    expect(packByCopies([ts[0]!, ts[5]!])).toBeNull(); // no bytes at all
    tf.dispose([...ts, ints]);
  });

  it('reads right when its inputs are freed and their buffers taken by uploads before the copies are submitted (webgpu)', async () => {
    if (tf.getBackend() !== 'webgpu') return;
    const before = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      const ts = made(40);
      const want = await Promise.all(ts.map(async (t) => Array.from(await t.data())));
      const packed = packByCopies(ts)!;
      tf.dispose(ts);
      // tensors of the same sizes from host values, used at once: their uploads are queue writes, which
      // run ahead of the commands not yet submitted, into whatever buffers the pool hands out
      const overwrite = want.map((v) => tf.tensor1d(v.map((x) => -x - 1)));
      const used = overwrite.map((t) => tf.add(t, 0));
      const got = Array.from(await packed.data());
      expect(got).toEqual(want.flat());
      tf.dispose([packed, ...overwrite, ...used]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('readAll with dispose frees the inputs at once and still reads their values', async () => {
    const before = tf.memory().numTensors;
    const ts = made(40);
    const want = await Promise.all(ts.map(async (t) => Array.from(await t.data())));
    const pending = readAll(ts, { dispose: true });
    expect(ts.every((t) => t.isDisposed)).toBe(true);
    expect((await pending).map((a) => Array.from(a))).toEqual(want);
    expect(tf.memory().numTensors).toBe(before);
  });
});
