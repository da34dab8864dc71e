import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ClipwiseConfigError } from '../errors';
import { bindingLimitBytes, checkParamsBindable } from './binding-limit';

describe('checkParamsBindable', () => {
  const wte = { name: 'transformer.wte.weight', shape: [50257, 768] }; // 154,389,504 bytes
  const wpe = { name: 'transformer.wpe.weight', shape: [1024, 768] };

  it('names every parameter over the limit, with its shape and size (lavapipe\'s 128 MiB against GPT-2)', () => {
    const run = () => checkParamsBindable([wpe, wte, { name: 'lm_head.weight', shape: [50257, 768] }], 2 ** 27);
    expect(run).toThrowError(ClipwiseConfigError);
    expect(run).toThrowError(/2 parameters are larger than the largest buffer .* \(maxStorageBufferBindingSize, 128\.0 MiB\): transformer\.wte\.weight \[50257, 768\] \(147\.2 MiB\), lm_head\.weight \[50257, 768\] \(147\.2 MiB\); use a device/);
    expect(run).not.toThrowError(/wpe/);
  });

  it('passes parameters at the limit exactly, and with the backend\'s own limit (none off webgpu)', () => {
    expect(() => checkParamsBindable([wte], 154_389_504)).not.toThrow();
    if (tf.getBackend() !== 'webgpu') expect(bindingLimitBytes()).toBe(Infinity);
    // lavapipe's 128 MiB refuses GPT-2's token embedding; an NVIDIA card's ~2 GiB and the other backends take it
    if (bindingLimitBytes() >= 154_389_504) expect(() => checkParamsBindable([wte, wpe])).not.toThrow();
    else expect(() => checkParamsBindable([wte, wpe])).toThrowError(/transformer\.wte\.weight/);
  });
});
