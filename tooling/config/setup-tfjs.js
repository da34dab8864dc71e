// Test set-up: gradients registered, backend from CLIPWISE_BACKEND (default cpu).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';

const backend = process.env.CLIPWISE_BACKEND ?? 'cpu';
if (backend === 'webgpu') {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create((process.env.CLIPWISE_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean)) }, configurable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
} else if (backend === 'wasm') {
  await import('@tensorflow/tfjs-backend-wasm');
}
if (!(await tf.setBackend(backend))) throw new Error(`tests: backend '${backend}' could not start`);
await tf.ready();
