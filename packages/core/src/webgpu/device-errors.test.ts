import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { clearDeviceErrors, deviceErrorMessage, deviceErrors, GpuDeviceError, throwIfDeviceError, watchDeviceErrors } from './device-errors';

type Listener = (event: { error?: unknown }) => void;

/** A device that only reports errors: what `uncapturederror` listeners see. */
function fakeDevice() {
  const listeners: Listener[] = [];
  return {
    addEventListener: (type: string, l: Listener) => type === 'uncapturederror' && listeners.push(l),
    report: (error: unknown) => listeners.forEach((l) => l({ error })),
    listeners,
  };
}

class GPUValidationError extends Error {}

describe('device error watcher', () => {
  afterEach(() => clearDeviceErrors());

  it('throws nothing while the device reported nothing', () => {
    watchDeviceErrors(fakeDevice());
    expect(() => throwIfDeviceError('step 1')).not.toThrow();
    expect(deviceErrors()).toEqual({ reports: [], total: 0 });
  });

  it('quotes the first report (its kind and first lines) and counts the rest', () => {
    const device = fakeDevice();
    watchDeviceErrors(device);
    watchDeviceErrors(device); // idempotent: one listener, each report counted once
    expect(device.listeners).toHaveLength(1);
    device.report(new GPUValidationError('Buffer size (1099511627776) exceeds the max buffer size limit (268435456).\n - While calling [Device].CreateBuffer'));
    for (let i = 0; i < 11; i++) device.report(new GPUValidationError('[Invalid BindGroup (unlabeled)] is invalid due to a previous error.'));
    expect(deviceErrors().total).toBe(12);
    expect(deviceErrors().reports).toHaveLength(8);
    let thrown: unknown;
    try {
      throwIfDeviceError('step 7');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GpuDeviceError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/by step 7, .*\(11 more reports followed\); its first report, GPUValidationError:\nBuffer size \(1099511627776\) exceeds the max buffer size limit/);
    expect(message).not.toMatch(/Invalid BindGroup/);
    expect(deviceErrorMessage('step 7')).toBe(message);
    clearDeviceErrors();
    expect(() => throwIfDeviceError('step 8')).not.toThrow();
    expect(deviceErrorMessage('step 8')).toBeNull();
  });

  it('ignores what is not a device', () => {
    expect(() => watchDeviceErrors(undefined)).not.toThrow();
    expect(() => watchDeviceErrors({})).not.toThrow();
  });

  it.runIf(tf.getBackend() === 'webgpu')('catches a real validation error of the webgpu device setupBackend started', async () => {
    const device = (tf.backend() as unknown as { device: { createBuffer(d: { size: number; usage: number }): { destroy(): void }; limits: { maxBufferSize: number }; queue: { onSubmittedWorkDone(): Promise<void> } } }).device;
    clearDeviceErrors();
    const huge = device.createBuffer({ size: device.limits.maxBufferSize + 4, usage: 0x80 /* STORAGE */ });
    await device.queue.onSubmittedWorkDone();
    for (let i = 0; i < 50 && deviceErrors().total === 0; i++) await new Promise((r) => setTimeout(r, 10));
    huge.destroy();
    expect(() => throwIfDeviceError('this test')).toThrowError(/its first report, GPUValidationError:\n.*max buffer size/i);
  });
});
