import * as tf from '@tensorflow/tfjs-core';
import type { KernelCost, NormMode } from './norm-kernel';

/**
 * Backends that run on the CPU, where time, not memory, limits a step. TF.js's pure-JS `cpu` backend
 * (tests) keeps fastDP's rule: the memory model's checks on it (packages/memory) are written for
 * that rule, and under the flops rule its instantiate-mode peaks come out 15% above the model's.
 */
const CPU_BACKENDS = new Set(['wasm', 'tensorflow']);

/**
 * The mode `normMode: 'auto'` takes for one weight, given both modes' costs and fastDP's rule for
 * it (Bu et al. 2023: ghost when 2T² ≤ d·p, which keeps the O(B T²) Gram matrices below the
 * O(B d p) per-sample gradients). On a GPU memory is the tight resource and fastDP's rule stands.
 * On a CPU backend (wasm, tensorflow) time is: the mode with fewer flops wins. With TF.js's
 * wasm backend both modes are batches of 2-D products of the same speed (core's
 * `installWasmMatmulKernels`), so flops predict time; e.g. GPT-2's MLP weight 128 × 512 at T = 176
 * is ghost by fastDP's rule but instantiates in 0.57× the flops.
 *
 * @param backend the TF.js backend the step runs on (default: the active one)
 */
export function mixedRuleMode(cost: { ghost: KernelCost; instantiate: KernelCost }, fastDpGhost: boolean, backend: string = tf.getBackend()): NormMode {
  if (!CPU_BACKENDS.has(backend)) return fastDpGhost ? 'ghost' : 'instantiate';
  return cost.ghost.flops <= cost.instantiate.flops ? 'ghost' : 'instantiate';
}
