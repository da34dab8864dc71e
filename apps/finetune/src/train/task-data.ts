import { existsSync, readdirSync, statSync } from 'node:fs';

import {
  readCifarBinary, readE2ECsv, readImageArchive, readImageFolder, readJsonlTexts, type E2EPair, type ImageDataset,
} from '@clipwise/data/node';
import { ByteTokenizer, Gpt2SubsetTokenizer, Gpt2Tokenizer, WordTokenizer, type Gpt2SubsetVocab, type Tokenizer, type WordVocab } from '@clipwise/models';
import { UsageError } from '../usage-error';
import { e2eTaskData, firstRows, textTaskData, type TaskData, type TaskKind } from './in-memory-task';
import type { TrainConfig } from './train-config';

export type { TaskData, TaskKind, TokenRows } from './in-memory-task';

/** The task from --task, else from the data path (.csv → e2e, .txt/.jsonl → text, folders/archives/.bin → images). */
export function inferTask(config: TrainConfig): TaskKind {
  if (config.task) return config.task;
  const p = config.data.toLowerCase();
  if (p.endsWith('.csv')) return 'e2e';
  if (p.endsWith('.txt') || p.endsWith('.jsonl')) return 'text';
  if (p.endsWith('.tar.gz') || p.endsWith('.tgz') || p.endsWith('.tar') || p.endsWith('.bin')) return 'images';
  if (existsSync(config.data) && statSync(config.data).isDirectory()) return 'images';
  if (config.model.startsWith('vit')) return 'images';
  throw new UsageError(`--task: cannot infer the task from --data ${config.data}; pass --task text, e2e or images`);
}

function requireFile(flag: string, file: string): void {
  if (!existsSync(file)) throw new UsageError(`--${flag} ${file}: no such file or directory`);
}

/** Keeps `limit` evenly spaced indices of `size` (images are ordered by class, so every class stays). */
export function spreadIndices(size: number, limit: number | undefined): number[] | null {
  if (limit === undefined || limit >= size) return null;
  return Array.from({ length: limit }, (_, i) => Math.floor((i * size) / limit));
}

export type TokenizerName = NonNullable<TrainConfig['tokenizer']>;
/** A saved vocabulary: a word tokenizer's or a GPT-2 subset's (checkpoint or model folder `tokenizer.json`). */
export type SavedVocab = WordVocab | Gpt2SubsetVocab;

/** The default size of a `gpt2-subset` vocabulary fitted without a "vocab_size" in --model-config. */
const GPT2_SUBSET_DEFAULT_VOCAB = 4096;

function makeTokenizer(name: TokenizerName, fitTexts: () => string[], config: TrainConfig, saved?: SavedVocab): Tokenizer {
  if (name === 'gpt2') return new Gpt2Tokenizer();
  if (name === 'byte') return new ByteTokenizer();
  if (name === 'gpt2-subset') {
    if (saved && 'gpt2Ids' in saved) return new Gpt2SubsetTokenizer(saved);
    // the vocabulary ships with the model: fitted on private data it would tell which tokens that data holds
    if (!config['no-dp']) throw new UsageError(`--tokenizer gpt2-subset needs a model folder with its tokenizer.json (fitted on public text) for a private run; fit one with a --no-dp run on public text`);
    const size = (config['model-config']?.vocab_size as number | undefined) ?? GPT2_SUBSET_DEFAULT_VOCAB;
    return Gpt2SubsetTokenizer.fit(fitTexts(), size);
  }
  if (saved && !('words' in saved)) throw new UsageError(`--tokenizer word, but the saved vocabulary is a gpt2-subset one; use --tokenizer gpt2-subset`);
  return saved ? new WordTokenizer(saved) : WordTokenizer.fit(fitTexts());
}

async function readTexts(file: string): Promise<string> {
  if (file.toLowerCase().endsWith('.jsonl')) return (await readJsonlTexts(file, { field: 'text' })).join('\n\n');
  const { readFile } = await import('node:fs/promises');
  return readFile(file, 'utf8');
}

async function readImages(file: string, split: 'train' | 'test', resizeTo: number, flag: string): Promise<ImageDataset | undefined> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz') || lower.endsWith('.tar')) return readImageArchive(file, { split, resizeTo });
  if (lower.endsWith('.bin')) return split === 'train' || flag === 'eval-data' ? readCifarBinary(file) : undefined;
  if (!statSync(file).isDirectory()) throw new UsageError(`--${flag} ${file}: expected an image folder, a .tar.gz archive or CIFAR .bin data`);
  const entries = readdirSync(file);
  if (entries.some((e) => e.endsWith('.bin') || e === 'cifar-10-batches-bin' || e === 'cifar-100-binary')) return readCifarBinary(file, { split });
  if (entries.includes('train') || entries.includes('test')) {
    return entries.includes(split) ? readImageFolder(file, { split, resizeTo }) : undefined;
  }
  return split === 'train' || flag === 'eval-data' ? readImageFolder(file, { resizeTo }) : undefined;
}

/**
 * Loads the training (and evaluation) data of the task. E2E: prompt/completion rows with the loss on
 * the reference; text: blocks of --seq-len tokens; images: an `ImageDataset` (eval defaults to the
 * 'test' split of the same folder or archive when it has one).
 */
export async function loadTaskData(config: TrainConfig, task: TaskKind, tokenizerName: TokenizerName, imageSize: number, savedVocab?: SavedVocab): Promise<TaskData> {
  requireFile('data', config.data);
  if (config['eval-data']) requireFile('eval-data', config['eval-data']);
  const t = config['seq-len'];
  if (task === 'e2e') {
    let train: E2EPair[] = await readE2ECsv(config.data);
    if (config.limit !== undefined) train = train.slice(0, config.limit);
    const evalPairs = config['eval-data'] ? await readE2ECsv(config['eval-data']) : undefined;
    const evalKept = evalPairs && config['eval-limit'] !== undefined ? evalPairs.slice(0, config['eval-limit']) : evalPairs;
    const tokenizer = makeTokenizer(tokenizerName, () => train.flatMap((p) => [p.mr, p.ref]), config, savedVocab);
    return e2eTaskData({
      train, eval: evalKept, tokenizer, tokenizerName, seqLen: t,
      tooShort: (split, err) => new UsageError(`--seq-len ${t} is too short for --${split === 'train' ? 'data' : 'eval-data'}: ${err.message}`),
    });
  }
  if (task === 'text') {
    const text = await readTexts(config.data);
    const evalFile = config['eval-data'];
    const task = textTaskData({
      text, evalText: evalFile ? await readTexts(evalFile) : undefined, tokenizer: makeTokenizer(tokenizerName, () => [text], config, savedVocab), tokenizerName, seqLen: t,
      tooShort: (split, err) => new UsageError(`${split === 'train' ? `--data ${config.data}` : `--eval-data ${evalFile}`}: ${err.message.replace('blockLength', '--seq-len')}`),
    });
    return { ...task, train: firstRows(task.train, config.limit), eval: task.eval && firstRows(task.eval, config['eval-limit']) };
  }
  let train = await readImages(config.data, 'train', imageSize, 'data');
  if (!train) throw new UsageError(`--data ${config.data}: no 'train' split found`);
  let evalSet = config['eval-data'] ? await readImages(config['eval-data'], 'test', imageSize, 'eval-data') : await readImages(config.data, 'test', imageSize, 'data');
  const keep = spreadIndices(train.size, config.limit);
  if (keep) train = train.subset(keep);
  const keepEval = evalSet ? spreadIndices(evalSet.size, config['eval-limit']) : null;
  if (evalSet && keepEval) evalSet = evalSet.subset(keepEval);
  return { kind: 'images', train, eval: evalSet };
}

export function datasetSize(data: TaskData): number {
  return data.kind === 'images' ? data.train.size : data.train.n;
}

