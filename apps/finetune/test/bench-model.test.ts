import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { bindingLimitBytes, ClipwiseConfigError } from '@clipwise/core';
import { buildBenchModel } from '../src/profile/bench-model';

// GPT-2's token embedding, [50257, 768] in float32
const WTE_BYTES = 50257 * 768 * 4;

describe('buildBenchModel on a device that cannot bind a parameter', () => {
  // lavapipe (128 MiB) under test:gpu; a GPU's ~2 GiB and the other backends bind it
  it.runIf(bindingLimitBytes() < WTE_BYTES)('refuses the model, frozen parameters included, and leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    for (const trainable of ['all', 'bias']) {
      expect(() => buildBenchModel('gpt2', { n_layer: 1 }, 8, { trainable })).toThrowError(ClipwiseConfigError);
      expect(() => buildBenchModel('gpt2', { n_layer: 1 }, 8, { trainable })).toThrowError(/transformer\.wte\.weight \[50257, 768\]/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.runIf(bindingLimitBytes() >= WTE_BYTES)('builds it where it binds', () => {
    const m = buildBenchModel('gpt2', { n_layer: 1 }, 8, { trainable: 'bias' });
    expect(m.paramCount).toBeGreaterThan(50257 * 768);
    m.dispose();
  });
});
