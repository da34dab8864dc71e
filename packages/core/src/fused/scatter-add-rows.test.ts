import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { scatterAddRows } from './scatter-add-rows';

/** out[v] = Σ_{n: ids[n] = v} rows[n] in float64. */
function reference(ids: Int32Array, rows: Float32Array, d: number, v: number): Float64Array {
  const out = new Float64Array(v * d);
  ids.forEach((id, n) => {
    for (let j = 0; j < d; j++) out[id * d + j]! += rows[n * d + j]!;
  });
  return out;
}

describe('scatterAddRows equals float64 sums, the same bits every call', () => {
  // repeated ids, ids never named (zero rows), d not a multiple of 64, one position, more positions
  // than rows, a single id everywhere (one long sum), d = 1
  const cases: { name: string; ids: number[]; d: number; v: number }[] = [
    { name: 'repeats and gaps', ids: [3, 0, 3, 3, 7, 0, 1], d: 70, v: 9 },
    { name: 'one position', ids: [2], d: 5, v: 4 },
    { name: 'one id everywhere', ids: Array.from({ length: 300 }, () => 5), d: 33, v: 6 },
    { name: 'many positions, few rows', ids: Array.from({ length: 2000 }, (_, i) => (i * 7919) % 37), d: 130, v: 40 },
    { name: 'd = 1', ids: [1, 1, 0], d: 1, v: 2 },
    // wider than one pass of a workgroup's registers (64 threads × 16 columns)
    { name: 'd = 1100', ids: [0, 2, 0, 1, 2], d: 1100, v: 3 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const ids = tf.tensor1d(c.ids, 'int32');
      const rows = tf.randomNormal([c.ids.length, c.d], 0, 1, 'float32', 7) as tf.Tensor2D;
      const want = reference(Int32Array.from(c.ids), (await rows.data()) as Float32Array, c.d, c.v);
      const before = tf.memory().numTensors;
      const first = scatterAddRows(ids, rows, c.v);
      expect(first.shape).toEqual([c.v, c.d]);
      const got = (await first.data()) as Float32Array;
      let worst = 0;
      want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i]! - w) / (1 + Math.abs(w)))));
      expect(worst).toBeLessThan(1e-5);
      for (let r = 0; r < 3; r++) {
        const again = scatterAddRows(ids, rows, c.v);
        expect(Buffer.from(((await again.data()) as Float32Array).buffer).equals(Buffer.from(got.buffer))).toBe(true);
        again.dispose();
      }
      first.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ids, rows]);
    });
  }

  // a tied weight's second sum: into + Σ rows, into consumed (in place on webgpu), equal bit for bit to
  // tf.add(into, scatterAddRows(...)); a view (shared storage) is copied first, leaving its owner as it was
  for (const c of cases.slice(0, 4)) {
    it(`adds into a sum: ${c.name}`, async () => {
      const ids = tf.tensor1d(c.ids, 'int32');
      const rows = tf.randomNormal([c.ids.length, c.d], 0, 1, 'float32', 11) as tf.Tensor2D;
      const base = tf.randomNormal([c.v, c.d], 0, 1, 'float32', 12) as tf.Tensor2D;
      const plain = scatterAddRows(ids, rows, c.v);
      const want = tf.add(base, plain);
      const wantBits = Buffer.from(((await want.data()) as Float32Array).buffer);
      const baseValues = Array.from(await base.data());
      const before = tf.memory().numTensors;
      const into = tf.clone(base) as tf.Tensor2D; // shares base's storage: must not be written
      const total = scatterAddRows(ids, rows, c.v, into);
      expect(into.isDisposed).toBe(true);
      expect(Buffer.from(((await total.data()) as Float32Array).buffer).equals(wantBits)).toBe(true);
      const owned = tf.mul(base, 1) as tf.Tensor2D; // owns its storage: written in place on webgpu
      const again = scatterAddRows(ids, rows, c.v, owned);
      if (tf.getBackend() === 'webgpu') expect(again).toBe(owned);
      expect(Buffer.from(((await again.data()) as Float32Array).buffer).equals(wantBits)).toBe(true);
      expect(Array.from(await base.data())).toEqual(baseValues);
      tf.dispose([total, again]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ids, rows, base, plain, want]);
    });
  }

  it('checks its arguments', async () => {
    const rows = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const out = scatterAddRows(tf.tensor1d([1, 2, 1], 'int32'), rows, 3);
    expect(Array.from(await out.data())).toEqual([0, 0, 6, 8, 3, 4]);
    expect(() => scatterAddRows(tf.tensor1d([0, 1], 'int32'), rows, 3)).toThrow(/ids must be int32 \[3\]/);
    expect(() => scatterAddRows(tf.tensor1d([0, 1, 2]), rows, 3)).toThrow(/ids must be int32/);
    expect(() => scatterAddRows(tf.tensor1d([0, 1, 2], 'int32'), rows, 0)).toThrow(/numRows must be a positive integer/);
    expect(() => scatterAddRows(tf.tensor1d([0, 1, 2], 'int32'), rows, 3, tf.zeros([3, 3]))).toThrow(/into must be \[3, 2\], got \[3,3\]/);
  });

  // The output's zeros are made on the device: a zeroed host array uploaded instead (tf.zeros) cost
  // GPT-2's step 115 ms on an H100 (a 154 MB table). Host data reaches a backend through `write`.
  it.runIf(tf.getBackend() === 'webgpu')('writes no host array of the output size to the device', async () => {
    const rows = tf.randomNormal([4, 64], 0, 1, 'float32', 3) as tf.Tensor2D;
    const ids = tf.tensor1d([9, 2, 9, 4000], 'int32');
    const backend = tf.backend() as unknown as { write: (...a: unknown[]) => unknown };
    const write = backend.write;
    let largest = 0;
    backend.write = function (this: unknown, values: unknown, ...rest: unknown[]) {
      largest = Math.max(largest, (values as ArrayBufferView | null)?.byteLength ?? 0);
      return write.call(this, values, ...rest);
    };
    try {
      const out = scatterAddRows(ids, rows, 4096);
      await out.data();
      out.dispose();
    } finally {
      backend.write = write;
    }
    expect(largest).toBeLessThan(4096 * 64 * 4);
    tf.dispose([rows, ids]);
  });
});
