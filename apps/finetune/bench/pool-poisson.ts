// The webgpu buffer pool over a run whose batch size changes every step, as Poisson sampling makes it:
// private steps (all-layer, AdamW) at batch sizes drawn around --batch, `trimGpuBufferPool()` after
// each as `clipwise train` calls it, with TF.js's exact-size pool and with core's size-class pool,
// one after the other in one process. Prints the pool's allocated MiB after steps 1, 5, 10, ... and
// the largest in-use and allocated bytes seen.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/pool-poisson.ts -- --model gpt2-mini --batch 16 --steps 30
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setupBackend, trimGpuBufferPool, useSizeClassPool } from '@clipwise/core';
import { PhaseProbe } from '@clipwise/memory';
import { Optimizer, adamw } from '@clipwise/optim';
import { buildBenchModel } from '../src/profile/bench-model';
import { makeBenchStep } from '../src/profile/step-runner';
import { poissonLikeSizes, seededRandom } from './poisson-sizes';

const { values } = parseArgs({ options: { model: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' }, 'seq-len': { type: 'string' } }, allowPositionals: true });
await setupBackend('webgpu');
const expected = Number(values.batch ?? 16);
const steps = Number(values.steps ?? 30);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

/** Batch sizes of a Poisson-sampled run (seeded: the same for both pools). */
const batchSizes = () => poissonLikeSizes(expected, steps, seededRandom(12345));

async function run(pool: 'exact' | 'size-class'): Promise<string> {
  useSizeClassPool(pool === 'size-class');
  trimGpuBufferPool(0);
  const model = buildBenchModel(values.model ?? 'gpt2-mini', {}, values['seq-len'] === undefined ? undefined : Number(values['seq-len']));
  const optimizer = new Optimizer(adamw({ learningRate: 1e-6 }), model.params);
  const memory = () => tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
  const marks: string[] = [];
  let peakAllocated = 0;
  for (const [i, b] of batchSizes().entries()) {
    const step = makeBenchStep(model, { configuration: 'all-layer', batchSize: b, noiseMultiplier: 1 }, optimizer);
    const out = await step.run(new PhaseProbe());
    if (out) {
      await out.data();
      out.dispose();
    }
    peakAllocated = Math.max(peakAllocated, memory().numBytesAllocatedInGPU);
    trimGpuBufferPool();
    if (i === 0 || (i + 1) % 5 === 0) marks.push(`${i + 1}: ${mib(memory().numBytesAllocatedInGPU)}`);
  }
  optimizer.dispose();
  model.dispose();
  return `| ${pool} | ${marks.join(' · ')} | ${mib(peakAllocated)} |`;
}

console.log(`${values.model ?? 'gpt2-mini'}, all-layer AdamW, ${steps} steps, batch sizes ${batchSizes().join(',')}`);
console.log('| pool | allocated MiB after step (1, 5, 10, …; after the trim) | largest allocated MiB (before a trim) |\n| --- | --- | ---: |');
console.log(await run('exact'));
console.log(await run('size-class'));
