import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { submitQueued, syncDevice } from './sync-device';

describe('submitQueued', () => {
  it('hands the open command encoder to the device (webgpu), does nothing elsewhere; values unchanged', async () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const y = tf.matMul(a, a);
    const b = tf.backend() as unknown as { commandEncoder?: unknown };
    if (tf.getBackend() === 'webgpu') expect(b.commandEncoder).toBeTruthy(); // the product is recorded, not yet submitted
    submitQueued();
    if (tf.getBackend() === 'webgpu') expect(b.commandEncoder).toBeNull();
    submitQueued(); // nothing open: nothing to do
    expect(Array.from(await y.data())).toEqual([7, 10, 15, 22]);
    await syncDevice();
    tf.dispose([a, y]);
  });
});
