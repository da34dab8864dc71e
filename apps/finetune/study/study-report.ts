// The study's table and plot from its results file (or files, comma-separated: e.g. one call's sizes
// beside another's; a size whose runs come from more than one pre-training is warned about):
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/study/vitest.config.ts apps/finetune/study/study-report.ts -- \
//     --results study.jsonl --family gpt2 [--sizes s1m,s12m,s88m] [--groupings ...] [--epsilons 3,8] [--steps N --batch B] \
//     [--seeds-planned 3] --md table.md --html plot.html [--title TEXT]
// First a line per (size, ε) at a glance (study-table.ts's studyGlance), then the table; after it each
// grouping's test score minus all-layer's, seed by seed (study-paired.ts), then seed 0 of every grouping
// at each lr (study-same-lr.ts).
// Defaults: the grid (sizes.json's sizes without the pilots, the four groupings, ε 3 and 8, the
// family's step budget). The lr of each (size, grouping, ε) is picked on validation; a value that no
// finished run gives is printed as missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseResults } from './study-results';
import { STUDY_EPSILONS, STUDY_GROUPINGS, STUDY_SEEDS, STUDY_SIZES, type Family } from './study-spec';
import { summarize } from './study-summary';
import { studyPlotHtml } from './study-plot';
import { studyGlance, studyTable } from './study-table';
import { pairedGapTable, pairedGaps } from './study-paired';
import { sameLrTable } from './study-same-lr';

const { values: o } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    results: { type: 'string' }, family: { type: 'string' }, sizes: { type: 'string' }, groupings: { type: 'string' }, epsilons: { type: 'string' },
    steps: { type: 'string' }, batch: { type: 'string' }, 'seeds-planned': { type: 'string' }, md: { type: 'string' }, html: { type: 'string' }, title: { type: 'string' },
  },
});
if (!o.results || !o.family || !(o.family in STUDY_SIZES)) throw new Error('study-report: --results FILE and --family gpt2|vit are required');
const family = o.family as Family;
const fam = STUDY_SIZES[family];
const list = (s: string | undefined) => s?.split(',').filter(Boolean);
const want = {
  family,
  sizes: list(o.sizes) ?? Object.keys(fam.sizes).filter((s) => !s.startsWith('pilot')),
  groupings: list(o.groupings) ?? [...STUDY_GROUPINGS],
  epsilons: list(o.epsilons)?.map(Number) ?? [...STUDY_EPSILONS],
  steps: Number(o.steps ?? fam.finetune.steps),
  batch: Number(o.batch ?? fam.finetune.batch),
  // a pick is provisional until the size's whole planned grid has run
  lrGrids: Object.fromEntries(Object.entries(fam.sizes).map(([size, spec]) => [size, spec.lrs])),
};
const files = list(o.results)!;
const records = files.flatMap((f) => parseResults(readFileSync(f, 'utf8'), f));
const rows = summarize(records, want);
const title = o.title ?? `Group-wise clipping study: ${family === 'gpt2' ? 'GPT-2 on E2E' : 'ViT on CIFAR-10'}`;
const note = `${want.steps} private steps of expected batch ${want.batch} per run, δ = 1e-5, Poisson sampling; lr picked per (size, grouping, ε) on the validation split, test metrics of that lr over seeds (mean ± sd). From ${files.join(' and ')}.`;
const paired = `Each grouping against all-layer, paired by seed (same data order and noise seed), each at its own picked lr:\n\n${pairedGapTable(pairedGaps(records, rows, want), family)}`;
const sameLr = `Seed 0 of every grouping at the same lr (validation / test ${family === 'vit' ? 'accuracy, %' : 'loss'}), the like-for-like view:\n\n${sameLrTable(records, want)}`;
const glance = `At a glance: each grouping's test ${family === 'vit' ? 'accuracy' : 'loss'} at its pick, and its bench row (measured / predicted peak, step time):\n\n${studyGlance(rows)}`;
const table = `${glance}\n${studyTable(rows, Number(o['seeds-planned'] ?? STUDY_SEEDS.length))}\n${paired}\n${sameLr}`;
if (o.md) writeFileSync(o.md, `${note}\n\n${table}`);
else console.log(table);
if (o.html) writeFileSync(o.html, studyPlotHtml(title, note, rows));
