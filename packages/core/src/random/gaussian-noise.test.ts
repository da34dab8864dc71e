import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { addGaussianNoise } from './gaussian-noise';
import { philoxNormals } from './philox';

// Runs on the test backend (cpu in CI, webgpu under test:gpu): the device draw must equal the
// float64 JavaScript reference of the same Philox stream.
describe('addGaussianNoise', () => {
  it('draws the Philox stream (seed, stream) on the active backend, shaped, scaled and added to x', async () => {
    const shape = [3, 7, 5]; // 105 elements: a partial last block of 4
    const z = philoxNormals(105, 99, 12);
    const x = tf.range(0, 105).reshape(shape);
    const out = addGaussianNoise(x, shape, { seed: 99, stream: 12, std: 0.5, scale: 2 });
    expect(out.shape).toEqual(shape);
    const got = await out.data();
    for (let i = 0; i < 105; i++) expect(got[i]).toBeCloseTo((i + 0.5 * z[i]!) * 2, 2);
    const pure = await addGaussianNoise(null, [105], { seed: 99, stream: 12, std: 1 }).data();
    let worst = 0;
    for (let i = 0; i < 105; i++) worst = Math.max(worst, Math.abs(pure[i]! - z[i]!));
    expect(worst).toBeLessThan(1e-3);
    tf.dispose([x, out]);
  });

  it('large draws on the device have the moments of N(0, std²)', async () => {
    const n = 1 << 20;
    const v = await addGaussianNoise(null, [n], { seed: 5, stream: 0, std: 3 }).data();
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { s += v[i]!; s2 += v[i]! * v[i]!; }
    expect(Math.abs(s / n)).toBeLessThan((5 * 3) / Math.sqrt(n));
    expect(Math.abs(s2 / n / 9 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('refuses bad draws by name', () => {
    expect(() => addGaussianNoise(null, [2], { seed: -1, stream: 0, std: 1 })).toThrow(/seed/);
    expect(() => addGaussianNoise(null, [2], { seed: 0, stream: 1.5, std: 1 })).toThrow(/stream/);
    expect(() => addGaussianNoise(null, [2], { seed: 0, stream: 0, std: NaN })).toThrow(/std/);
    expect(() => addGaussianNoise(tf.zeros([3]), [2], { seed: 0, stream: 0, std: 1 })).toThrow(/elements/);
  });
});
