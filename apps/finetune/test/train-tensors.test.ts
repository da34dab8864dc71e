import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { explicitSettings } from '../src/train/train-config';
import { runTrain } from '../src/train/run-train';
import { tinyCifar, tinyE2E } from './train-helpers';

/** Live tensors after every step of a `clipwise train` run, and before and after the whole run. */
async function countTensors(args: Record<string, unknown>): Promise<{ perStep: number[]; before: number; after: number }> {
  const perStep: number[] = [];
  const before = tf.memory().numTensors;
  const r = await runTrain(explicitSettings(args), () => {}, { onStep: () => perStep.push(tf.memory().numTensors) });
  expect(r.status).toBe('done');
  return { perStep, before, after: tf.memory().numTensors };
}

// Step 1 creates the optimizer's moments; from then on a step must free everything it makes,
// including the evaluation, generation and checkpoint that run after step 3.
describe('clipwise train frees every tensor it makes (tf.memory().numTensors)', () => {
  const e2eRuns: [string, Record<string, unknown>][] = [
    ['private E2E, layer-wise, AdamW, micro-batches', { epsilon: 5, 'max-physical-batch': 2 }],
    ['private E2E, adaptive thresholds, uniform:2 groups', { epsilon: 5, thresholds: 'adaptive', 'count-noise': 4, grouping: 'uniform:2' }],
    ['non-private E2E, shuffle sampling, SGD', { 'no-dp': true, sampling: 'shuffle', optimizer: 'sgd' }],
  ];
  it.each(e2eRuns)('%s', async (_name, extra) => {
    const t = tinyE2E();
    const { perStep, before, after } = await countTensors({
      config: t.config, steps: 6, 'eval-every': 3, 'gen-limit': 1, out: path.join(t.dir, 'out'), ...extra,
    });
    expect(perStep).toHaveLength(6);
    expect(new Set(perStep.slice(1))).toEqual(new Set([perStep[1]]));
    expect(after).toBe(before);
  });

  it('private ViT on images', async () => {
    const t = tinyCifar(8, 4);
    const { perStep, before, after } = await countTensors({
      config: t.config, model: 'vit-tiny', data: t.train, 'eval-data': t.test, steps: 5, 'eval-every': 2,
      'batch-size': 4, epsilon: 8, backend: 'cpu', out: path.join(t.dir, 'out'),
    });
    expect(new Set(perStep.slice(1))).toEqual(new Set([perStep[1]]));
    expect(after).toBe(before);
  });
});
