import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { requestAllStorageBindings } from './request-all-storage-bindings';
import { storageBindingsPerDispatch } from '../webgpu/direct-dispatch';

describe('requestAllStorageBindings', () => {
  it("adds the adapter's storage-binding limit to the device request, keeping the caller's limits and options", async () => {
    const asked: unknown[] = [];
    const adapter = { limits: { maxStorageBuffersPerShaderStage: 16 }, requestDevice: async (d?: unknown) => (asked.push(d), 'device') };
    const gpu = requestAllStorageBindings({ requestAdapter: async () => adapter });
    const a = (await gpu.requestAdapter()) as typeof adapter;
    expect(await a.requestDevice({ requiredFeatures: ['timestamp-query'], requiredLimits: { maxBufferSize: 1024 } })).toBe('device');
    expect(asked).toEqual([{ requiredFeatures: ['timestamp-query'], requiredLimits: { maxBufferSize: 1024, maxStorageBuffersPerShaderStage: 16 } }]);
    await a.requestDevice();
    expect(asked[1]).toEqual({ requiredLimits: { maxStorageBuffersPerShaderStage: 16 } });
  });

  it('passes no adapter through untouched', async () => {
    const gpu = requestAllStorageBindings({ requestAdapter: async () => null });
    expect(await gpu.requestAdapter()).toBeNull();
  });

  it("storageBindingsPerDispatch: the device's limit within [8, cap] on webgpu (setupBackend asked for it all), 8 elsewhere", () => {
    const n = storageBindingsPerDispatch();
    if (tf.getBackend() !== 'webgpu') {
      expect(n).toBe(8);
      return;
    }
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    expect(n).toBe(Math.min(32, device.limits.maxStorageBuffersPerShaderStage));
    expect(storageBindingsPerDispatch(4)).toBe(8); // never below what every device offers
  });
});
