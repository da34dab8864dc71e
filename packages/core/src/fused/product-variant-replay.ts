import * as tf from '@tensorflow/tfjs-core';
import type { MatmulProblem } from '../webgpu/matmul/matmul-plan';
import { clippedOuterSum, clippedOuterSumWithBias } from './clipped-outer-sum';
import { clippedOuterSumWithBiasFromTerms } from './clipped-outer-sum-from-terms';

/** A scaled product made again on random operands of its shapes: `run` enqueues it (the caller disposes what it returns). */
export interface ProductReplay {
  run(): tf.Tensor[];
  dispose(): void;
}

/**
 * The Book-Keeping product a recorded problem with a variant came from (`MatmulProblem.variant`), on
 * random operands of its shapes, run through the same op a training step runs it with: so that variant
 * tuning times each candidate tile on the kernel that will use it (its K scaling, its prologue forming
 * clip factors, its row or column of ones). Null for a problem that is not such a product.
 *
 * @example
 * const replay = productVariantReplay(problem); // problem.variant.kind === 'clip'
 * if (replay) { tf.dispose(replay.run()); replay.dispose(); }
 */
export function productVariantReplay(p: MatmulProblem): ProductReplay | null {
  const v = p.variant;
  if (!v || p.batch !== 1 || !p.transposeA || p.transposeB || v.group < 1 || p.k % v.group !== 0) return null;
  // the problem's M or N counts the row or column of ones
  const d = v.ones === 'row' ? p.m - 1 : p.m;
  const q = v.ones === 'col' ? p.n - 1 : p.n;
  if (d < 1 || q < 1) return null;
  const samples = p.k / v.group;
  const x = tf.randomNormal([samples, v.group, d], 0, 1, 'float32', 1) as tf.Tensor3D;
  const y = tf.randomNormal([samples, v.group, q], 0, 1, 'float32', 2) as tf.Tensor3D;
  const biasOf = v.ones === 'row' ? 'y' : 'x';
  if (v.kind === 'k-scale') {
    const c = tf.randomUniform([samples], 0.1, 1, 'float32', 3) as tf.Tensor1D;
    return {
      run: () => (v.ones ? Object.values(clippedOuterSumWithBias(x, y, c, { biasOf })) : [clippedOuterSum(x, y, c)]),
      dispose: () => tf.dispose([x, y, c]),
    };
  }
  if (v.width < 1 || v.apartFrom >= v.width) return null;
  const partials = tf.randomUniform([samples, v.width], 0, 1, 'float32', 4) as tf.Tensor2D;
  const clip = { threshold: 1, automatic: false, gamma: 0 };
  const biasApart = v.apartFrom > 0 ? { from: v.apartFrom, threshold: 1 } : undefined;
  return {
    run: () => {
      const r = clippedOuterSumWithBiasFromTerms(x, y, partials, clip, { biasOf, biasApart });
      return [r.weight, r.bias, r.norms, r.factors, ...(r.biasNorms ? [r.biasNorms] : [])];
    },
    dispose: () => tf.dispose([x, y, partials]),
  };
}
