// Shared by the kernel benchmarks (ghost-norm-kernel.ts, clip-product.ts): a launch's device time.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Median device ms of `run` over `reps` timings after one untimed call (which compiles its
 * pipelines): TF.js's `tf.time` kernel time, from timestamp queries on webgpu. `run`'s results are freed.
 *
 * @example
 * const ms = await medianKernelMs(() => core.ghostSqNormPartials(a, g, { bias: true })!, 10);
 */
export async function medianKernelMs(run: () => tf.TensorContainer, reps: number): Promise<number> {
  tf.dispose(run());
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    let out: tf.TensorContainer = [];
    const info = await tf.time(() => void (out = run()));
    tf.dispose(out);
    samples.push(info.kernelMs as number);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)]!;
}
