// Main-thread CPU per training step of several configurations, interleaved in one process: what
// enqueueing a step costs the host, compared like with like. enqueue-profile.ts measures one
// configuration per process, and on this 2-core machine those processes differ by up to 40% among
// themselves (all-layer 31–43 ms a step over seven), more than the configurations differ; here every
// configuration shares the process, its JIT and its heap, and each round runs them in a rotated order.
// Made for Dawn's null backend (nothing executes, so the step is all enqueue; see enqueue-profile.ts):
//   XDG_RUNTIME_DIR=/tmp CLIPWISE_DAWN_FLAGS=backend=null node node_modules/vite-node/vite-node.mjs \
//     --config apps/finetune/vitest.config.ts apps/finetune/bench/enqueue-ab.ts -- \
//     --configs non-private,all-layer,layer-wise,param-wise --ghost-split 16x2
// Prints one row per configuration: the median, lowest and highest main-thread CPU ms a step over the
// rounds, the wall ms, and engine entries and dispatches a step. `--ab SWITCH` (one of `clipwise bench
// --ab`'s) runs every configuration twice, with the switch off and on (rows marked +SWITCH).
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { setupBackend } from '@clipwise/core';
import { median } from '@clipwise/memory';
import { resolveGrouping } from '@clipwise/grouping';
import { NonPrivateGradients, Optimizer, PrivateGradients, adamw, releaseAndStep } from '@clipwise/optim';
import { AB_SWITCHES, pairedRounds, type AbSwitch } from '../src/profile/run-bench';
import { hostCounters, mainThreadCpuMs } from './host-counters';
import { HOST_MODEL_OPTIONS, hostModel } from './host-model';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: 'non-private,all-layer,layer-wise,param-wise' },
    rounds: { type: 'string', default: '7' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '30' },
    ...HOST_MODEL_OPTIONS,
    ab: { type: 'string' },
  },
  allowPositionals: true,
});
await setupBackend('webgpu');
const { model, batch: B, seq: T } = hostModel(values);
const [rounds, steps, warmup] = [Number(values.rounds), Number(values.steps), Number(values.warmup)];
if (!(rounds >= 1 && steps >= 1 && warmup >= 0)) throw new Error('enqueue-ab: --rounds and --steps must be at least 1, --warmup at least 0');
const ids = tf.randomUniform([B, T], 0, model.config.vocab_size, 'int32', 7) as tf.Tensor2D;
const probe = model.params[0]!.variable;

const ab = values.ab as AbSwitch | undefined;
if (ab !== undefined && !(ab in AB_SWITCHES)) throw new Error(`enqueue-ab: --ab must be one of ${Object.keys(AB_SWITCHES).join(', ')}, got '${ab}'`);
const sides: (boolean | null)[] = ab ? [false, true] : [null];
const configs = values.configs!.split(',').filter(Boolean).flatMap((name) => sides.map((on) => ({
  name: on ? `${name}+${ab}` : name,
  on,
  source: name === 'non-private'
    ? new NonPrivateGradients(model.params)
    : new PrivateGradients({ params: model.params, grouping: resolveGrouping(name, model.params, { clipNorm: 1 }), noiseMultiplier: 1, expectedBatchSize: B, seed: 1 }),
  // each its own optimizer state; the tiny lr leaves the shared weights as they are
  opt: new Optimizer(adamw({ learningRate: 1e-9 }), model.params),
  cpuMs: [] as number[],
  wallMs: [] as number[],
  entries: 0,
  dispatches: 0,
})));

const counters = hostCounters();

const step = async (c: (typeof configs)[number]) => {
  if (ab) AB_SWITCHES[ab](c.on);
  await c.source.accumulate(() => model.perSampleLoss(ids));
  await releaseAndStep(c.source, c.opt);
  // one small read: every step starts with an idle queue
  const one = tf.tidy(() => tf.slice(tf.reshape(probe, [-1]), [0], [1]));
  await one.data();
  one.dispose();
};

for (const c of configs) for (let i = 0; i < warmup; i++) await step(c);
const tensors = tf.memory().numTensors;
for (let r = 0; r < rounds; r++) {
  // rotated order: no configuration always runs first or last in a round
  for (let k = 0; k < configs.length; k++) {
    const c = configs[(k + r) % configs.length]!;
    counters.take();
    const cpu0 = mainThreadCpuMs();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step(c);
    c.wallMs.push((performance.now() - t0) / steps);
    c.cpuMs.push((mainThreadCpuMs() - cpu0) / steps);
    const { entries, dispatches } = counters.take();
    [c.entries, c.dispatches] = [entries / steps, dispatches / steps];
  }
}
if (tf.memory().numTensors !== tensors) throw new Error(`enqueue-ab: the rounds leaked ${tf.memory().numTensors - tensors} tensors`);

if (ab) AB_SWITCHES[ab](null);
console.log(`GPT-2 ${values.layers} layers, d ${values.embd}, ${values.heads} heads, B ${B}, T ${T}; ${rounds} rounds of ${steps} steps a configuration, after ${warmup} warm-up steps each`);
console.log('| configuration | main-thread CPU ms a step (median) | lowest | highest | wall ms (median) | engine entries | dispatches |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of configs) {
  console.log(`| ${c.name} | ${median(c.cpuMs).toFixed(1)} | ${Math.min(...c.cpuMs).toFixed(1)} | ${Math.max(...c.cpuMs).toFixed(1)} | ${median(c.wallMs).toFixed(1)} | ${c.entries} | ${c.dispatches} |`);
}
if (ab) {
  // round by round: both sides of a round share the machine's load of that moment
  console.log(`\n| configuration | ${ab} on − off, main-thread CPU ms a step (median of rounds) | rounds on was lower | spread (ms) |`);
  console.log('| --- | ---: | ---: | ---: |');
  for (let k = 0; k < configs.length; k += 2) {
    const [off, on] = [configs[k]!, configs[k + 1]!];
    const p = pairedRounds(off.cpuMs, on.cpuMs);
    console.log(`| ${off.name} | ${p.medianDiff >= 0 ? '+' : ''}${p.medianDiff.toFixed(2)} | ${p.onLower} of ${p.rounds} | ${p.spread.toFixed(2)} |`);
  }
}
tf.dispose(ids);
model.dispose();
process.exit(0);
