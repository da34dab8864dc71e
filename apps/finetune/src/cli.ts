import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAuditCommand } from './commands/audit';
import { runBenchCommand } from './commands/bench';
import { runDemoCommand } from './commands/demo';
import { runNorms } from './commands/norms';
import { runProfileCommand } from './commands/profile';
import { backendFlag, numberFlag } from './commands/flags';
import { runTrainCommand } from './commands/train';
import { CheckpointError } from './train/checkpoint-error';
import { UsageError } from './usage-error';

const HELP = `clipwise — differentially private fine-tuning of transformers (TensorFlow.js)

Usage:
  clipwise demo [any train flag, e.g. --steps N --epsilon E --backend B --out DIR]
      Fine-tune the shipped tiny GPT-2 (pre-trained on public Shakespeare text) privately on the shipped E2E sample
      (ε = 8); prints test loss, ROUGE-L and a generation before and after, and ε. A preset of clipwise train.
  clipwise norms --model DIR --input FILE [--grouping G] [--clip-norm C] [--json]
      Per-sample gradient norms of a Hugging Face checkpoint (config.json + model.safetensors).
  clipwise audit [--epsilon E | --noise-multiplier S] [--delta D] [--canaries K] [--steps N] [--batch-size B] [--clip-norm C] [--grouping G] [--seed S] [--confidence P] [--json]
      Empirical privacy audit in one training run: K canaries, each trained on with probability 1/2, are guessed
      from the trained weights; prints the audited lower bound on ε next to the accountant's ε (exit 1 if above it).

  clipwise bench [--model PRESET] [--model-config JSON] [--batch-size B] [--seq-len T] [--reps N] [--groupings G1,G2,...] [--backend B] [--optimizer sgd|adamw|none] [--json FILE] [--kernels N] [--fused on|off] [--uploads queue|staging]
      Step time and peak memory of the non-private step and of private steps per grouping (random init), with the
      analytic prediction; ratios to non-private. Presets: gpt2-tiny, gpt2-mini, gpt2 (124M), vit-tiny, vit-mini, vit-base-16.
  clipwise profile [--model PRESET] [--batch-size B] [--seq-len T] [--grouping G] [--backend B] [--out DIR]
      Per layer: the mixed rule's norm mode and the kernels' predicted flops/bytes; per phase (forward, backward, norms,
      clipped sums, noise, update): measured time and peak next to the prediction; OUT/profile.html plots memory over the step.

  clipwise train --data PATH [--model DIR|preset] [--task text|e2e|images] [--config FILE.yaml|FILE.json] [--out DIR] [--resume] ...
      Private fine-tuning of GPT-2 or ViT: checkpoints, JSONL log, eval (loss, perplexity, accuracy, BLEU, ROUGE-L)
      and a report (OUT/report/: metrics.json, privacy.json, report.html). Main flags:
        data    --data PATH --eval-data PATH --limit N --eval-limit N --gen-limit N --gen-tokens N
                --tokenizer gpt2|byte|word --seq-len T
        privacy --epsilon E --delta D | --noise-multiplier S | --no-dp; --accountant rdp|prv; --sampling poisson|shuffle
                --clipping abadi|automatic --clip-norm C --grouping G
                --thresholds fixed|adaptive [--target-quantile Q --threshold-lr ETA --count-noise SB] (per-group quantile clipping)
        plan    --epochs K | --steps N; --batch-size B (q = B/N) --max-physical-batch M
        optim   --optimizer sgd|adam|adamw --lr LR --schedule constant|cosine|warmup-cosine --warmup W --weight-decay WD
        run     --backend auto|cpu|wasm|webgpu|tensorflow --seed S --eval-every N --halt-after N
      Presets: gpt2-tiny, gpt2-mini, gpt2, vit-tiny, vit-mini, vit-base-16. See apps/finetune/README.md.

Groupings: all-layer, layer-wise, param-wise, uniform:K, non-uniform:PREFIX,..., per-device.
The privacy accountant has its own CLI: npx clipwise-accountant --help
`;


/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], log: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'demo':
        await runDemoCommand(rest, log);
        return 0;
      case 'train': {
        const result = await runTrainCommand(rest, log);
        log(`status: ${result.status}`);
        return 0;
      }
      case 'bench':
        await runBenchCommand(rest, log);
        return 0;
      case 'profile':
        await runProfileCommand(rest, log);
        return 0;
      case 'audit':
        return await runAuditCommand(rest, log);
      case 'norms': {
        const { values } = parseArgs({
          args: rest,
          options: {
            model: { type: 'string' }, input: { type: 'string' }, grouping: { type: 'string' }, 'clip-norm': { type: 'string' },
            json: { type: 'boolean' }, backend: { type: 'string' },
          },
        });
        if (!values.model) throw new UsageError('--model DIR is required (a folder with config.json and model.safetensors)');
        if (!values.input) throw new UsageError('--input FILE is required (JSON: {"input_ids": [[...]]} or {"pixel_values": ..., "labels": [...]})');
        await runNorms({
          model: values.model,
          input: values.input,
          grouping: values.grouping,
          clipNorm: numberFlag('clip-norm', values['clip-norm'], 1, (x) => x > 0, 'a number > 0'),
          json: values.json ?? false,
          backend: backendFlag(values.backend, 'cpu'),
          log,
        });
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        log(HELP);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      // A damaged checkpoint is bad input too, but the usage text would only bury the fix.
      err(`clipwise ${command ?? ''}: ${(e as Error).message}${e instanceof CheckpointError ? '' : `\n\n${HELP}`}`);
      return 2;
    }
    err(`clipwise ${command}: ${(e as Error).message}`);
    return 1;
  }
}

/** True when this file is the program (`node dist/cli.js`, or a bin link to it), not an import. */
function isEntry(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (isEntry()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
