import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { calibrateNoise, createAccountant } from '@clipwise/accountant';
import { setupBackend, type BackendName } from '@clipwise/core';
import { PoissonSampler, encodeE2E, formatE2E, formatE2EPrompt, readE2ECsv } from '@clipwise/data';
import { resolveGrouping } from '@clipwise/grouping';
import { GPT2_PRESETS, Gpt2Model, WordTokenizer } from '@clipwise/models';
import { Optimizer, PrivateGradients, adamw, warmupCosineSchedule } from '@clipwise/optim';
import { assetsDir } from '../assets';
import { runTrainingLoop } from '../training/training-loop';
import { greedyGenerate, meanTargetLoss } from '../training/text-eval';

export interface DemoOptions {
  backend: BackendName;
  steps: number;
  epsilon: number;
  delta: number;
  batchSize: number;
  seqLen: number;
  grouping: string;
  clipNorm: number;
  learningRate: number;
  seed: number;
  log: (line: string) => void;
}

export const DEMO_DEFAULTS: Omit<DemoOptions, 'log'> = {
  backend: 'auto',
  steps: 60,
  epsilon: 8,
  delta: 1e-5,
  batchSize: 32,
  seqLen: 64,
  grouping: 'layer-wise',
  clipNorm: 1,
  learningRate: 1e-2,
  seed: 0,
};

/**
 * The embedded default: privately train a tiny GPT-2 (byte-level) on the shipped E2E sample at a
 * target ε, printing loss, per-group clip fractions and ε as it goes, and test loss before/after.
 */
export async function runDemo(o: DemoOptions): Promise<{ testLossBefore: number; testLossAfter: number; epsilon: number }> {
  const { backend, reason } = await setupBackend(o.backend);
  o.log(`backend: ${backend} (${reason.split(' (')[0]})`);
  const dir = path.join(assetsDir(), 'e2e-sample');
  const train = await readE2ECsv(path.join(dir, 'train.csv'));
  const test = await readE2ECsv(path.join(dir, 'test.csv'));
  // A word vocabulary keeps the tiny model fast (GPT-2's 50k BPE would dominate the cost on a CPU).
  // It is fitted on the training sample, a non-private choice that a real run makes with a public tokenizer.
  const tok = WordTokenizer.fit(train.map((p) => formatE2E(p.mr, p.ref)));
  const enc = encodeE2E(train, tok, { maxLength: o.seqLen, padTo: 'maxLength' });
  const encTest = encodeE2E(test, tok, { maxLength: o.seqLen, padTo: 'maxLength' });
  const n = enc.numExamples;
  const t = enc.seqLength;
  const model = new Gpt2Model({ ...GPT2_PRESETS['gpt2-tiny']!, vocab_size: tok.vocabSize, n_positions: t }, { seed: o.seed });
  const params = model.params;
  const q = o.batchSize / n;
  const { noiseMultiplier: sigma } = calibrateNoise({ targetEpsilon: o.epsilon, delta: o.delta, sampleRate: q, steps: o.steps, accountant: 'rdp' });
  const grouping = resolveGrouping(o.grouping, params, { clipNorm: o.clipNorm });
  o.log(
    `data: ${n} E2E training pairs (${t} word tokens, vocabulary ${tok.vocabSize}), ${encTest.numExamples} test pairs | model: GPT-2 tiny, ` +
      `${params.reduce((s, p) => s + p.size, 0).toLocaleString('en')} parameters`,
  );
  o.log(
    `privacy: (ε=${o.epsilon}, δ=${o.delta}) over ${o.steps} steps, Poisson q=${q.toFixed(4)} (E[B]=${o.batchSize}), ` +
      `σ=${sigma.toFixed(4)} (RDP) | clipping: ${grouping.strategy}, ${grouping.groups.length} groups, C=${o.clipNorm}`,
  );
  const before = meanTargetLoss(model, encTest.inputIds, encTest.labelMask, encTest.numExamples, t);
  o.log(`test loss before: ${before.toFixed(3)} nats/token (perplexity ${Math.exp(before).toFixed(1)})`);
  const gradients = new PrivateGradients({ params, grouping, noiseMultiplier: sigma, expectedBatchSize: o.batchSize, seed: o.seed + 1 });
  const optimizer = new Optimizer(adamw({ learningRate: warmupCosineSchedule(o.learningRate, Math.min(5, o.steps - 1), o.steps), weightDecay: 0 }), params);
  const sampler = new PoissonSampler({ datasetSize: n, sampleRate: q, seed: o.seed + 2 });
  const accountant = createAccountant('rdp');
  const reports = await runTrainingLoop({
    sampler,
    gradients,
    optimizer,
    steps: o.steps,
    maxPhysicalBatch: 64,
    accountant: { accountant, noiseMultiplier: sigma, delta: o.delta },
    perSampleLoss: (idx) =>
      tf.tidy(() => {
        const rows = Array.from(idx);
        const ids = tf.tensor2d(gatherRows(enc.inputIds, rows, t), [rows.length, t], 'int32');
        const mask = tf.tensor2d(Float32Array.from(gatherRows(enc.labelMask, rows, t)), [rows.length, t]);
        return model.perSampleLoss(ids, mask);
      }),
    onStep: (r) => {
      if (r.step % 5 !== 0 && r.step !== 1) return;
      const clip = r.groups.length ? r.groups.reduce((s, g) => s + g.clipFraction, 0) / r.groups.length : 0;
      const worst = r.groups.reduce((a, g) => (g.clipFraction > a.clipFraction ? g : a), r.groups[0]!);
      o.log(
        `step ${String(r.step).padStart(3)}/${o.steps}  loss ${Number.isNaN(r.loss) ? '  -  ' : r.loss.toFixed(3)}  B=${String(r.batchSize).padStart(2)}  ` +
          `clipped ${(100 * clip).toFixed(0).padStart(3)}% (mean over groups; most: ${worst.group} ${(100 * worst.clipFraction).toFixed(0)}%)  ` +
          `ε=${r.epsilon!.toFixed(2)}  ${r.stepMs.toFixed(0)} ms`,
      );
    },
  });
  const after = meanTargetLoss(model, encTest.inputIds, encTest.labelMask, encTest.numExamples, t);
  const spent = accountant.getPrivacySpent(o.delta);
  o.log(`test loss after:  ${after.toFixed(3)} nats/token (perplexity ${Math.exp(after).toFixed(1)}; before ${before.toFixed(3)})`);
  const mr = test[0]!.mr;
  const gen = tok.decode(greedyGenerate(model, tok.encode(formatE2EPrompt(mr)), 80, tok.eotToken));
  o.log(`sample: ${mr}\n   ->  ${JSON.stringify(gen.trim())}`);
  const ms = reports.reduce((s, r) => s + r.stepMs, 0) / reports.length;
  o.log(`privacy spent: ε=${spent.epsilon.toFixed(3)} at δ=${o.delta} (RDP, Poisson sampling, ${reports.length} steps, σ=${sigma.toFixed(4)}) | mean step ${ms.toFixed(0)} ms`);
  optimizer.dispose();
  model.dispose();
  return { testLossBefore: before, testLossAfter: after, epsilon: spent.epsilon };
}

function gatherRows<T extends Int32Array | Uint8Array>(src: T, rows: number[], t: number): number[] {
  const out: number[] = new Array(rows.length * t);
  rows.forEach((r, i) => {
    for (let j = 0; j < t; j++) out[i * t + j] = src[r * t + j]!;
  });
  return out;
}
