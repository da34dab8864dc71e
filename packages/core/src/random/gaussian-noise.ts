import * as tf from '@tensorflow/tfjs-core';
import { PhiloxNoiseProgram } from '../webgpu/philox-noise-program';
import { onWebgpu, registerWebgpuKernel, runFlattened } from '../webgpu/webgpu-program';
import { PHILOX_KEY_TAG, philoxNormals } from './philox';

/** Which Gaussian draw: `stream` selects an independent stream under `seed` (both u32). */
export interface GaussianDraw {
  readonly seed: number;
  readonly stream: number;
  /** Standard deviation of the noise. */
  readonly std: number;
  /** Multiplies the result (x + noise); default 1. */
  readonly scale?: number;
}

const KERNEL = 'ClipwisePhiloxNoise';

registerWebgpuKernel(KERNEL, ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const size = attrs.size as number;
  const program = new PhiloxNoiseProgram(size, x !== undefined);
  const out = backend.runWebGPUProgram(program, x ? [x] : [], 'float32', [
    { type: 'uint32', data: [attrs.seed as number] },
    { type: 'uint32', data: [attrs.stream as number] },
    { type: 'uint32', data: [PHILOX_KEY_TAG] },
    { type: 'float32', data: [attrs.std as number] },
    { type: 'float32', data: [attrs.scale as number] },
  ]);
  return out;
});

/** Throws a RangeError naming the bad field of a draw. */
export function checkDraw(d: GaussianDraw): void {
  for (const [k, v] of [['seed', d.seed], ['stream', d.stream]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`gaussian noise: ${k} must be an integer in [0, 2³²), got ${v}`);
  }
  if (!(d.std >= 0) || !Number.isFinite(d.std)) throw new RangeError(`gaussian noise: std must be finite and ≥ 0, got ${d.std}`);
}

/**
 * (x + std·z)·scale, z ~ N(0, I) from the Philox stream (seed, stream): the same numbers on every
 * backend (up to float32 rounding of Box–Muller), drawn on the device under webgpu. `x` may be
 * null for pure noise of `shape`.
 *
 * @example
 * const noisy = addGaussianNoise(gradSum, gradSum.shape, { seed: 42, stream: step, std: sigma * C, scale: 1 / batch });
 */
export function addGaussianNoise(x: tf.Tensor | null, shape: readonly number[], draw: GaussianDraw): tf.Tensor {
  checkDraw(draw);
  const scale = draw.scale ?? 1;
  const size = shape.reduce((a, b) => a * b, 1);
  if (x && x.size !== size) throw new RangeError(`gaussian noise: x has ${x.size} elements, shape [${shape}] has ${size}`);
  if (onWebgpu()) {
    return runFlattened(KERNEL, x ? { x: tf.reshape(x, [size]) } : {}, {}, { size, seed: draw.seed, stream: draw.stream, std: draw.std, scale }, shape);
  }
  return tf.tidy(() => {
    const z = tf.tensor(philoxNormals(size, draw.seed, draw.stream), shape as number[], 'float32');
    const noisy = x ? tf.add(x, tf.mul(z, draw.std)) : tf.mul(z, draw.std);
    return scale === 1 ? noisy : tf.mul(noisy, scale);
  });
}
