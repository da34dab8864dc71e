import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { storageBindingsPerDispatch } from '@clipwise/core';
import { clipFactors, normsAndClipFactors } from './clipping';

describe('clipFactors', () => {
  // n = 0 (a sample that never used the group), below, at and above C, and far from it
  const C = 0.7;
  const norms = [0, 1e-30, 0.1, 0.69999, C, 0.70001, 3, 1e20];

  it('abadi: min(1, C / n) (float64 reference), exactly 1 for n ≤ C', async () => {
    const n = tf.tensor1d(norms);
    const c = clipFactors(n, C, { fn: 'abadi' });
    const got = await c.data();
    const f32 = Array.from(await n.data()); // the norms as the device holds them
    f32.forEach((v, i) => {
      const want = Math.min(1, Math.fround(C) / v);
      if (v <= Math.fround(C)) expect(got[i], `n = ${v}`).toBe(1);
      else expect(Math.abs(got[i]! - want) / want, `n = ${v}`).toBeLessThan(1e-7);
    });
    tf.dispose([n, c]);
  });

  it('automatic: C / (n + γ)', async () => {
    const n = tf.tensor1d(norms);
    const c = clipFactors(n, C, { fn: 'automatic', gamma: 0.01 });
    const got = await c.data();
    Array.from(await n.data()).forEach((v, i) => {
      const want = C / (v + 0.01);
      expect(Math.abs(got[i]! - want) / want, `n = ${v}`).toBeLessThan(1e-6);
    });
    tf.dispose([n, c]);
  });
});

describe('normsAndClipFactors (one kernel on webgpu)', () => {
  for (const config of [{ fn: 'abadi' }, { fn: 'automatic', gamma: 0.01 }] as const) {
    it(`${config.fn}: equals sqrt then clipFactors, with n = 0, n < C, n = C and n > C`, async () => {
      const sq = tf.tensor1d([0, 0.25, 1, 4, 9e6, 1e-12, 2.25]);
      const { norms, factors } = normsAndClipFactors(sq, 1, config);
      const refNorms = tf.sqrt(sq) as tf.Tensor1D;
      const ref = clipFactors(refNorms, 1, config);
      const [n, c, rn, rc] = await Promise.all([norms.data(), factors.data(), refNorms.data(), ref.data()]);
      n.forEach((v, i) => expect(v).toBeCloseTo(rn[i]!, 6));
      c.forEach((v, i) => expect(v).toBeCloseTo(rc[i]!, 6));
      tf.dispose([sq, norms, factors, refNorms, ref]);
    });
  }

  it('sums a group\'s terms in the same launch (a term listed twice counts twice; more terms than one launch binds), against float64', async () => {
    const B = 37; // not a multiple of the workgroup
    const rows = (k: number) => Array.from({ length: B }, (_, i) => ((i * 7 + k * 13) % 11) * 0.37 + (k === 0 && i === 3 ? 1e4 : 0));
    for (const count of [1, 2, 5, storageBindingsPerDispatch() - 3, storageBindingsPerDispatch() + 3]) {
      const values = Array.from({ length: count }, (_, k) => rows(k));
      const terms = values.map((v) => tf.tensor1d(v));
      const list = count > 1 ? [...terms, terms[1]!] : terms; // the second term twice, as a tied cross term is added
      const want = Array.from({ length: B }, (_, i) => Math.sqrt(values.reduce((a, v) => a + v[i]!, 0) + (count > 1 ? values[1]![i]! : 0)));
      const before = tf.memory().numTensors;
      const { norms, factors } = normsAndClipFactors(list, 2.5, { fn: 'abadi' });
      expect(tf.memory().numTensors).toBe(before + 2);
      const [n, c] = await Promise.all([norms.data(), factors.data()]);
      n.forEach((v, i) => expect(Math.abs(v - want[i]!) / Math.max(want[i]!, 1), `count ${count}, sample ${i}`).toBeLessThan(1e-6));
      c.forEach((v, i) => expect(Math.abs(v - Math.min(1, 2.5 / want[i]!)), `count ${count}, sample ${i}`).toBeLessThan(1e-6));
      tf.dispose([...terms, norms, factors]);
    }
  });
});
