// What trimming webgpu's buffer pool at every micro-batch shape change costs a private training step:
// GPT-2 private steps (AdamW) at Poisson-like batch sizes and changing lengths, in micro-batches as
// `clipwise train` runs them (`perSampleLossFn`'s trimmer, `shapeChangeTrimmer`), with the full trim
// (the default) and with the bounded one (`setBoundedShapeTrim`: up to the run's peak in-use bytes stay
// free), alternated round by round in one process over the same batch sizes and lengths. Prints each
// mode's median step ms (each step ends with a one-element read, as training's does), the main thread's
// CPU ms a step (host work, the driver's buffer allocations included), the buffers it created a step and
// the pool's peak in use and allocated. `--modes full,bounded,fixed` adds the reference without shape
// changes: every step exactly --batch rows at --seq, the bench's shape (more rows and tokens than the
// varied steps' average, so what varied steps take beyond it is what their shape changes cost);
// `fitup:N` the varied steps with core's pool fitting up (`setPoolFitUp(N)`; `fitup`: 256) and its trim.
// `--gpu-passes on` (webgpu with timestamp queries) adds the device's busy ms a step inside compute
// passes and its idle ms between them (memory's `timeGpuPasses`): a step whose shape changes cost host
// work shows idle gaps, one whose cost is the device's own work (or Dawn's clears between passes) not.
// (Dawn's null backend offers the feature but writes no real stamps: its columns mean nothing.) On Dawn's null backend (no device work: host time only; its 16 KiB of
// workgroup memory needs small shapes and --ghost-split 16x2):
//   XDG_RUNTIME_DIR=/tmp CLIPWISE_DAWN_FLAGS=backend=null node node_modules/vite-node/vite-node.mjs \
//     --config apps/finetune/vitest.config.ts apps/finetune/bench/shape-trim.ts -- --ghost-split 16x2
// The study's s53m on a GPU (its physical batch 128, lengths up to --seq 176):
//   ... shape-trim.ts -- --embd 768 --layers 7 --heads 12 --vocab 4096 --batch 256 --physical 128 --min-len 64 --seq 176
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { gpuPoolStats, resetGpuPoolPeaks, setPoolFitUp, setupBackend, trimGpuBufferPool } from '@clipwise/core';
import { resolveGrouping } from '@clipwise/grouping';
import { median, timeGpuPasses } from '@clipwise/memory';
import { Optimizer, PrivateGradients, adamw, releaseAndStep } from '@clipwise/optim';
import { pairedRounds } from '../src/profile/run-bench';
import { LENGTH_STEP, setBoundedShapeTrim, shapeChangeTrimmer } from '../src/train/per-sample-loss';
import { deviceCreations, mainThreadCpuMs } from './host-counters';
import { HOST_MODEL_OPTIONS, hostModel } from './host-model';
import { poissonLikeSize, seededRandom } from './poisson-sizes';

const { values } = parseArgs({
  options: {
    // the host model's flags (--seq: the longest length), with a study-sized depth and batch by default
    ...HOST_MODEL_OPTIONS,
    layers: { type: 'string', default: '7' },
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '48' },
    physical: { type: 'string', default: '4' },
    'min-len': { type: 'string', default: '16' },
    grouping: { type: 'string', default: 'all-layer' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'full,bounded' },
    'gpu-passes': { type: 'string', default: 'off' },
  },
  allowPositionals: true,
});
const backend = await setupBackend('webgpu');
const { model, batch: expected, seq: maxLen } = hostModel(values);
const [physical, minLen, steps, warmup, rounds] = [values.physical, values['min-len'], values.steps, values.warmup, values.rounds].map(Number) as [number, number, number, number, number];
if (!(expected >= 1 && physical >= 1 && minLen >= 2 && maxLen >= minLen && steps >= 1 && warmup >= 0 && rounds >= 1)) {
  throw new Error('shape-trim: --batch, --physical, --steps and --rounds must be at least 1, --min-len at least 2 and at most --seq, --warmup at least 0');
}
const vocab = model.config.vocab_size;

/**
 * Seeded batch sizes and lengths (multiples of LENGTH_STEP from --min-len to --seq), the same for the
 * varied modes of a round; `fixed`: --batch rows at --seq every step.
 */
function plan(round: number, fixed: boolean): { batch: number; len: number }[] {
  if (fixed) return Array.from({ length: warmup + steps }, () => ({ batch: expected, len: maxLen }));
  const rand = seededRandom(1000 + round);
  const lengths = Math.floor((maxLen - minLen) / LENGTH_STEP) + 1;
  return Array.from({ length: warmup + steps }, () => ({ batch: poissonLikeSize(expected, rand), len: Math.min(maxLen, minLen + LENGTH_STEP * Math.floor(rand() * lengths)) }));
}

const nullBackend = (process.env.CLIPWISE_DAWN_FLAGS ?? '').includes('backend=null');
let discarded = 0;
const pg = new PrivateGradients({ params: model.params, grouping: resolveGrouping(values.grouping!, model.params, { clipNorm: 1 }), noiseMultiplier: 1, expectedBatchSize: expected, seed: 1 });
// a tiny lr: the weights (and so the work) stay as they are
const opt = new Optimizer(adamw({ learningRate: 1e-9 }), model.params);
interface Mode {
  name: string;
  bounded: boolean;
  fixed: boolean;
  fitUp: number | null;
}
/** One of --modes: full, bounded, fixed, fitup or fitup:N (N ≥ 1). */
function parseMode(m: string): Mode | null {
  if (m === 'full') return { name: 'full trim (default)', bounded: false, fixed: false, fitUp: null };
  if (m === 'bounded') return { name: 'bounded trim', bounded: true, fixed: false, fitUp: null };
  if (m === 'fixed') return { name: `fixed shape (${expected} × ${maxLen}, full trim)`, bounded: false, fixed: true, fitUp: null };
  const fit = /^fitup(?::(\d+(?:\.\d+)?))?$/.exec(m);
  const ratio = fit ? Number(fit[1] ?? 256) : NaN;
  return ratio >= 1 ? { name: `fit up ×${ratio} and its trim`, bounded: false, fixed: false, fitUp: ratio } : null;
}
const modeNames = values.modes!.split(',');
const parsed = modeNames.map(parseMode);
if (parsed.some((m) => m === null) || new Set(modeNames).size !== modeNames.length) {
  throw new Error(`shape-trim: --modes takes distinct modes from full, bounded, fixed, fitup and fitup:N (N at least 1), got '${values.modes}'`);
}
const modes = (parsed as Mode[]).map((m) => ({ ...m, rounds: [] as StepCost[], peakInUse: 0, peakAllocated: 0 }));

// what each step makes the device create: buffers (pool misses), bind groups and pipelines
const creations = deviceCreations((tf.backend() as unknown as { device: GPUDevice }).device);

const gpuPasses = values['gpu-passes'] === 'on';
if (!['on', 'off'].includes(values['gpu-passes']!)) throw new Error(`shape-trim: --gpu-passes takes on or off, got '${values['gpu-passes']}'`);

interface StepCost {
  ms: number;
  /** Device ms inside and between the step's compute passes (NaN without --gpu-passes on). */
  busyMs: number;
  idleMs: number;
  cpuMs: number;
  pipelines: number;
  bindGroups: number;
  created: number;
  createdMiB: number;
}

async function runSteps(bounded: boolean, fixed: boolean, fitUpRatio: number | null, round: number): Promise<StepCost[]> {
  setBoundedShapeTrim(bounded);
  setPoolFitUp(fitUpRatio);
  const trim = shapeChangeTrimmer();
  const costs: StepCost[] = [];
  for (const [i, { batch, len }] of plan(round, fixed).entries()) {
    const step = async (): Promise<Omit<StepCost, 'busyMs' | 'idleMs'>> => {
      const t0 = performance.now();
      const cpu0 = mainThreadCpuMs();
      creations.take(); // from this step's start
      for (let start = 0; start < batch; start += physical) {
        const rows = Math.min(physical, batch - start);
        trim(rows, len);
        await pg.accumulate(() => tf.tidy(() => model.perSampleLoss(tf.randomUniform([rows, len], 0, vocab, 'int32', i) as tf.Tensor2D)));
      }
      try {
        await releaseAndStep(pg, opt);
      } catch (e) {
        // Dawn's null backend runs nothing, so its reads are whatever its buffers held: a loss may read as
        // NaN and the release discards the batch after enqueueing all of it (counted and printed)
        if (!(nullBackend && /loss is/.test(String(e)))) throw e;
        discarded++;
      }
      const one = tf.tidy(() => tf.slice(tf.reshape(model.params[0]!.variable, [-1]), [0], [1]));
      await one.data();
      one.dispose();
      // counted before the pass timer reads its stamps (its own buffers)
      const made = creations.take();
      return { ms: performance.now() - t0, cpuMs: mainThreadCpuMs() - cpu0, pipelines: made.pipelines, bindGroups: made.bindGroups, created: made.buffers, createdMiB: made.bytes / 2 ** 20 };
    };
    const { result, passes } = gpuPasses ? await timeGpuPasses(step) : { result: await step(), passes: null };
    if (i >= warmup) costs.push({ ...result, busyMs: passes?.busyMs ?? NaN, idleMs: passes?.idleMs ?? NaN });
  }
  return costs;
}

for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < modes.length; k++) {
    const m = modes[(k + r) % modes.length]!;
    setPoolFitUp(null); // (a pool that fits up would spare its small buffers)
    trimGpuBufferPool(0); // each mode's round from an empty pool
    resetGpuPoolPeaks();
    const costs = await runSteps(m.bounded, m.fixed, m.fitUp, r);
    // a round's summary, in a step's shape: medians, but means of the CPU ms (/proc counts 10 ms ticks:
    // the round's mean is finer than any one step's count) and of the pipelines (most steps make none)
    const med = (key: keyof StepCost) => median(costs.map((c) => c[key]));
    const mean = (key: keyof StepCost) => costs.reduce((sum, c) => sum + c[key], 0) / costs.length;
    m.rounds.push({ ms: med('ms'), busyMs: med('busyMs'), idleMs: med('idleMs'), cpuMs: mean('cpuMs'), pipelines: mean('pipelines'), bindGroups: med('bindGroups'), created: med('created'), createdMiB: med('createdMiB') });
    const stats = gpuPoolStats();
    m.peakInUse = Math.max(m.peakInUse, stats?.peakInUse ?? 0);
    m.peakAllocated = Math.max(m.peakAllocated, stats?.peakAllocated ?? 0);
  }
}
setBoundedShapeTrim(null);
setPoolFitUp(null);

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`${backend.backend}: GPT-2 ${values.layers} layers, d ${values.embd}, ${values.heads} heads, vocab ${vocab}, ${values.grouping}; batch ~${expected} in micro-batches of ${physical}, lengths ${minLen}–${maxLen}; ${rounds} round(s) of ${steps} steps a mode after ${warmup} warm-up steps`);
const passCols = gpuPasses ? ' GPU busy ms | GPU idle ms |' : '';
console.log(`| mode | step ms (median of round medians) | each round | main-thread CPU ms a step (mean) |${passCols} pipelines created a step (mean) | bind groups created a step | buffers created a step | MiB created a step | peak in use MiB | pool peak MiB |`);
console.log(`| --- | ---: | --- | ---: |${gpuPasses ? ' ---: | ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: |`);
const msOrDash = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const roundsOf = (m: (typeof modes)[number], key: keyof StepCost) => m.rounds.map((r) => r[key]);
for (const m of modes) {
  const of = (key: keyof StepCost) => median(roundsOf(m, key));
  const passVals = gpuPasses ? ` ${msOrDash(of('busyMs'))} | ${msOrDash(of('idleMs'))} |` : '';
  console.log(`| ${m.name} | ${of('ms').toFixed(1)} | ${roundsOf(m, 'ms').map((x) => x.toFixed(1)).join(', ')} | ${of('cpuMs').toFixed(0)} |${passVals} ${of('pipelines').toFixed(1)} | ${of('bindGroups').toFixed(0)} | ${of('created').toFixed(0)} | ${of('createdMiB').toFixed(1)} | ${mib(m.peakInUse)} | ${mib(m.peakAllocated)} |`);
}
// round by round against the first mode: both modes of a round share the machine's load of that moment
for (const m of modes.slice(1)) {
  const p = pairedRounds(roundsOf(modes[0]!, 'ms'), roundsOf(m, 'ms'));
  console.log(`${m.name} − ${modes[0]!.name}, median of the rounds' differences: ${p.medianDiff >= 0 ? '+' : ''}${p.medianDiff.toFixed(1)} ms (spread ${p.spread.toFixed(1)}); lower in ${p.onLower} of ${p.rounds} rounds`);
}
if (discarded > 0) console.log(`(${discarded} steps read a non-finite loss on the null backend and were discarded after their host work)`);
model.dispose();
process.exit(0);
