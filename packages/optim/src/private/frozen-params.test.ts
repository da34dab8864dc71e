import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { LoraAdapter, collectParams, setTrainable, withAdapterLayers, type ParamSpec } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { TinyLm, tokenBatch } from '../../test/tiny-lm';
import { adamw } from '../transforms/adam';
import { Optimizer } from '../optimizer';
import { PrivateGradients } from './private-gradients';

async function snapshot(params: readonly ParamSpec[]): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(params.map(async (p) => [p.name, (await p.variable.data()) as Float32Array] as const)));
}

/** Three private AdamW steps on `trained`; returns the released gradients' names. */
async function train(model: TinyLm, trained: ParamSpec[]): Promise<string[]> {
  const { ids, targets } = tokenBatch(4, 5, 11, 2);
  const grouping = resolveGrouping('layer-wise', trained, { clipNorm: 1 });
  expect(grouping.groups.flatMap((g) => g.params).sort()).toEqual(trained.map((p) => p.name).sort());
  expect(grouping.sensitivity).toBeCloseTo(1, 12); // S = C over the trainable groups only
  const pg = new PrivateGradients({ params: trained, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 3 });
  const opt = new Optimizer(adamw({ learningRate: 0.05, weightDecay: 0.1 }), trained);
  let names: string[] = [];
  for (let s = 0; s < 3; s++) {
    await pg.accumulate(() => model.perSampleLoss(ids, targets));
    const { grads } = await pg.release();
    names = [...grads.keys()];
    opt.step(grads);
    tf.dispose([...grads.values()]);
  }
  opt.dispose();
  tf.dispose([ids, targets]);
  return names;
}

describe('private training of a trainable subset', () => {
  for (const mode of ['bias only (BiTFiT)', 'LoRA on c_fc with the tied embedding']) {
    it(`${mode}: frozen parameters are unchanged bit for bit, trained ones move, only they get gradients`, async () => {
      const model = new TinyLm(11, 8, mode.startsWith('bias') ? 'bitfit' : 'lora');
      let layers = model.layers;
      if (mode.startsWith('LoRA')) {
        const lora = new LoraAdapter(model.fc, { rank: 2, alpha: 2, seed: 5 });
        model.fc.setAdapter(lora);
        layers = withAdapterLayers(model.layers);
        setTrainable(model.params.filter((p) => p !== model.wte.weight), false);
      } else {
        setTrainable(model.params.filter((p) => p.role !== 'bias'), false);
      }
      const trained = collectParams(layers);
      const frozen = model.params.filter((p) => !trained.includes(p));
      expect(frozen.length).toBeGreaterThan(0);
      const before = await snapshot([...frozen, ...trained]);
      const released = await train(model, trained);
      expect(released.sort()).toEqual(trained.map((p) => p.name).sort());
      const after = await snapshot([...frozen, ...trained]);
      for (const p of frozen) expect(Buffer.from(after.get(p.name)!.buffer).equals(Buffer.from(before.get(p.name)!.buffer)), `${p.name} changed`).toBe(true);
      for (const p of trained) expect(after.get(p.name)!.some((v, i) => v !== before.get(p.name)![i]), `${p.name} did not move`).toBe(true);
      for (const l of layers) l.dispose();
    });
  }

  it('refuses frozen parameters in params (they would get noise and an update)', () => {
    const model = new TinyLm(11, 8, 'refuse');
    setTrainable([model.fc.weight], false);
    const grouping = resolveGrouping('all-layer', model.params, { clipNorm: 1 });
    expect(() => new PrivateGradients({ params: model.params, grouping, noiseMultiplier: 1, expectedBatchSize: 4, seed: 1 })).toThrow(
      /PrivateGradients: 1 frozen parameter\(s\) in params \(refuse.c_fc.weight\)/,
    );
    expect(() => new Optimizer(adamw({ learningRate: 0.1 }), model.params)).toThrow(/Optimizer: 1 frozen parameter/);
    model.dispose();
  });
});
