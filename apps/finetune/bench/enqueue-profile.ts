// Main-thread CPU time of a training step on webgpu: what enqueueing its kernels costs. A GPT-2 with
// GPT-2 small's structure (12 layers, 12 heads) at tiny widths runs `--warmup` steps, then `--steps`
// steps under the V8 sampling profiler (node:inspector, the main thread only); the GPU (lavapipe here,
// whose shader threads the profile does not see) is waited on once per step by one small read. Prints
// the sampled non-idle ms per step, the engine entries and real dispatches per step, and µs per
// dispatch; writes the .cpuprofile for `tooling/scripts/cpuprofile-top.mjs`. Without --out: the main
// thread's CPU time per step (/proc) and the GC pauses, unprofiled.
//   XDG_RUNTIME_DIR=/tmp nice -n 10 node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts \
//     apps/finetune/bench/enqueue-profile.ts -- --config all-layer --out /tmp/prof/all-layer.cpuprofile
// With CLIPWISE_DAWN_FLAGS=backend=null, Dawn's null backend executes nothing (values are garbage, the
// launches and their CPU cost are real): no software GPU competes for the cores and the step is all
// enqueue, which makes before/after comparisons far steadier than on lavapipe (warm the JIT:
// --warmup 30 --steps 40; a private step there needs --ghost-split 16x2).
import * as tf from '@tensorflow/tfjs-core';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import { setupBackend } from '@clipwise/core';
import { hostCounters, mainThreadCpuMs } from './host-counters';
import { HOST_MODEL_OPTIONS, hostModel } from './host-model';
import { resolveGrouping } from '@clipwise/grouping';
import { NonPrivateGradients, Optimizer, PrivateGradients, adamw, releaseAndStep } from '@clipwise/optim';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'all-layer' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    ...HOST_MODEL_OPTIONS,
    out: { type: 'string' },
    'heap-out': { type: 'string' },
    'submit-batch': { type: 'string' },
    'batch-spread': { type: 'string', default: '0' },
  },
  allowPositionals: true,
});
const choice = await setupBackend('webgpu');
if (values['submit-batch']) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(values['submit-batch']));
// --ghost-split 16x2 on Dawn's null backend (host-model.ts)
const { model, batch: B, seq: T } = hostModel(values);
// --batch-spread S: each step's batch is drawn from B-S..B+S (as Poisson sampling varies it), so shapes
// and the buffers they get change from step to step
const spread = Number(values['batch-spread']);
const batches = new Map<number, tf.Tensor2D>();
let rng = 12345;
const nextIds = (): tf.Tensor2D => {
  rng = (rng * 1103515245 + 12345) % 2147483648;
  const b = B + (spread > 0 ? (rng % (2 * spread + 1)) - spread : 0);
  let t = batches.get(b);
  if (!t) batches.set(b, (t = tf.randomUniform([b, T], 0, model.config.vocab_size, 'int32', 7) as tf.Tensor2D));
  return t;
};
for (let b = B - spread; b <= B + spread; b++) batches.set(b, tf.randomUniform([b, T], 0, model.config.vocab_size, 'int32', 7) as tf.Tensor2D);
const config = values.config!;
const source =
  config === 'non-private'
    ? new NonPrivateGradients(model.params)
    : new PrivateGradients({ params: model.params, grouping: resolveGrouping(config, model.params, { clipNorm: 1 }), noiseMultiplier: 1, expectedBatchSize: B, seed: 1 });
const opt = new Optimizer(adamw({ learningRate: 1e-9 }), model.params);
const probe = model.params[0]!.variable;

const counters = hostCounters();

const step = async () => {
  const ids = nextIds();
  await source.accumulate(() => model.perSampleLoss(ids));
  await releaseAndStep(source, opt); // as training steps
  // one small read: waits for the GPU, so every step starts with an idle queue
  const one = tf.tidy(() => tf.slice(tf.reshape(probe, [-1]), [0], [1]));
  await one.data();
  one.dispose();
};
for (let i = 0; i < Number(values.warmup); i++) await step();
const tensors = tf.memory().numTensors;
// useLeanDispatch's bind group cache, where installed: its hits over the measured steps
const groups = (tf.backend() as unknown as { clipwiseBindGroups?: { hits: number; misses: number } }).clipwiseBindGroups;
const hits0 = groups ? [groups.hits, groups.misses] : null;
counters.take();
const steps = Number(values.steps);
const session = values.out ? new Session() : null;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
let gcMs = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
});
gcObserver.observe({ entryTypes: ['gc'] });
const heapSession = values['heap-out'] ? new Session() : null;
if (heapSession) {
  heapSession.connect();
  await heapSession.post('HeapProfiler.enable');
  await heapSession.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const cpu0 = mainThreadCpuMs();
const t0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const wallMs = (performance.now() - t0) / steps;
const cpuMs = (mainThreadCpuMs() - cpu0) / steps;
const { entries, dispatches } = counters.take();
if (heapSession) {
  const { profile: heap } = await heapSession.post('HeapProfiler.stopSampling');
  await writeFile(values['heap-out']!, JSON.stringify(heap));
  heapSession.disconnect();
}
await new Promise((r) => setTimeout(r, 10));
gcObserver.disconnect();
gcMs /= steps;
if (tf.memory().numTensors !== tensors) throw new Error(`${config}: steps leaked ${tf.memory().numTensors - tensors} tensors`);
const cached = groups && hits0 ? `, bind groups reused ${groups.hits - hits0[0]!} / made ${groups.misses - hits0[1]!}` : '';
const perStep = `${entries / steps} engine entries, ${dispatches / steps} dispatches${cached}`;
const shape = `GPT-2 ${values.layers} layers, d ${values.embd}, ${values.heads} heads, B ${B}, T ${T}`;
if (session) {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  await writeFile(values.out!, JSON.stringify(profile));
  // Sampled ms per step by kind: waiting (idle, and Dawn's event polling, which runs from setImmediate
  // while a read is pending; '(program)', native time outside any JS frame, lies between polls and GC
  // pauses in these profiles), the garbage collector, and the rest: enqueueing (JS and the native calls it makes).
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const kindOf = new Map<number, string>();
  const kind = (id: number): string => {
    let k = kindOf.get(id);
    if (k) return k;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)' || f.functionName === 'processImmediate' || f.functionName === '(program)') k = 'wait';
    else if (f.functionName === '(garbage collector)') k = 'gc';
    else if (f.url === 'node:inspector') k = 'profiler';
    else k = parent.has(id) ? kind(parent.get(id)!) : 'enqueue';
    kindOf.set(id, k);
    return k;
  };
  const ms = new Map<string, number>();
  profile.samples!.forEach((id, i) => ms.set(kind(id), (ms.get(kind(id)) ?? 0) + (profile.timeDeltas![i] ?? 0) / 1000 / steps));
  const enqueueMs = ms.get('enqueue') ?? 0;
  console.log(
    `${config} profiled: ${shape}; per step: wall ${wallMs.toFixed(1)} ms, enqueue ${enqueueMs.toFixed(1)} ms, gc ${(ms.get('gc') ?? 0).toFixed(1)} ms, ` +
      `wait ${(ms.get('wait') ?? 0).toFixed(1)} ms; ${perStep}; ${((1000 * enqueueMs) / (dispatches / steps)).toFixed(1)} µs enqueue per dispatch`,
  );
} else {
  console.log(
    `${config}: ${shape}; per step: wall ${wallMs.toFixed(1)} ms, main-thread CPU ${cpuMs.toFixed(1)} ms, gc ${gcMs.toFixed(1)} ms; ${perStep}; ` +
      `${((1000 * cpuMs) / (dispatches / steps)).toFixed(1)} µs main-thread CPU per dispatch`,
  );
}
tf.dispose([...batches.values()]);
model.dispose();
process.exit(0);
