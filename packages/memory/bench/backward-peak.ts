// Peak bytes and time of one training step of a small GPT-2, per backward pass and grouping.
// Run: npx vite-node --config vitest.config.ts bench/backward-peak.ts [--backend wasm|cpu] [--model gpt2-tiny|gpt2-mini] [--batch 16] [--seq 64]
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setupBackend, type BackendName } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { GPT2_PRESETS, Gpt2Model } from '@clipwise/models';
import { NonPrivateGradients, PrivateGradients } from '@clipwise/optim';

const { values } = parseArgs({ options: { backend: { type: 'string' }, model: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, reps: { type: 'string' } } });
await setupBackend((values.backend ?? 'wasm') as BackendName);
const preset = values.model ?? 'gpt2-tiny';
const B = Number(values.batch ?? 16);
const T = Number(values.seq ?? 64);
const reps = Number(values.reps ?? 3);
const model = new Gpt2Model({ ...GPT2_PRESETS[preset]!, n_positions: Math.max(T, 64) }, { seed: 1 });
const ids = tf.randomUniform([B, T], 0, model.config.vocab_size, 'int32', 7) as tf.Tensor2D;

type Source = { accumulate(f: () => tf.Tensor): Promise<unknown>; release(): Promise<{ grads: Map<string, tf.Tensor> }> };
const configs: Array<[string, () => Source]> = [
  ['non-private, TF.js engine.gradients', () => new NonPrivateGradients(model.params, { mode: 'tfjs' })],
  ['non-private, freeing backward', () => new NonPrivateGradients(model.params)],
  ...['all-layer', 'uniform:4', 'layer-wise', 'param-wise'].map(
    (g) => [`private ${g}`, () => new PrivateGradients({ params: model.params, grouping: resolveGrouping(g, model.params, { clipNorm: 1 }), noiseMultiplier: 1, expectedBatchSize: B, seed: 1 })] as [string, () => Source],
  ),
];

const rows: Array<{ name: string; peakMiB: number; stepMs: number }> = [];
for (const [name, make] of configs) {
  const src = make();
  const step = async () => {
    await src.accumulate(() => model.perSampleLoss(ids));
    tf.dispose([...(await src.release()).grads.values()]);
  };
  await step(); // warm-up
  const base = tf.memory().numBytes;
  const prof = await tf.profile(step);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  rows.push({ name, peakMiB: (prof.peakBytes - base) / 2 ** 20, stepMs: times[Math.floor(times.length / 2)]! });
}
const ref = rows[1]!;
console.log(`${preset} (${model.params.reduce((s, p) => s + p.size, 0).toLocaleString('en')} params), B=${B}, T=${T}, backend ${tf.getBackend()}; peak = bytes above the weights during the step`);
console.log('| configuration | peak MiB | peak / non-private | step ms (median) | time / non-private |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.peakMiB.toFixed(2)} | ${(r.peakMiB / ref.peakMiB).toFixed(2)} | ${r.stepMs.toFixed(0)} | ${(r.stepMs / ref.stepMs).toFixed(2)} |`);
}
