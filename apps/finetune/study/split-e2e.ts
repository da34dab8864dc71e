// Writes the MR-disjoint training / validation split of the private E2E dev set (see mr-split.ts):
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/study/vitest.config.ts apps/finetune/study/split-e2e.ts -- DEVSET.csv OUT_DIR [VAL_FRACTION] [SEED]
// OUT_DIR/e2e-fit.csv (training) and OUT_DIR/e2e-val.csv (validation).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readE2ECsv } from '@clipwise/data/node';
import { e2eCsv, splitByMr } from './mr-split';
import { STUDY_SIZES } from './study-spec';

const args = process.argv.slice(2).filter((a) => a !== '--');
const [devset, outDir, fraction, seed] = args;
if (!devset || !outDir) {
  console.error('usage: split-e2e.ts DEVSET.csv OUT_DIR [VAL_FRACTION] [SEED]');
  process.exit(2);
}
const pairs = await readE2ECsv(devset);
const { train, val } = splitByMr(pairs, Number(fraction ?? STUDY_SIZES.gpt2.finetune.valFraction), Number(seed ?? 0));
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, 'e2e-fit.csv'), e2eCsv(train));
await writeFile(path.join(outDir, 'e2e-val.csv'), e2eCsv(val));
const mrs = (p: typeof pairs) => new Set(p.map((x) => x.mr)).size;
console.log(`${devset}: ${pairs.length} pairs -> e2e-fit.csv ${train.length} pairs (${mrs(train)} MRs), e2e-val.csv ${val.length} pairs (${mrs(val)} MRs)`);
