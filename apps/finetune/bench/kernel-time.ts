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
  return (await interleavedKernelMs([run], reps))[0]!;
}

/**
 * Median device ms of each of `runs`, timed in turn within every one of `reps` rounds (after one
 * untimed call each), so that the device's clocks and caches drift on all of them alike: for forms
 * of one kernel whose differences are smaller than that drift. `runs`' results are freed.
 *
 * @example
 * const [plain, fused] = await interleavedKernelMs([() => twoLaunches(x), () => oneLaunch(x)], 10);
 */
export async function interleavedKernelMs(runs: readonly (() => tf.TensorContainer)[], reps: number): Promise<number[]> {
  for (const run of runs) tf.dispose(run());
  const samples = runs.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < runs.length; k++) {
      let out: tf.TensorContainer = [];
      const info = await tf.time(() => void (out = runs[k]!()));
      tf.dispose(out);
      samples[k]!.push(info.kernelMs as number);
    }
  }
  return samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)]!);
}
