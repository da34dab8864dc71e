import * as tf from '@tensorflow/tfjs-core';
import { fusedKernelsEnabled } from '../fused/fused-kernels';
import type { WasmHeapBackend } from './wasm-heap';
import { overrideKernel, type KernelArgs } from '../backend/override-kernel';

type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

/** The exponent when `b` is one float32 value equal to 2 or 3 (read from the wasm heap), else null. */
function smallIntegerExponent(b: tf.TensorInfo, backend: WasmHeapBackend): 2 | 3 | null {
  if (b.dtype !== 'float32' || b.shape.reduce((p, s) => p * s, 1) !== 1) return null;
  const e = backend.typedArrayFromHeap(b)[0];
  return e === 2 || e === 3 ? e : null;
}

/**
 * TF.js's wasm `Pow` calls libm's `pow` per element (~40–70M elements/s here), which made GELU's
 * x³ (and its gradient's x²) a tenth of a GPT-2 step; x·x and x·x·x are two SIMD Multiply kernels
 * (~1G elements/s), exact to a rounding. Other exponents, and everything while fused kernels are
 * off, run TF.js's kernel. Idempotent; call once the wasm backend is ready.
 */
export function installWasmPowKernel(): boolean {
  const multiply = tf.getKernel('Multiply', 'wasm');
  if (!multiply) return false;
  const mul = multiply.kernelFunc as unknown as KernelFunc;
  return overrideKernel('Pow', 'wasm', (original) => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const backend = args.backend as WasmHeapBackend;
    const e = fusedKernelsEnabled() && a.dtype === 'float32' ? smallIntegerExponent(b, backend) : null;
    if (e === null) return original(args);
    const square = mul({ inputs: { a, b: a }, backend, attrs: {} });
    if (e === 2) return square;
    const cube = mul({ inputs: { a: square, b: a }, backend, attrs: {} });
    backend.disposeData(square.dataId);
    return cube;
  });
}
