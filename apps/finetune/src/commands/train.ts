import type { CommandSpec } from '../flags/command-spec';
import { runTrain } from '../train/run-train';
import { explicitSettings } from '../train/train-config';
import { CONFIG_FLAG, TRAIN_FLAGS } from '../train/train-flags';

/** `clipwise train`: its flags are `TRAIN_FLAGS` (also the config file's keys) and `--config FILE`. */
export const TRAIN_COMMAND: CommandSpec = {
  name: 'train',
  summary: 'private fine-tuning of GPT-2 or ViT: checkpoints, JSONL log, eval and a report',
  description:
    'Private (DP-SGD) fine-tuning of GPT-2 or ViT: checkpoints that resume exactly, a JSONL step log, evaluation ' +
    '(loss, perplexity, accuracy, BLEU, ROUGE-L) and a report (OUT/report/: metrics.json, privacy.json, report.html). ' +
    'Flags can also come from --config FILE: its keys are the flag names (plus model-config as a mapping).',
  flags: [...TRAIN_FLAGS, CONFIG_FLAG],
  examples: [
    'clipwise train --config apps/finetune/configs/e2e-gpt2.yaml',
    'clipwise train --data train.csv --eval-data test.csv --epsilon 8 --epochs 3 --backend wasm --out runs/e2e',
    'clipwise train --resume --out runs/e2e',
  ],
  async run(values, io) {
    const result = await runTrain(explicitSettings(values), io.log);
    io.log(`status: ${result.status}`);
    return 0;
  },
};
