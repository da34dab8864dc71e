import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { dawnFlags, dawnRobustness, setupBackend, softwareAdapterName } from './setup-backend';

// A browser, as setupBackend sees one: no process.versions.node; navigator.gpu if given.
function pretendBrowser(gpu?: { requestAdapter(): Promise<unknown> }): () => void {
  const versions = Object.getOwnPropertyDescriptor(process, 'versions')!;
  const navigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(process, 'versions', { value: { ...process.versions, node: undefined }, configurable: true });
  Object.defineProperty(globalThis, 'navigator', { value: gpu ? { gpu } : {}, configurable: true });
  return () => {
    Object.defineProperty(process, 'versions', versions);
    if (navigator) Object.defineProperty(globalThis, 'navigator', navigator);
    else delete (globalThis as { navigator?: unknown }).navigator;
  };
}

describe('setupBackend in a browser', () => {
  let restore: (() => void) | undefined;
  afterEach(async () => {
    restore?.();
    restore = undefined;
    await tf.setBackend('cpu');
  });

  it('auto: tries the page\'s WebGPU, then wasm, then webgl, then cpu (never tfjs-node), saying why', async () => {
    restore = pretendBrowser({ requestAdapter: async () => null });
    const choice = await setupBackend('auto');
    // wasm cannot start here: outside Node its loader fetches the .wasm file, and there is no server
    expect(choice.backend).toBe('cpu');
    expect(choice.reason).toMatch(
      /^auto: fell back to cpu \(webgpu: backend 'webgpu': navigator\.gpu\.requestAdapter\(\) found no GPU adapter; wasm: .*; webgl: .*\)$/,
    );
    expect(choice.reason).not.toMatch(/tensorflow:|tfjs-node|Dawn|Vulkan/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('refuses webgpu without navigator.gpu and tfjs-node outright, naming why', async () => {
    restore = pretendBrowser();
    await expect(setupBackend('webgpu')).rejects.toThrow(/this browser has no WebGPU \(navigator\.gpu is undefined\)/);
    await expect(setupBackend('tensorflow')).rejects.toThrow(/runs in Node only/);
  });
});

describe('softwareAdapterName', () => {
  it('names Mesa llvmpipe (what Dawn reports on a CPU-only machine) and passes real GPUs', () => {
    const lavapipe = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1', isFallbackAdapter: true };
    expect(softwareAdapterName(lavapipe)).toBe(lavapipe.description);
    expect(softwareAdapterName({ vendor: 'google', device: 'swiftshader-device' })).toBe('swiftshader-device');
    expect(softwareAdapterName(undefined, true)).toBe('a fallback adapter');
    expect(softwareAdapterName({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' })).toBeNull();
    expect(softwareAdapterName(undefined)).toBeNull();
  });
});

describe('Dawn flags (webgpu in Node)', () => {
  const saved = { flags: process.env.CLIPWISE_DAWN_FLAGS, robustness: process.env.CLIPWISE_DAWN_ROBUSTNESS };
  afterEach(() => {
    for (const [k, v] of [['CLIPWISE_DAWN_FLAGS', saved.flags], ['CLIPWISE_DAWN_ROBUSTNESS', saved.robustness]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('turns robustness off by default, merged into the features the user enables', () => {
    delete process.env.CLIPWISE_DAWN_ROBUSTNESS;
    delete process.env.CLIPWISE_DAWN_FLAGS;
    expect(dawnFlags()).toEqual(['disable-dawn-features=timestamp_quantization', 'enable-dawn-features=disable_robustness']);
    process.env.CLIPWISE_DAWN_FLAGS = 'enable-dawn-features=allow_unsafe_apis  backend=vulkan';
    expect(dawnFlags()).toEqual(['enable-dawn-features=allow_unsafe_apis,disable_robustness', 'backend=vulkan', 'disable-dawn-features=timestamp_quantization']);
    process.env.CLIPWISE_DAWN_FLAGS = 'enable-dawn-features=disable_robustness';
    expect(dawnFlags()).toEqual(['enable-dawn-features=disable_robustness', 'disable-dawn-features=timestamp_quantization']);
  });

  it('turns timestamp quantization off, merged into the features the user disables, unless the user enables it', () => {
    delete process.env.CLIPWISE_DAWN_ROBUSTNESS;
    process.env.CLIPWISE_DAWN_FLAGS = 'disable-dawn-features=lazy_clear_resource_on_first_use';
    expect(dawnFlags(true)).toEqual(['disable-dawn-features=lazy_clear_resource_on_first_use,timestamp_quantization']);
    process.env.CLIPWISE_DAWN_FLAGS = 'disable-dawn-features=timestamp_quantization';
    expect(dawnFlags(true)).toEqual(['disable-dawn-features=timestamp_quantization']);
    process.env.CLIPWISE_DAWN_FLAGS = 'enable-dawn-features=timestamp_quantization';
    expect(dawnFlags(true)).toEqual(['enable-dawn-features=timestamp_quantization']);
  });

  it('keeps robustness when asked (option over CLIPWISE_DAWN_ROBUSTNESS), and rejects a bad value', () => {
    process.env.CLIPWISE_DAWN_FLAGS = 'enable-dawn-features=allow_unsafe_apis';
    expect(dawnFlags(true)).toEqual(['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization']);
    process.env.CLIPWISE_DAWN_ROBUSTNESS = 'on';
    expect(dawnRobustness()).toBe(true);
    expect(dawnRobustness(false)).toBe(false);
    expect(dawnFlags()).toEqual(['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization']);
    process.env.CLIPWISE_DAWN_ROBUSTNESS = 'yes';
    expect(() => dawnRobustness()).toThrow(/CLIPWISE_DAWN_ROBUSTNESS must be on or off, got 'yes'/);
  });
});

describe('setupBackend(\'webgpu\') in Node, more than once', () => {
  // a second Dawn instance served nothing (TF.js keeps the first device) and, collected while Dawn's
  // threads ran, killed test workers in about half of apps/finetune's webgpu runs on lavapipe
  it.runIf(process.env.CLIPWISE_BACKEND === 'webgpu')('makes one Dawn instance per process: navigator.gpu and the device stay the same', async () => {
    await setupBackend('webgpu');
    const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
    const device = (tf.backend() as unknown as { device: unknown }).device;
    expect(device).toBeDefined();
    expect(gpu).toBeDefined();
    await setupBackend('cpu');
    for (let i = 0; i < 3; i++) await setupBackend('webgpu');
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBe(gpu);
    expect((tf.backend() as unknown as { device: unknown }).device).toBe(device);
    const y = tf.add(tf.tensor1d([1, 2]), 1);
    expect(Array.from(await y.data())).toEqual([2, 3]);
    y.dispose();
  });
});
