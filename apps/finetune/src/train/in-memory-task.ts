import { ClipwiseDataError, encodeE2E, groupReferencesByMr, textToBlocks, type E2EPair, type ImageDataset } from '@clipwise/data';
import type { Tokenizer } from '@clipwise/models';

// Browser-safe (no file access): the CLI's `loadTaskData` and the web example (apps/web) both build the
// language-model tasks from data in memory here, so a file dropped on the page trains on the same rows as
// the same file given to `clipwise train --data`.

export type TaskKind = 'text' | 'e2e' | 'images';

/** Token rows for a language model: ids [n × t] and the mask of the positions that are targets. */
export interface TokenRows {
  readonly inputIds: Int32Array;
  readonly labelMask: Uint8Array;
  readonly n: number;
  readonly t: number;
}

export type TaskData =
  | { kind: 'e2e' | 'text'; train: TokenRows; eval?: TokenRows; tokenizer: Tokenizer; tokenizerName: 'gpt2' | 'byte' | 'word' | 'gpt2-subset'; evalRefs?: Map<string, string[]> }
  | { kind: 'images'; train: ImageDataset; eval?: ImageDataset };

/** What `e2eTaskData` encodes; `seqLen` is the row length (every row is padded to it). */
/** The first `limit` rows (all without a limit). */
export function firstRows(rows: TokenRows, limit: number | undefined): TokenRows {
  if (limit === undefined || limit >= rows.n) return rows;
  return { ...rows, n: limit, inputIds: rows.inputIds.slice(0, limit * rows.t), labelMask: rows.labelMask.slice(0, limit * rows.t) };
}

export interface E2ETaskInput {
  readonly train: readonly E2EPair[];
  readonly eval?: readonly E2EPair[];
  readonly tokenizer: Tokenizer;
  readonly tokenizerName: 'gpt2' | 'byte' | 'word' | 'gpt2-subset';
  readonly seqLen: number;
  /** The error to throw when a pair does not fit `seqLen` (default: the data package's own). */
  readonly tooShort?: (split: 'train' | 'eval', cause: Error) => Error;
}

/**
 * The E2E task: prompt/completion rows of `seqLen` tokens with the loss on the reference only, and the
 * evaluation pairs' references grouped by MR (for BLEU / ROUGE-L).
 *
 * @example
 * ```ts
 * const task = e2eTaskData({ train: parseE2ECsv(text, 'train.csv'), tokenizer: new ByteTokenizer(), tokenizerName: 'byte', seqLen: 256 });
 * ```
 */
export function e2eTaskData(input: E2ETaskInput): Extract<TaskData, { kind: 'e2e' | 'text' }> {
  const encode = (pairs: readonly E2EPair[], split: 'train' | 'eval'): TokenRows => {
    try {
      const e = encodeE2E(pairs, input.tokenizer, { maxLength: input.seqLen, padTo: 'maxLength' });
      return { inputIds: e.inputIds, labelMask: e.labelMask, n: e.numExamples, t: e.seqLength };
    } catch (err) {
      throw input.tooShort ? input.tooShort(split, err as Error) : err;
    }
  };
  return {
    kind: 'e2e', tokenizer: input.tokenizer, tokenizerName: input.tokenizerName,
    train: encode(input.train, 'train'),
    eval: input.eval ? encode(input.eval, 'eval') : undefined,
    evalRefs: input.eval ? groupReferencesByMr(input.eval) : undefined,
  };
}

/** What `textTaskData` cuts into blocks. */
export interface TextTaskInput {
  readonly text: string;
  readonly evalText?: string;
  readonly tokenizer: Tokenizer;
  readonly tokenizerName: 'gpt2' | 'byte' | 'word' | 'gpt2-subset';
  /** Block length in tokens. */
  readonly seqLen: number;
  /** The error to throw when a text is shorter than one block (default: the data package's own). */
  readonly tooShort?: (split: 'train' | 'eval', cause: Error) => Error;
}

/**
 * The text task: each text cut into blocks of `seqLen` tokens, every position a target.
 *
 * @example
 * ```ts
 * const task = textTaskData({ text: shakespeare, tokenizer: new ByteTokenizer(), tokenizerName: 'byte', seqLen: 128 });
 * ```
 */
export function textTaskData(input: TextTaskInput): Extract<TaskData, { kind: 'e2e' | 'text' }> {
  const rows = (text: string, split: 'train' | 'eval'): TokenRows => {
    let blocks;
    try {
      blocks = textToBlocks(text, input.tokenizer, { blockLength: input.seqLen }); // throws for less than one block
    } catch (err) {
      if (!(err instanceof ClipwiseDataError) || !input.tooShort) throw err;
      throw input.tooShort(split, err);
    }
    return { inputIds: blocks.inputIds, labelMask: new Uint8Array(blocks.inputIds.length).fill(1), n: blocks.numBlocks, t: blocks.blockLength };
  };
  return {
    kind: 'text', tokenizer: input.tokenizer, tokenizerName: input.tokenizerName,
    train: rows(input.text, 'train'),
    eval: input.evalText !== undefined ? rows(input.evalText, 'eval') : undefined,
  };
}
