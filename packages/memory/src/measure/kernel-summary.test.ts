import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { summariseKernels } from './kernel-summary';

describe('summariseKernels', () => {
  it('counts launches per kernel, leaving out reshapes, identities and op scopes; matmuls by shape', async () => {
    const a = tf.ones([4, 3]);
    const b = tf.ones([3, 5]);
    const info = await tf.profile(() =>
      tf.tidy(() => {
        const y = tf.matMul(a, b); // MatMul [4,3]x[3,5]
        const z = tf.matMul(tf.reshape(y, [5, 4]), a); // Reshape (no launch), MatMul [5,4]x[4,3]
        return tf.add(tf.add(z, 1), tf.clone(z)); // Add x2, Identity (clone: no launch)
      }),
    );
    const s = await summariseKernels(info.kernels);
    const launches = Object.fromEntries(s.rows.map((r) => [r.kernel, r.launches]));
    expect(launches).toEqual({
      'BatchMatMul [[4,3],[3,5]]': 1,
      'BatchMatMul [[5,4],[4,3]]': 1,
      Add: 2,
    });
    expect(s.launches).toBe(4);
    expect(s.entries).toBeGreaterThan(s.launches); // the reshapes, the identity and the op scopes
    // the cpu backend times each kernel on the CPU: every row is timed, and the total is their sum
    expect(s.kernelMs).toBeCloseTo(s.rows.reduce((t, r) => t + r.ms!, 0), 9);
    tf.dispose([a, b]);
  });
});
