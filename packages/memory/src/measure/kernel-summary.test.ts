import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { matmulFlops, summariseKernels } from './kernel-summary';

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
    // 2·M·N·K of each product: 2·4·5·3 + 2·5·3·4
    expect(s.matmulGflop * 1e9).toBeCloseTo(120 + 120, 6);
    tf.dispose([a, b]);
  });

  it('matmulFlops reads K off A whether or not A was transposed', () => {
    expect(matmulFlops([[7, 3], [3, 5]], [7, 5])).toBe(2 * 7 * 5 * 3); // A [M, K]
    expect(matmulFlops([[3, 7], [3, 5]], [7, 5])).toBe(2 * 7 * 5 * 3); // A [K, M] (transposeA)
    expect(matmulFlops([[2, 4, 4], [2, 4, 6]], [2, 4, 6])).toBe(2 * 2 * 4 * 6 * 4); // M = K
  });
});
