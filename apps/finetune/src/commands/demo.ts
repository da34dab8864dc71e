import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assetsDir } from '../assets';
import { DEMO_DATA, DEMO_MODEL, DEMO_SETTINGS } from './demo-settings';
import { readJsonFile } from '../json-text';
import type { PrivacyReport } from '../report/privacy-report';
import type { EvalResult } from '../train/evaluate';
import { RunLog } from '../train/run-log';
import { runTrain, type TrainResult } from '../train/run-train';
import type { CommandSpec } from '../flags/command-spec';
import type { FlagSpec } from '../flags/flag-spec';
import { explicitSettings, type TrainConfig } from '../train/train-config';
import { CONFIG_FLAG, TRAIN_FLAGS } from '../train/train-flags';

export { DEMO_MODEL } from './demo-settings';

/**
 * The demo's `clipwise train` settings. Every key is a train flag, and `clipwise demo --FLAG V`
 * overrides it: the demo is a preset, not a second training loop.
 */
export function demoPreset(): Partial<TrainConfig> {
  const assets = assetsDir();
  return {
    model: path.join(assets, DEMO_MODEL),
    data: path.join(assets, DEMO_DATA, 'train.csv'),
    'eval-data': path.join(assets, DEMO_DATA, 'test.csv'),
    ...DEMO_SETTINGS,
  };
}

export interface DemoResult {
  readonly train: TrainResult;
  /** The pretrained model on the test split, before any private step. */
  readonly before: EvalResult;
  /** After the last step. */
  readonly after: EvalResult;
  /** The run folder (checkpoint, logs, report). */
  readonly out: string;
}

function describeEval(e: EvalResult, unit: string): string {
  const gen = e.rougeL !== undefined ? ` | ROUGE-L ${(100 * e.rougeL).toFixed(1)}, BLEU ${(100 * e.bleu!).toFixed(1)} on ${e.generated} MRs` : '';
  return `test loss ${e.loss.toFixed(3)} nats/${unit} (perplexity ${e.perplexity!.toFixed(2)})${gen}`;
}

/**
 * `clipwise demo`: the shipped small GPT-2, pre-trained (non-privately) on public English text,
 * fine-tuned with DP-AdamW on the shipped E2E sample at ε = 8 through `runTrain`, then a summary:
 * test loss, perplexity, ROUGE-L/BLEU and three generations before and after, and ε. `overrides` are
 * `clipwise train` settings; without `out` the run goes to a new temporary folder.
 *
 * @example
 * ```ts
 * const { before, after } = await runDemo({ steps: 10 }, console.log);
 * ```
 */
export async function runDemo(overrides: Partial<TrainConfig>, log: (s: string) => void): Promise<DemoResult> {
  const preset = demoPreset();
  // The preset's ε and steps give way to the flags that replace them in `clipwise train`.
  if (overrides.epochs !== undefined) delete preset.steps;
  if (overrides['no-dp'] || overrides['noise-multiplier'] !== undefined) delete preset.epsilon;
  // One evaluation before and one after: a mid-run eval costs as much as several steps on a CPU.
  const steps = overrides.steps ?? preset.steps;
  if (steps !== undefined) {
    preset['eval-every'] = steps;
    preset.warmup = Math.min(preset.warmup!, steps - 1); // a shortened demo keeps a valid schedule
  }
  const out = overrides.out ?? mkdtempSync(path.join(tmpdir(), 'clipwise-demo-'));
  const config = { ...preset, ...overrides, out };
  log(`clipwise demo: ${path.basename(config.model!)} (small GPT-2, pre-trained on public English text) fine-tuned privately on the E2E sample; run folder ${out}`);
  const train = await runTrain(config, log);
  const evals = new RunLog<EvalResult>(path.join(out, 'evals.jsonl')).read();
  const before = evals.find((e) => e.step === 0)!;
  const after = evals.at(-1)!;
  const unit = config.tokenizer === 'byte' ? 'byte' : 'token';
  log('');
  log(`before fine-tuning:        ${describeEval(before, unit)}`);
  log(`after ${String(train.step).padStart(3)} ${train.epsilon === null ? 'non-private' : 'private'} steps:  ${describeEval(after, unit)}`);
  const pairs = before.samples && after.samples ? after.samples.map((s, i) => [before.samples![i]!, s] as const) : before.sample && after.sample ? [[before.sample, after.sample] as const] : [];
  for (const [b, a] of pairs) {
    log(`sample: ${a.mr}`);
    log(`  before: ${JSON.stringify(b.output)}`);
    log(`  after:  ${JSON.stringify(a.output)}`);
  }
  const privacyFile = path.join(out, 'report', 'privacy.json');
  if (existsSync(privacyFile)) {
    const privacy = readJsonFile(privacyFile) as PrivacyReport;
    log(`privacy: ${privacy.statement}`);
    log(`covered by ε: ${privacy.coverage.covered.join(' ')}`);
    log(`not covered: ${privacy.coverage.notCovered.join(' ')}`);
    log(`report: ${path.join(out, 'report', 'report.html')}`);
  }
  return { train, before, after, out };
}

/** The train flags with the preset's values as their defaults (paths shown from the assets folder). */
function demoFlags(): FlagSpec[] {
  let preset: Partial<TrainConfig> = {};
  try {
    preset = demoPreset();
  } catch {
    // no assets folder: the help still lists the flags
  }
  const shown = (v: unknown) => (typeof v === 'string' && path.isAbsolute(v) ? `assets/${path.relative(assetsDir(), v)}` : String(v));
  return TRAIN_FLAGS.map((f) => {
    if (f.name === 'out') return { ...f, default: undefined, defaultText: 'a new temporary folder' };
    const v = preset[f.name as keyof TrainConfig];
    return v === undefined ? f : { ...f, default: undefined, defaultText: `${shown(v)}${f.unit ? ` ${f.unit}` : ''} (demo preset)` };
  });
}

/** `clipwise demo`: any `clipwise train` flag overrides the preset. */
export const DEMO_COMMAND: CommandSpec = {
  name: 'demo',
  summary: 'fine-tune the shipped small GPT-2 privately on the shipped E2E sample (ε = 8): a preset of train',
  description:
    'Fine-tune the shipped small GPT-2 (pre-trained on public English text) privately on the shipped E2E sample ' +
    '(ε = 8); prints test loss, ROUGE-L and three generations before and after, and ε. A preset of clipwise train: ' +
    'any train flag overrides it. Without --out the run goes to a new temporary folder.',
  get flags() {
    return [...demoFlags(), CONFIG_FLAG];
  },
  examples: ['clipwise demo', 'clipwise demo --steps 10 --grouping all-layer', 'clipwise demo --no-dp'],
  async run(values, io) {
    await runDemo(explicitSettings(values), io.log);
    return 0;
  },
};
