import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';
import { setupBackend } from '../backend/setup-backend';
import { setFusedKernels } from '../fused/fused-kernels';

/** Test helper: the enclosing describe runs on the wasm backend, and the test backend is restored after (fused kernels back on). */
export function runOnWasm(): void {
  let before = '';
  beforeAll(async () => {
    before = tf.getBackend();
    await setupBackend('wasm');
  });
  afterAll(async () => {
    setFusedKernels(true);
    await tf.setBackend(before);
  });
}
