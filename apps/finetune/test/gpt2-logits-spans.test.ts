import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Gpt2Model } from '@clipwise/models';
import { resolveGrouping } from '@clipwise/grouping';
import { PrivateGradients } from '@clipwise/optim';

const config = { vocab_size: 23, n_positions: 12, n_embd: 8, n_layer: 2, n_head: 2 };

/** The private step's clipped sum (σ = 0) and group norms of a model at the given thresholds. */
async function privateSum(model: Gpt2Model, spec: string, ids: tf.Tensor2D, mask: tf.Tensor2D, thresholds: number[] | null) {
  const probe = resolveGrouping(spec, model.params, { clipNorm: 1 });
  const grouping = thresholds ? probe.withThresholds(thresholds) : probe;
  const pg = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 0, expectedBatchSize: 4, seed: 1 });
  await pg.accumulate(() => model.perSampleLoss(ids, mask));
  const { grads, groups } = await pg.release();
  const sums = new Map(await Promise.all([...grads].map(async ([n, g]) => [n, await g.data()] as const)));
  tf.dispose([...grads.values()]);
  return { sums, fractions: groups.map((g) => g.clipFraction), grouping };
}

describe('GPT-2 with its LM head on spans of positions (logits past the binding limit)', () => {
  for (const spec of ['all-layer', 'layer-wise']) {
    it(`gives the private step of one head, ${spec}`, async () => {
      const ids = tf.tensor2d(Array.from({ length: 4 * 10 }, (_, i) => (i * 7 + 3) % 23), [4, 10], 'int32');
      const mask = tf.tensor2d(Array.from({ length: 4 * 10 }, (_, i) => +(i % 10 >= (i < 20 ? 2 : 5))), [4, 10], 'int32');
      const whole = new Gpt2Model(config, { seed: 5 });
      // 4 · 4 · 23 bytes a position: a limit of 3 positions makes 4 spans of 3, 3, 3 and 1
      const spanned = new Gpt2Model(config, { seed: 5, logitsLimitBytes: 3 * 4 * 4 * 23 });
      // thresholds under which some samples of a group clip and others do not (fractions checked below)
      const first = await privateSum(whole, spec, ids, mask, null);
      const thresholds = first.grouping.groups.map(() => (spec === 'all-layer' ? 2.5 : 0.05));
      const want = await privateSum(whole, spec, ids, mask, thresholds);
      const got = await privateSum(spanned, spec, ids, mask, thresholds);
      expect(got.fractions).toEqual(want.fractions);
      expect(want.fractions.some((f) => f > 0 && f < 1)).toBe(true);
      for (const [name, w] of want.sums) {
        const g = got.sums.get(name)!;
        let num = 0;
        let den = 0;
        w.forEach((v, j) => {
          num += (v - g[j]!) ** 2;
          den += v * v;
        });
        expect(Math.sqrt(num / den), name).toBeLessThan(1e-4);
      }
      tf.dispose([ids, mask]);
      whole.dispose();
      spanned.dispose();
    });
  }
});
