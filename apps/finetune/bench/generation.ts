// E2E evaluation's greedy generation (KV-cached), one MR at a time (batch 1, how evaluation decoded before
// greedyGenerateMany) against batches of MRs: seconds for the first N distinct MRs of an E2E file, with
// the demo's decoding settings, and whether every batch size gives the same texts as batch 1.
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/vitest.config.ts apps/finetune/bench/generation.ts -- \
//     --backend wasm --mrs 24 --batches 1,8,32
// --model DIR: any GPT-2 folder with a gpt2-subset tokenizer.json (default: the demo's shipped model).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setupBackend, trimGpuBufferPool, type BackendName } from '@clipwise/core';
import { groupReferencesByMr } from '@clipwise/data';
import { readE2ECsv } from '@clipwise/data/node';
import { Gpt2Model, Gpt2SubsetTokenizer } from '@clipwise/models';
import { loadPretrained } from '@clipwise/models/node';
import { DEMO_DATA, DEMO_MODEL, DEMO_SETTINGS } from '../src/commands/demo-settings';
import { e2eGenerationRequests } from '../src/train/evaluate';
import { greedyGenerateMany } from '../src/train/text-eval';

const assets = path.join(path.dirname(new URL(import.meta.url).pathname), '../assets');
const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    model: { type: 'string', default: path.join(assets, DEMO_MODEL) },
    data: { type: 'string', default: path.join(assets, DEMO_DATA, 'test.csv') },
    mrs: { type: 'string', default: '24' },
    batches: { type: 'string', default: '1,8,32' },
    tokens: { type: 'string', default: String(DEMO_SETTINGS['gen-tokens']) },
  },
  allowPositionals: true,
});
const choice = await setupBackend(values.backend as BackendName);
const model = await loadPretrained(values.model!);
if (!(model instanceof Gpt2Model)) throw new Error(`--model ${values.model}: not a GPT-2 folder`);
const tokenizer = new Gpt2SubsetTokenizer(JSON.parse(readFileSync(path.join(values.model!, 'tokenizer.json'), 'utf8')));
const mrs = [...groupReferencesByMr(await readE2ECsv(values.data!)).keys()].slice(0, Number(values.mrs));
const requests = e2eGenerationRequests(mrs, tokenizer, DEMO_SETTINGS['gen-copy-bias']);
const run = (batch: number, n = requests.length) =>
  greedyGenerateMany(model, requests.slice(0, n), Number(values.tokens), tokenizer.eotToken, {
    noRepeatNgram: DEMO_SETTINGS['gen-no-repeat-ngram'], batch, afterStep: () => trimGpuBufferPool(),
  });

console.log(`${choice.backend}: ${mrs.length} MRs of ${values.data}, ${values.tokens} tokens at most, model ${values.model}`);
console.log('| batch | seconds | MRs / s | texts as batch 1 |');
console.log('| ---: | ---: | ---: | --- |');
let first: number[][] | null = null;
for (const batch of values.batches!.split(',').map(Number)) {
  await run(batch, Math.min(batch, 2)); // warm-up: shaders, the pool
  const t0 = performance.now();
  const out = await run(batch);
  const s = (performance.now() - t0) / 1000;
  first ??= out;
  const same = out.every((g, i) => g.join() === first![i]!.join());
  console.log(`| ${batch} | ${s.toFixed(2)} | ${(mrs.length / s).toFixed(2)} | ${same ? 'same' : `differ in ${out.filter((g, i) => g.join() !== first![i]!.join()).length}`} |`);
}
model.dispose();
