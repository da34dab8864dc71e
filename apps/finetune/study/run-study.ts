// The study runner (issue 19): for each size × grouping × ε × lr × seed of the chosen grid, one
// private fine-tuning run (run-cell.ts, a process each), appended to the results JSONL as it
// finishes; a rerun skips the cells already there, so a cut GPU session loses one cell at most.
// Each size also gets one `clipwise bench` (measured and predicted peak, step time per grouping).
//   node node_modules/vite-node/vite-node.mjs --config apps/finetune/study/vitest.config.ts apps/finetune/study/run-study.ts -- \
//     --family gpt2 --sizes s1m,s12m --data DATA --models MODELS --runs RUNS --results study.jsonl --backend webgpu
// (`npm run study -- ...` is the same.) --dry-run lists the pending cells and their commands.
// --seeds-at-pick: seeds other than 0 run only at the lr that seed 0 picked on validation (5 runs a
// size, grouping and ε instead of 9 at three lrs), once seed 0 has run every lr.
// --new-head (ViT): every cell starts a fresh classifier (the class-disjoint transfer task, whose private
// classes the pre-trained head never saw; prepare-data.sh with VIT_TASK=transfer).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { expectedCellSeconds, fitsBeforeDeadline } from './cell-time';
import { benchedSizes, finishedKeys, OUTCOME_PREFIX, parseResults, type BenchRecord, type CellOutcome, type CellRecord } from './study-results';
import { cellsAtPickedLr } from './study-summary';
import { cellKey, enumerateCells, pendingCells, STUDY_SIZES, trainArgs, type Cell, type Family, type RunSettings } from './study-spec';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const VITE_NODE = [path.join(ROOT, 'node_modules/vite-node/vite-node.mjs'), '--config', path.join(HERE, 'vitest.config.ts')];

const list = (s: string | undefined) => s?.split(',').filter(Boolean);
const numbers = (s: string | undefined) => list(s)?.map(Number);

const { values: o } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    family: { type: 'string' }, sizes: { type: 'string' }, groupings: { type: 'string' }, epsilons: { type: 'string' },
    lrs: { type: 'string' }, seeds: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
    data: { type: 'string' }, models: { type: 'string' }, runs: { type: 'string' }, results: { type: 'string' },
    backend: { type: 'string', default: 'webgpu' }, threads: { type: 'string' }, limit: { type: 'string' },
    'val-limit': { type: 'string' }, 'test-limit': { type: 'string' }, 'gen-limit': { type: 'string' },
    jobs: { type: 'string', default: '1' }, 'bench-reps': { type: 'string', default: '3' }, 'no-bench': { type: 'boolean' },
    'keep-checkpoints': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, 'stop-after-min': { type: 'string' },
    'seeds-at-pick': { type: 'boolean' }, 'new-head': { type: 'boolean' },
  },
});
const need = (name: keyof typeof o) => {
  const v = o[name];
  if (typeof v !== 'string' || v === '') throw new Error(`run-study: --${name} is required`);
  return v;
};
const family = need('family') as Family;
if (!STUDY_SIZES[family]) throw new Error(`run-study: --family must be gpt2 or vit, got ${family}`);
const fam = STUDY_SIZES[family];
const [dataDir, modelsDir, runsDir, resultsFile] = [need('data'), need('models'), need('runs'), need('results')];
const run: RunSettings = {
  backend: o.backend!,
  threads: o.threads === undefined ? undefined : Number(o.threads),
  limit: o.limit === undefined ? undefined : Number(o.limit),
  valLimit: o['val-limit'] === undefined ? undefined : Number(o['val-limit']),
  newHead: o['new-head'] === true,
};
if (run.newHead && family !== 'vit') throw new Error('run-study: --new-head is for --family vit (the class-disjoint transfer task)');
const sizes = list(need('sizes'))!;
const cells = enumerateCells({
  family, sizes, groupings: list(o.groupings), epsilons: numbers(o.epsilons), lrs: numbers(o.lrs), seeds: numbers(o.seeds),
  steps: o.steps === undefined ? undefined : Number(o.steps), batch: o.batch === undefined ? undefined : Number(o.batch),
});

/** Where each family's prepared data is (prepare-data.sh writes these names). */
const DATA_FILES: Record<Family, { train: string; val: string; test: string }> = {
  gpt2: { train: 'e2e-fit.csv', val: 'e2e-val.csv', test: 'e2e-test.csv' },
  vit: { train: 'cifar-private-fit.tar.gz', val: 'cifar-private-val.tar.gz', test: 'cifar-private.tar.gz' },
};
const files = DATA_FILES[family];
const modelDir = (size: string) => path.join(modelsDir, `${family}-${size}`);
const runDir = (c: Cell) => path.join(runsDir, cellKey(c).replace(/\//g, '_'));
const testLimit = o['test-limit'] ?? String(fam.finetune.evalLimit);
const genLimit = family === 'gpt2' ? (o['gen-limit'] ?? String(fam.finetune.genLimit ?? 0)) : '0';

function cellCommand(c: Cell): string[] {
  const args = trainArgs(c, { model: modelDir(c.size), train: path.join(dataDir, files.train), val: path.join(dataDir, files.val), out: runDir(c) }, run);
  return [...VITE_NODE, path.join(HERE, 'run-cell.ts'), '--', '--test-data', path.join(dataDir, files.test), '--test-limit', testLimit, '--gen-limit', genLimit, '--', ...args];
}

/** Runs `node ARGS`, its output teed to LOG; resolves to the exit status and the output. */
function runNode(args: string[], log: string): Promise<{ rc: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (b: Buffer) => {
      output += b.toString();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', async (rc) => {
      await appendFile(log, output);
      resolve({ rc: rc ?? 1, output });
    });
  });
}

/** The first 16 hex digits of the SHA-256 of a size's pre-trained weights: which pre-training a cell started from. */
const baseModelHashes = new Map<string, string>();
async function baseModelHash(size: string): Promise<string> {
  if (!baseModelHashes.has(size)) baseModelHashes.set(size, createHash('sha256').update(await readFile(path.join(modelDir(size), 'model.safetensors'))).digest('hex').slice(0, 16));
  return baseModelHashes.get(size)!;
}

async function runCell(c: Cell): Promise<void> {
  const dir = runDir(c);
  await rm(dir, { recursive: true, force: true }); // a cut run of this cell: start it again
  await mkdir(dir, { recursive: true });
  const args = cellCommand(c);
  const started = Date.now();
  const { rc, output } = await runNode(args, path.join(dir, 'cell.log'));
  const line = output.split('\n').find((l) => l.startsWith(OUTCOME_PREFIX));
  if (rc !== 0 || !line) {
    console.log(`FAILED ${cellKey(c)} (exit ${rc}; see ${path.join(dir, 'cell.log')})`);
    return;
  }
  const outcome = JSON.parse(line.slice(OUTCOME_PREFIX.length)) as CellOutcome;
  const cellSeconds = Math.round((Date.now() - started) / 100) / 10;
  const record: CellRecord = {
    kind: 'cell', key: cellKey(c), ...c, ...outcome, baseModel: await baseModelHash(c.size), args: args.slice(args.indexOf('train')), cellSeconds, concurrentJobs: jobs,
  };
  records.push(record);
  await appendFile(resultsFile, JSON.stringify(record) + '\n');
  if (!o['keep-checkpoints']) await rm(path.join(dir, 'checkpoint'), { recursive: true, force: true });
  const t = outcome.test;
  console.log(`done ${cellKey(c)} in ${cellSeconds.toFixed(0)} s: val loss ${outcome.val.loss.toFixed(4)}${outcome.valStart ? ` (step 0: ${outcome.valStart.loss.toFixed(4)})` : ''}, test loss ${t.loss.toFixed(4)}` +
    `${t.accuracy !== undefined ? ` acc ${(100 * t.accuracy).toFixed(1)}%` : ''}${t.bleu !== undefined ? ` BLEU ${(100 * t.bleu).toFixed(2)} ROUGE-L ${(100 * t.rougeL!).toFixed(2)}` : ''}`);
}

/** `clipwise bench` at the size's fine-tuning shape (its physical batch), once per size. */
async function benchSize(size: string): Promise<void> {
  const spec = fam.sizes[size]!;
  const json = path.join(runsDir, `bench-${family}-${size}.json`);
  const args = [
    'bench', '--model', spec.preset, '--model-config', JSON.stringify(spec.config), '--batch-size', String(Math.min(spec.physicalBatch, cells[0]!.batch)),
    '--groupings', 'all-layer,layer-wise,uniform:4', '--reps', o['bench-reps']!, '--backend', run.backend, '--json', json,
    ...(fam.seqLen ? ['--seq-len', String(fam.seqLen)] : []), ...(run.threads ? ['--threads', String(run.threads)] : []),
  ];
  const { rc } = await runNode([...VITE_NODE, path.join(HERE, '../bench/run-cli.ts'), '--', ...args], path.join(runsDir, `bench-${family}-${size}.log`));
  if (rc !== 0 || !existsSync(json)) {
    console.log(`FAILED bench of ${family}/${size} (exit ${rc})`);
    return;
  }
  const rows = (JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown>[]).map((r) => ({
    grouping: String(r.grouping), stepMs: Number(r.stepMs), peakBytes: Number(r.peakBytes), predictedPeakBytes: typeof r.predictedPeakBytes === 'number' ? r.predictedPeakBytes : null,
  }));
  const record: BenchRecord = { kind: 'bench', family, size, backend: run.backend, batch: Number(args[args.indexOf('--batch-size') + 1]), seqLen: fam.seqLen ?? null, rows, args };
  await appendFile(resultsFile, JSON.stringify(record) + '\n');
  console.log(`bench ${family}/${size}: ${rows.map((r) => `${r.grouping} ${(r.peakBytes / 2 ** 20).toFixed(1)} MiB`).join(', ')}`);
}

const started = Date.now();
const records = existsSync(resultsFile) ? parseResults(readFileSync(resultsFile, 'utf8'), resultsFile) : [];
// --seeds-at-pick: seeds other than 0 only at the lr seed 0 picked on validation (cellsAtPickedLr)
const chosen = o['seeds-at-pick'] ? cellsAtPickedLr(cells, records) : { cells, waiting: 0 };
const todo = pendingCells(chosen.cells, finishedKeys(records));
const toBench = o['no-bench'] ? [] : sizes.filter((s) => !benchedSizes(records).has(`${family}/${s}`));
console.log(`${chosen.cells.length} cells in the grid, ${chosen.cells.length - todo.length} already in ${resultsFile}, ${todo.length} to run; ${toBench.length} sizes to bench` +
  (o['seeds-at-pick'] ? ` (seeds at seed 0's pick: ${cells.length - chosen.cells.length - chosen.waiting} at other lrs left out, ${chosen.waiting} waiting for seed 0's grid)` : ''));
if (o['dry-run']) {
  for (const c of todo) console.log(`${cellKey(c)}\n  node ${cellCommand(c).join(' ')}`);
  process.exit(0);
}
const jobs = Math.min(Math.max(1, Number(o.jobs)), ...sizes.map((s) => STUDY_SIZES[family].sizes[s]!.maxJobs ?? Infinity));
if (jobs < Number(o.jobs)) console.log(`--jobs ${o.jobs} capped to ${jobs} (sizes.json maxJobs: what fits the GPU's memory at once)`);
for (const size of sizes) if (!existsSync(path.join(modelDir(size), 'config.json'))) throw new Error(`run-study: no pre-trained model in ${modelDir(size)} (run study/pretrain-${family}.sh ${size} first)`);
await mkdir(runsDir, { recursive: true });
for (const size of toBench) await benchSize(size);
// --jobs N cells at once (the H200 ran six small runs at once); one queue, appended as each ends.
// --stop-after-min: no cell starts after that (a device command may run 10 minutes at most), nor one
// that the cells of its size already finished at this concurrency say would end after it (cell-time.ts).
const deadline = o['stop-after-min'] === undefined ? Infinity : started + Number(o['stop-after-min']) * 60_000;
const queue = [...todo];
await Promise.all(Array.from({ length: jobs }, async () => {
  for (;;) {
    // the first queued cell that would end in time (a smaller size's may, where a larger one's would not)
    const k = queue.findIndex((c) => fitsBeforeDeadline(Date.now(), deadline, expectedCellSeconds(records, family, c.size, jobs)));
    if (k < 0) break;
    await runCell(queue.splice(k, 1)[0]!);
  }
}));
if (queue.length) {
  const expected = expectedCellSeconds(records, family, queue[0]!.size, jobs);
  console.log(`stopped (--stop-after-min ${o['stop-after-min']}${expected === null ? '' : `; a ${queue[0]!.size} cell takes up to ${expected.toFixed(0)} s here`}): ${queue.length} cells left; run the same command again to continue`);
}
