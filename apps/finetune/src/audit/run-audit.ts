import * as tf from '@tensorflow/tfjs-core';
import { ClipwiseAccountantError, calibrateNoise, createAccountant, oneRunAuditFromScores, type OneRunAuditResult } from '@clipwise/accountant';
import { setupBackend, type BackendName } from '@clipwise/core';
import { PoissonSampler } from '@clipwise/data';
import { ClipwiseGroupingError, resolveGrouping } from '@clipwise/grouping';
import { Optimizer, PrivateGradients, sgd } from '@clipwise/optim';
import { runTrainingLoop } from '../train/training-loop';
import { UsageError } from '../usage-error';
import { makeCanaryData } from './canary-data';
import { CanaryClassifier } from './canary-classifier';
import { canaryScores } from './canary-scores';
import { noiseSeed, samplerSeed } from '../train/seed-streams';

export interface AuditOptions {
  readonly backend: BackendName;
  /** m canaries, each in the training set with probability 1/2. */
  readonly canaries: number;
  /** Real training examples (a synthetic Gaussian-mixture task). */
  readonly examples: number;
  readonly steps: number;
  /** Expected batch size B; Poisson rate q = B / (examples + canaries / 2). */
  readonly batchSize: number;
  readonly clipNorm: number;
  readonly grouping: string;
  /** Target ε (σ calibrated with RDP) — or give `noiseMultiplier` instead. */
  readonly epsilon?: number;
  /** σ as given; 0 turns the noise off (no privacy: the audit should find a large ε). */
  readonly noiseMultiplier?: number;
  readonly delta: number;
  readonly learningRate: number;
  readonly seed: number;
  /** Confidence of the lower bound (default 0.95). */
  readonly confidence: number;
  readonly log?: (line: string) => void;
}

export const AUDIT_DEFAULTS = {
  backend: 'auto',
  canaries: 1000,
  examples: 1000,
  steps: 100,
  batchSize: 256,
  clipNorm: 1,
  grouping: 'layer-wise',
  delta: 1e-5,
  learningRate: 0.5,
  seed: 0,
  confidence: 0.95,
} as const satisfies Partial<AuditOptions>;

export interface AuditReport {
  readonly backend: string;
  readonly canaries: number;
  readonly canariesIncluded: number;
  readonly examples: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly sampleRate: number;
  readonly clipNorm: number;
  readonly grouping: string;
  readonly groups: number;
  readonly noiseMultiplier: number;
  readonly delta: number;
  /** The RDP accountant's ε for this run; Infinity without noise. */
  readonly accountantEpsilon: number;
  /** The one-run audit (lower bound, guesses, correct, per guess count). */
  readonly audit: OneRunAuditResult;
  readonly seconds: number;
}

/** Hidden width and feature count of the audited classifier: small, so a default audit runs in seconds. */
const FEATURES = 8;
const HIDDEN = 16;
const CLASSES = 2;

function noiseFor(o: AuditOptions, sampleRate: number): number {
  if ((o.epsilon === undefined) === (o.noiseMultiplier === undefined)) {
    throw new UsageError('give exactly one of --epsilon (σ calibrated to it) and --noise-multiplier');
  }
  if (o.noiseMultiplier !== undefined) return o.noiseMultiplier;
  try {
    return calibrateNoise({ targetEpsilon: o.epsilon!, delta: o.delta, sampleRate, steps: o.steps, accountant: 'rdp' }).noiseMultiplier;
  } catch (e) {
    if (e instanceof ClipwiseAccountantError) throw new UsageError(`--epsilon ${o.epsilon}: ${e.message}`);
    throw e;
  }
}

/**
 * `clipwise audit`: an empirical privacy audit of the private training step, in one training run
 * (Steinke, Nasr & Jagielski, NeurIPS 2023). m Dirac canaries are each put in the training set
 * with probability 1/2; a small classifier is trained with Clipwise's private step (Poisson
 * sampling, per-sample clipping by group, Gaussian noise, SGD) at the given settings; each canary
 * is scored by how far its own weight column moved along its gradient direction; the top scores
 * are guessed "in", the bottom "out", and the correct guesses give a lower bound on ε at
 * `confidence`, reported next to the accountant's ε. A bound above the accountant's ε means the
 * implementation leaks more than its analysis allows.
 */
export async function runAudit(o: AuditOptions): Promise<AuditReport> {
  const t0 = performance.now();
  const { backend } = await setupBackend(o.backend);
  const sampleRate = o.batchSize / (o.examples + o.canaries / 2);
  if (sampleRate > 1) {
    throw new UsageError(`--batch-size ${o.batchSize} exceeds the expected training-set size ${o.examples + o.canaries / 2} (examples + canaries/2)`);
  }
  const sigma = noiseFor(o, sampleRate);
  const data = makeCanaryData({ examples: o.examples, features: FEATURES, classes: CLASSES, canaries: o.canaries, seed: o.seed });
  const model = new CanaryClassifier({ features: FEATURES, hidden: HIDDEN, canaries: o.canaries, classes: CLASSES, seed: o.seed });
  try {
    let grouping;
    try {
      grouping = resolveGrouping(o.grouping, model.params, { clipNorm: o.clipNorm });
    } catch (e) {
      if (e instanceof ClipwiseGroupingError) throw new UsageError(`--grouping '${o.grouping}': ${e.message}`);
      throw e;
    }
    const before = await model.canaryColumns();
    // The sum is divided by the constant B, never by a count that depends on which canaries are in.
    const gradients = new PrivateGradients({ params: model.params, grouping, noiseMultiplier: sigma, expectedBatchSize: o.batchSize, seed: noiseSeed(o.seed) });
    const optimizer = new Optimizer(sgd({ learningRate: o.learningRate }), model.params);
    const sampler = new PoissonSampler({ datasetSize: data.rows, sampleRate, seed: samplerSeed(o.seed) });
    const accountant = sigma > 0 ? createAccountant('rdp') : null;
    await runTrainingLoop({
      sampler,
      gradients,
      optimizer,
      steps: o.steps,
      maxPhysicalBatch: 256,
      ...(accountant ? { accountant: { accountant, noiseMultiplier: sigma } } : {}),
      perSampleLoss: (idx) => {
        const rows = Array.from(idx);
        const x = new Float32Array(rows.length * FEATURES);
        rows.forEach((r, i) => x.set(data.x.subarray(r * FEATURES, (r + 1) * FEATURES), i * FEATURES));
        const canaryIds = Int32Array.from(rows, (r) => data.canaryOfRow[r]!);
        const labels = Int32Array.from(rows, (r) => data.labels[r]!);
        return tf.tidy(() => model.perSampleLoss(tf.tensor2d(x, [rows.length, FEATURES]), canaryIds, labels));
      },
      onStep: (r) => {
        if (o.log && (r.step % 25 === 0 || r.step === o.steps)) {
          o.log(`step ${r.step}/${o.steps}  loss ${Number.isNaN(r.loss) ? '-' : r.loss.toFixed(3)}  B=${r.batchSize}  ${r.stepMs.toFixed(0)} ms`);
        }
      },
    });
    optimizer.dispose();
    const scores = canaryScores(before, await model.canaryColumns(), data.canaryLabels, CLASSES);
    const audit = oneRunAuditFromScores({ scores, included: data.included, delta: o.delta, confidence: o.confidence });
    return {
      backend,
      canaries: o.canaries,
      canariesIncluded: data.included.filter(Boolean).length,
      examples: o.examples,
      steps: o.steps,
      batchSize: o.batchSize,
      sampleRate,
      clipNorm: o.clipNorm,
      grouping: grouping.strategy,
      groups: grouping.groups.length,
      noiseMultiplier: sigma,
      delta: o.delta,
      accountantEpsilon: accountant ? accountant.epsilon(o.delta) : Infinity,
      audit,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
