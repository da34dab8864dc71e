import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsEnabled } from '../../fused/fused-kernels';
import { matmulShape, runMatmul } from './matmul-kernel';
import { overrideKernel } from '../../backend/override-kernel';

/**
 * Puts Clipwise's tiled matmul in front of TF.js's webgpu `BatchMatMul` and `_FusedMatMul` (bias, no
 * activation): float32 products run it; everything else, and everything while fused
 * kernels are off, runs TF.js's own kernel, kept as the fallback. Idempotent; call after the webgpu
 * backend is imported (`setupBackend('webgpu')` does).
 */
export function installMatmulKernels(): boolean {
  return ['BatchMatMul', '_FusedMatMul'].every((name) =>
    overrideKernel(name, 'webgpu', (original) => (args) => {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
      const plain = !activation || activation === 'linear';
      if (fusedKernelsEnabled() && plain && !preluActivationWeights) {
        const m = { a: a!, b: b!, transposeA, transposeB, bias: bias ?? null };
        const shape = matmulShape(m);
        if (shape) return runMatmul(args.backend as Parameters<typeof runMatmul>[0], m, shape);
      }
      return original(args);
    }),
  );
}
