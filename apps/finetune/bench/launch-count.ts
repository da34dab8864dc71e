// Kernel launches of one training step, counted structurally (the same on every backend): a GPT-2 with
// the real layer structure but tiny widths, one warm-up step, then a tf.profile of one step of the
// non-private baseline and of the private step per grouping. On webgpu each real launch costs ~50 µs
// of CPU (bind group, uniforms, dispatch) and each data() read one submit + mapAsync, so these counts
// are what the private step's CPU overhead is made of.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/launch-count.ts -- --backend cpu
// `--detail non-private,all-layer` also lists those configurations' real launches by kernel name;
// `--ghost matmul` counts with the fused ghost-norm kernel off (the two Gram matmuls and a row reduction);
// `--compact off` with waiting layer-norm records held whole (no compaction).
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setFusedGhostNorm, setupBackend, type BackendName } from '@clipwise/core';
import { setRecordCompaction } from '@clipwise/ghost-norm';
import { resolveGrouping } from '@clipwise/grouping';
import { summariseKernels } from '@clipwise/memory';
import { Gpt2Model } from '@clipwise/models';
import { NonPrivateGradients, PrivateGradients } from '@clipwise/optim';

const { values } = parseArgs({
  options: { backend: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, groupings: { type: 'string' }, detail: { type: 'string' }, ghost: { type: 'string' }, compact: { type: 'string' } },
  allowPositionals: true,
});
const choice = await setupBackend((values.backend ?? 'cpu') as BackendName);
if (values.ghost !== undefined && values.ghost !== 'fused' && values.ghost !== 'matmul') throw new Error(`--ghost must be fused or matmul, got '${values.ghost}'`);
setFusedGhostNorm(values.ghost !== 'matmul');
if (values.compact !== undefined && values.compact !== 'on' && values.compact !== 'off') throw new Error(`--compact must be on or off, got '${values.compact}'`);
setRecordCompaction(values.compact !== 'off');
const B = Number(values.batch ?? 4);
// T = 8 keeps every layer on the ghost path (2T² ≤ d·p), as GPT-2 small at T = 128 is
const T = Number(values.seq ?? 8);
const groupings = (values.groupings ?? 'all-layer,layer-wise,param-wise').split(',').filter(Boolean);

// Kernels that launch nothing (reshapes, identities, scopes) are left out by memory's summariseKernels.
// A Cast to the dtype the input already has is an identity on every backend: tell it by the engine call.
let sameDtypeCasts = 0;
const engine = tf.engine() as unknown as { runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): unknown };
const runKernel = engine.runKernel.bind(engine);
engine.runKernel = (name, inputs, attrs) => {
  if (name === 'Cast' && (inputs['x'] as tf.Tensor | undefined)?.dtype === attrs['dtype']) sameDtypeCasts++;
  return runKernel(name, inputs, attrs);
};
// data() reads: one submit + mapAsync each on webgpu.
let reads = 0;
const data = tf.Tensor.prototype.data;
tf.Tensor.prototype.data = function (this: tf.Tensor) {
  reads++;
  return data.call(this) as never;
} as typeof data;

type Source = { accumulate(f: () => tf.Tensor): Promise<unknown>; release(): Promise<{ grads: Map<string, tf.Tensor> }> };
interface Count {
  entries: number;
  launches: number;
  reads: number;
  byName: Map<string, number>;
}

async function countStep(layers: number, config: string): Promise<Count> {
  const model = new Gpt2Model({ vocab_size: 50, n_positions: Math.max(16, T), n_embd: 16, n_layer: layers, n_head: 2 }, { seed: 1 });
  const ids = tf.randomUniform([B, T], 0, 50, 'int32', 7) as tf.Tensor2D;
  // σ = 0: on webgpu the noise is one fused kernel per parameter, like the division it replaces
  // (on cpu it is three ops, which would inflate the private counts)
  const src: Source =
    config === 'non-private'
      ? new NonPrivateGradients(model.params)
      : new PrivateGradients({ params: model.params, grouping: resolveGrouping(config, model.params, { clipNorm: 1 }), noiseMultiplier: 0, expectedBatchSize: B, seed: 1 });
  const step = async () => {
    await src.accumulate(() => model.perSampleLoss(ids));
    const { grads } = await src.release();
    tf.dispose([...grads.values()]);
  };
  await step();
  const before = tf.memory().numTensors;
  sameDtypeCasts = 0;
  reads = 0;
  const info = await tf.profile(() => step() as unknown as tf.TensorContainer);
  const stepReads = reads;
  if (tf.memory().numTensors !== before) throw new Error(`${config}: a step leaked ${tf.memory().numTensors - before} tensors`);
  // by kernel name (the summary splits matmuls by shape)
  const byName = new Map<string, number>();
  for (const r of (await summariseKernels(info.kernels)).rows) {
    const name = r.kernel.split(' ')[0]!;
    byName.set(name, (byName.get(name) ?? 0) + r.launches);
  }
  if (sameDtypeCasts > 0) byName.set('Cast', (byName.get('Cast') ?? 0) - sameDtypeCasts);
  ids.dispose();
  model.dispose();
  const launches = [...byName.values()].reduce((s, n) => s + n, 0);
  return { entries: info.kernels.length, launches, reads: stepReads, byName };
}

console.log(`GPT-2 (vocab 50, d 16, 2 heads), B=${B}, T=${T}, backend ${choice.backend}`);
console.log('| configuration | profile entries | real launches | per layer | data() reads |\n| --- | ---: | ---: | ---: | ---: |');
const details = new Map<string, Count>();
for (const config of ['non-private', ...groupings]) {
  const two = await countStep(2, config);
  const one = await countStep(1, config);
  details.set(config, two);
  console.log(`| ${config} (2 layers) | ${two.entries} | ${two.launches} | ${two.launches - one.launches} | ${two.reads} |`);
}
if (values.detail) {
  // side by side, so the private step's extra launches show by kernel
  const cols = values.detail.split(',');
  const counts = cols.map((name) => {
    const c = details.get(name);
    if (!c) throw new Error(`--detail ${name}: not one of ${[...details.keys()].join(', ')}`);
    return c.byName;
  });
  const names = [...new Set(counts.flatMap((c) => [...c.keys()]))].sort((a, b) => (counts.at(-1)!.get(b) ?? 0) - (counts.at(-1)!.get(a) ?? 0));
  console.log(`\nreal launches by kernel (2 layers)\n| kernel | ${cols.join(' | ')} |\n| --- |${cols.map(() => ' ---: |').join('')}`);
  for (const k of names) console.log(`| ${k} | ${counts.map((c) => c.get(k) ?? 0).join(' | ')} |`);
}
