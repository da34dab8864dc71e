import { parseE2ECsv, type E2EPair } from '@clipwise/data';
import { e2eTaskData, firstRows, textTaskData, type TaskData } from '@clipwise/finetune/browser';
import type { Tokenizer } from '@clipwise/models';
import type { TrainingData } from './protocol';

/** Share of a dropped file held out for the evaluation before and after (a dropped file has no test split). */
export const HELD_OUT_FRACTION = 0.1;

/** A language-model task, with the prompt of the generation shown before and after training. */
export type PageTask = Extract<TaskData, { kind: 'e2e' | 'text' }> & { readonly prompt: string };

/** Bad input from the page (an unreadable or too small file): shown to the user as it is. */
export class TrainingDataError extends Error {
  override name = 'TrainingDataError';
}

function parsePairs(text: string, name: string): E2EPair[] {
  try {
    return parseE2ECsv(text, name);
  } catch (e) {
    throw new TrainingDataError((e as Error).message);
  }
}

/**
 * The task of the page's data. The shipped sample trains on train.csv and evaluates on test.csv, as
 * `clipwise demo` does; a dropped `.csv` (E2E columns `mr,ref`) or text file keeps its last 10% for
 * evaluation. Evaluation uses the first `evalLimit` held-out examples; the generation prompts with
 * the first held-out MR (E2E) or the first 64 characters of the held-out text.
 */
export function taskFromData(data: TrainingData, tokenizer: Tokenizer, seqLen: number, evalLimit: number): PageTask {
  const tooShort = (split: 'train' | 'eval', cause: Error) =>
    new TrainingDataError(`${data.kind === 'file' ? data.name : 'the sample'}, ${split === 'train' ? 'training' : 'held-out'} part: ${cause.message}`);
  if (data.kind === 'sample' || data.name.toLowerCase().endsWith('.csv')) {
    let train: E2EPair[];
    let held: E2EPair[];
    if (data.kind === 'sample') {
      train = parsePairs(data.trainCsv, 'train.csv');
      held = parsePairs(data.testCsv, 'test.csv');
    } else {
      const pairs = parsePairs(data.text, data.name);
      if (pairs.length < 2) throw new TrainingDataError(`${data.name}: ${pairs.length} (mr, ref) rows; need at least 2 (one to train on, one held out)`);
      const cut = pairs.length - Math.max(1, Math.round(pairs.length * HELD_OUT_FRACTION));
      [train, held] = [pairs.slice(0, cut), pairs.slice(cut)];
    }
    const task = e2eTaskData({ train, eval: held.slice(0, evalLimit), tokenizer, tokenizerName: 'byte', seqLen, tooShort });
    return { ...task, prompt: held[0]!.mr };
  }
  const text = data.text;
  const cut = Math.floor(text.length * (1 - HELD_OUT_FRACTION));
  const task = textTaskData({ text: text.slice(0, cut), evalText: text.slice(cut), tokenizer, tokenizerName: 'byte', seqLen, tooShort });
  return { ...task, eval: firstRows(task.eval!, evalLimit), prompt: text.slice(cut, cut + 64) };
}
