// The analytic model's step peak per configuration at one batch size, without running the step there:
// the tape traced at batch 1 and 2 on the chosen backend (the fused kernels' own saves on webgpu)
// and scaled (memory's traceTape + scaleTrace + simulateStep, as `clipwise bench` predicts). Engine
// bytes above the weights and optimizer state, counted per handle as TF.js counts them.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/predict-peak.ts -- --backend webgpu --model vit-base-16 --batch 32
import { parseArgs } from 'node:util';
import { setupBackend, type BackendName } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { buildBenchModel, defaultNonUniform } from '../src/profile/bench-model';
import { predictStep, traceModel } from '../src/profile/predict';
import { mib } from '../src/profile/mib';

const { values } = parseArgs({
  options: { backend: { type: 'string' }, model: { type: 'string' }, 'seq-len': { type: 'string' }, batch: { type: 'string' }, groupings: { type: 'string' }, 'model-config': { type: 'string' } },
  allowPositionals: true,
});
const backend = (await setupBackend((values.backend ?? 'cpu') as BackendName)).backend;
const model = buildBenchModel(values.model ?? 'gpt2-tiny', JSON.parse(values['model-config'] ?? '{}') as Record<string, unknown>, values['seq-len'] === undefined ? undefined : Number(values['seq-len']));
const batch = Number(values.batch ?? 16);
const trace = await traceModel(model, batch);
console.log(`${model.label}, B=${batch}, backend ${backend}: predicted peak above weights and optimizer state`);
console.log('| configuration | predicted peak MiB | where |\n| --- | ---: | --- |');
for (const config of ['non-private', ...(values.groupings ?? 'all-layer,layer-wise').split(',')]) {
  const spec = config === 'non-uniform' ? defaultNonUniform(model.params) : config;
  const grouping = config === 'non-private' ? null : resolveGrouping(spec, model.params, { clipNorm: 1 });
  const p = predictStep(trace, grouping, { backend, noiseMultiplier: 1, optimizer: 'adamw' });
  console.log(`| ${config} | ${mib(p.peakBytes)} | ${p.peakPoint.phase}: ${p.peakPoint.label} |`);
}
model.dispose();
