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

/**
 * Scores a model on `testData` (its first `testLimit` examples; `genLimit` MRs generated for E2E) with
 * the settings of OUT's final checkpoint: by default the checkpoint's own model, or `modelDir` (the
 * pre-trained model the run started from, `--model`).
 */
async function scoreOnTest(out: string, testData: string, testLimit: number | undefined, genLimit: number, modelDir?: string): Promise<EvalResult> {
  const parts = await readCheckpoint(out);
  const config = { ...parts.state.config, 'eval-data': testData, 'eval-limit': testLimit };
  const model = await loadPretrained(modelDir ?? path.join(checkpointDir(out), MODEL_DIR));
  try {
    const imageSize = 'image_size' in model.config ? model.config.image_size : 0;
    const data = await loadTaskData(config, inferTask(config), config.tokenizer ?? 'byte', imageSize, parts.tokenizer ?? undefined);
    const e = await evaluate(model, data, parts.state.step, generationSettingsOf(config, genLimit));
    if (!e) throw new Error(`no test data read from ${testData}`);
    return e;
  } finally {
    model.dispose();
  }
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
const test = await scoreOnTest(out, values['test-data']!, testLimit, Number(values['gen-limit'] ?? 0));
// the pre-trained model on the same test examples: what fine-tuning changed, paired (loss and
// accuracy; no generations, which would double the cell's slowest part)
const base = train[train.indexOf('--model') + 1];
const testStart = base && existsSync(path.join(base, 'config.json')) ? await scoreOnTest(out, values['test-data']!, testLimit, 0, base) : null;
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
  test: scores(test),
  ...(testStart ? { testStart: scores(testStart) } : {}),
  stepMsMedian: median(steps.filter((s) => s.step > 1).map((s) => s.stepMs)),
  peakBytes,
  sigma: privacy.noiseMultiplier,
  epsilonSpent: metrics.epsilon,
  backend: tf.getBackend(),
  wallSeconds: metrics.wallSeconds,
};
console.log(OUTCOME_PREFIX + JSON.stringify(outcome));
