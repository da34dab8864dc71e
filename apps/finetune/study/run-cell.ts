// One cell of the study, in a process of its own (run-study.ts starts one per cell, so a crash or a
// leaked device buffer ends with the cell): `clipwise train` (validation scored at the end), then the
// final checkpoint scored on the test split, then one `STUDY-CELL {json}` line with what the
// results file keeps. The test set is read only here, after training, and never picks anything.
//   vite-node --config apps/finetune/study/vitest.config.ts apps/finetune/study/run-cell.ts -- \
//     --test-data FILE [--test-limit N] [--gen-limit N] -- train --out DIR ...
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { gpuPoolStats } from '@clipwise/core';
import { loadPretrained } from '@clipwise/models/node';
import { main } from '../src/cli';
import { checkpointDir, MODEL_DIR } from '../src/train/checkpoint';
import { evaluate, generationSettingsOf, type EvalResult } from '../src/train/evaluate';
import { readCheckpoint } from '../src/train/read-checkpoint';
import { inferTask, loadTaskData } from '../src/train/task-data';
import { median, OUTCOME_PREFIX, type CellOutcome, type Scores } from './study-results';


const scores = (e: EvalResult): Scores => ({
  loss: e.loss,
  ...(e.accuracy !== undefined ? { accuracy: e.accuracy } : {}),
  ...(e.bleu !== undefined ? { bleu: e.bleu, rougeL: e.rougeL!, generated: e.generated! } : {}),
});

const jsonLines = <T>(file: string): T[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);

/** A model to score on the test split: its folder, and how many MRs to generate for (E2E). */
interface ScoredModel {
  readonly dir: string;
  readonly genLimit: number;
}

/**
 * Scores each model on `testData` (its first `testLimit` examples) with the settings of OUT's final
 * checkpoint, the checkpoint and the task data read once for all of them (the images decoded once).
 * The models share one architecture: the fine-tuned model and the pre-trained one it started from.
 */
async function scoreOnTest(out: string, testData: string, testLimit: number | undefined, models: readonly ScoredModel[]): Promise<EvalResult[]> {
  const parts = await readCheckpoint(out);
  const config = { ...parts.state.config, 'eval-data': testData, 'eval-limit': testLimit };
  const results: EvalResult[] = [];
  let data: Awaited<ReturnType<typeof loadTaskData>> | null = null;
  for (const { dir, genLimit } of models) {
    const model = await loadPretrained(dir);
    try {
      const imageSize = 'image_size' in model.config ? model.config.image_size : 0;
      data ??= await loadTaskData(config, inferTask(config), config.tokenizer ?? 'byte', imageSize, parts.tokenizer ?? undefined);
      const e = await evaluate(model, data, parts.state.step, generationSettingsOf(config, genLimit));
      if (!e) throw new Error(`no test data read from ${testData}`);
      results.push(e);
    } finally {
      model.dispose();
    }
  }
  return results;
}

const argv = process.argv.slice(2);
const split = argv.indexOf('train');
if (split < 0) throw new Error('usage: run-cell.ts --test-data FILE [--test-limit N] [--gen-limit N] -- train --out DIR ...');
const { values } = parseArgs({
  args: argv.slice(0, split).filter((a) => a !== '--'),
  options: { 'test-data': { type: 'string' }, 'test-limit': { type: 'string' }, 'gen-limit': { type: 'string' } },
});
const train = argv.slice(split);
const out = train[train.indexOf('--out') + 1]!;
const rc = await main(train);
if (rc !== 0) process.exit(rc);
// after training, before the test pass: the run's own high-water mark (webgpu's pool; null elsewhere)
const peakBytes = gpuPoolStats()?.peakInUse ?? null;
const testLimit = values['test-limit'] === undefined ? undefined : Number(values['test-limit']);
// and the pre-trained model on the same test examples: what fine-tuning changed, paired (loss and
// accuracy; no generations, which would double the cell's slowest part). Not with --new-head: the
// pre-trained head names other classes (the fresh head's step-0 validation score is the baseline then).
const base = train.includes('--new-head') ? undefined : train[train.indexOf('--model') + 1];
const [test, testStart = null] = await scoreOnTest(out, values['test-data']!, testLimit, [
  { dir: path.join(checkpointDir(out), MODEL_DIR), genLimit: Number(values['gen-limit'] ?? 0) },
  ...(base && existsSync(path.join(base, 'config.json')) ? [{ dir: base, genLimit: 0 }] : []),
]);
const metrics = JSON.parse(readFileSync(path.join(out, 'report', 'metrics.json'), 'utf8')) as { parameters: number; epsilon: number; wallSeconds: number };
const privacy = JSON.parse(readFileSync(path.join(out, 'report', 'privacy.json'), 'utf8')) as { noiseMultiplier: number };
const steps = jsonLines<{ step: number; stepMs: number }>(path.join(out, 'log.jsonl'));
const evals = jsonLines<EvalResult>(path.join(out, 'evals.jsonl'));
const lastEval = evals.at(-1)!;
// `clipwise train` evaluates at step 0 before training: the pre-trained model's validation scores
const startEval = evals.find((e) => e.step === 0);
const outcome: CellOutcome = {
  params: metrics.parameters,
  val: scores(lastEval),
  ...(startEval ? { valStart: scores(startEval) } : {}),
  test: scores(test!),
  ...(testStart ? { testStart: scores(testStart) } : {}),
  stepMsMedian: median(steps.filter((s) => s.step > 1).map((s) => s.stepMs)),
  peakBytes,
  sigma: privacy.noiseMultiplier,
  epsilonSpent: metrics.epsilon,
  backend: tf.getBackend(),
  wallSeconds: metrics.wallSeconds,
};
console.log(OUTCOME_PREFIX + JSON.stringify(outcome));
