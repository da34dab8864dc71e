import * as tf from '@tensorflow/tfjs-core';

/** A TF.js kernel function as the engine calls it. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: Record<string, unknown> };
export type KernelFunc = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const ORIGINALS = new Map<string, KernelFunc>();

/**
 * Puts `make(original)` in front of TF.js's kernel `name` on `backend`, keeping TF.js's own as the
 * fallback the wrapper may call. Idempotent per (name, backend): the first call wins. False when the
 * backend has no such kernel (not registered yet, or an older TF.js).
 *
 * @example
 * overrideKernel('Pow', 'wasm', (tfjsPow) => (args) => tfjsPow(args));
 */
export function overrideKernel(name: string, backend: string, make: (original: KernelFunc) => KernelFunc): boolean {
  const key = `${backend}/${name}`;
  if (ORIGINALS.has(key)) return true;
  const config = tf.getKernel(name, backend);
  if (!config) return false;
  const original = config.kernelFunc as unknown as KernelFunc;
  ORIGINALS.set(key, original);
  tf.unregisterKernel(name, backend);
  tf.registerKernel({ kernelName: name, backendName: backend, kernelFunc: make(original) as unknown as tf.KernelFunc });
  return true;
}

/** TF.js's own kernel `name` on `backend` as it was before {@link overrideKernel}, else the registered one. */
export function tfjsKernel(name: string, backend: string): KernelFunc {
  const k = ORIGINALS.get(`${backend}/${name}`) ?? (tf.getKernel(name, backend)?.kernelFunc as unknown as KernelFunc | undefined);
  if (!k) throw new Error(`TF.js's ${backend} backend has no ${name} kernel`);
  return k;
}
