// Where a training step's time goes, kernel by kernel: wall time of non-private and private steps,
// and a tf.profile of one step aggregated by kernel name (count, total kernel ms where the adapter
// has timestamp queries). GPT-2 or ViT presets (`--model vit-mini`). Run on the GPU machine (see shared/gpu/README.md):
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/gpu-profile.ts -- --backend webgpu --model gpt2 --batch 16 --seq 128
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setFusedKernels, setupBackend, useQueueWriteUploads, type BackendName } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { GPT2_PRESETS, Gpt2Model, VIT_PRESETS, VitModel } from '@clipwise/models';
import { NonPrivateGradients, PrivateGradients } from '@clipwise/optim';

const { values } = parseArgs({
  options: { uploads: { type: 'string' }, fused: { type: 'string' }, 'submit-batch': { type: 'string' }, backend: { type: 'string' }, model: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, reps: { type: 'string' }, groupings: { type: 'string' }, top: { type: 'string' } },
  allowPositionals: true,
});
const choice = await setupBackend((values.backend ?? 'auto') as BackendName);
setFusedKernels(values.fused !== 'off');
// `--uploads staging`: the backend's own upload of CPU values (a staging buffer each), for before/after
if (values.uploads === 'staging') useQueueWriteUploads(false);
if (values['submit-batch']) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(values['submit-batch']));
const preset = values.model ?? 'gpt2-tiny';
const B = Number(values.batch ?? 8);
const T = Number(values.seq ?? 64);
const reps = Number(values.reps ?? 3);
const top = Number(values.top ?? 25);
// a GPT-2 preset on random token ids, or a ViT preset on random images (T is then the image's token count)
const model: { params: Gpt2Model['params']; perSampleLoss(): tf.Tensor } = (() => {
  const vit = VIT_PRESETS[preset];
  if (vit) {
    const m = new VitModel(vit, { seed: 1 });
    const pixels = tf.randomNormal([B, vit.num_channels, vit.image_size, vit.image_size], 0, 1, 'float32', 7) as tf.Tensor4D;
    const labels = tf.randomUniform([B], 0, vit.num_labels, 'int32', 7) as tf.Tensor1D;
    return { params: m.params, perSampleLoss: () => m.perSampleLoss(pixels, labels) };
  }
  const m = new Gpt2Model({ ...GPT2_PRESETS[preset]!, n_positions: Math.max(T, 64) }, { seed: 1 });
  const ids = tf.randomUniform([B, T], 0, m.config.vocab_size, 'int32', 7) as tf.Tensor2D;
  return { params: m.params, perSampleLoss: () => m.perSampleLoss(ids) };
})();
console.log(`${preset}, B=${B}, T=${T}, backend ${choice.backend} (${choice.reason}), fused kernels ${values.fused !== 'off' ? 'on' : 'off'}, uploads ${values.uploads ?? 'queue'}`);

type Source = { accumulate(f: () => tf.Tensor): Promise<unknown>; release(): Promise<{ grads: Map<string, tf.Tensor> }> };
const sync = async (grads: Map<string, tf.Tensor>) => {
  // one element of the last gradient: waits for all queued GPU work without a big read
  const last = [...grads.values()].at(-1)!;
  const one = tf.slice(tf.reshape(last, [-1]), [0], [1]);
  await one.data();
  one.dispose();
};
const step = async (src: Source) => {
  await src.accumulate(() => model.perSampleLoss());
  const { grads } = await src.release();
  await sync(grads);
  tf.dispose([...grads.values()]);
};
const configs: Array<[string, () => Source]> = [
  ['non-private', () => new NonPrivateGradients(model.params)],
  ...(values.groupings ?? 'all-layer,layer-wise').split(',').filter(Boolean).map(
    (g) => [`private ${g}`, () => new PrivateGradients({ params: model.params, grouping: resolveGrouping(g, model.params, { clipNorm: 1 }), noiseMultiplier: 1, expectedBatchSize: B, seed: 1 })] as [string, () => Source],
  ),
];
const wall: Array<[string, number]> = [];
for (const [name, make] of configs) {
  const src = make();
  await step(src);
  await step(src);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await step(src);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  wall.push([name, times[Math.floor(times.length / 2)]!]);
  console.log(`${name}: median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms over ${reps} (${times.map((t) => t.toFixed(0)).join(', ')})`);
}
console.log('| configuration | step ms | / non-private |\n| --- | ---: | ---: |');
for (const [n, ms] of wall) console.log(`| ${n} | ${ms.toFixed(1)} | ${(ms / wall[0]![1]).toFixed(2)} |`);

for (const [name, make] of top > 0 ? configs.slice(0, 2) : []) {
  const src = make();
  await step(src);
  const info = await tf.profile(() => step(src) as unknown as tf.TensorContainer);
  const agg = new Map<string, { n: number; ms: number }>();
  let timed = 0;
  for (const k of info.kernels) {
    const ms = await (k.kernelTimeMs as unknown as Promise<number | { error: string }>);
    const v = typeof ms === 'number' ? ms : 0;
    if (typeof ms === 'number') timed++;
    const key = k.name === 'BatchMatMul' || k.name === '_FusedMatMul' ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
    const a = agg.get(key) ?? { n: 0, ms: 0 };
    a.n++;
    a.ms += v;
    agg.set(key, a);
  }
  const total = [...agg.values()].reduce((s, a) => s + a.ms, 0);
  console.log(`\n${name}: ${info.kernels.length} kernel launches, ${timed} timed, kernel time ${total.toFixed(1)} ms; top ${top}:`);
  console.log('| kernel | launches | ms | share |\n| --- | ---: | ---: | ---: |');
  for (const [k, a] of [...agg].sort((x, y) => y[1].ms - x[1].ms || y[1].n - x[1].n).slice(0, top)) {
    console.log(`| ${k} | ${a.n} | ${a.ms.toFixed(2)} | ${total ? ((100 * a.ms) / total).toFixed(1) : '-'}% |`);
  }
}
