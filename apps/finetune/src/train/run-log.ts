import { existsSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { describeJsonSyntaxError } from '../json-text';
import { writeFileAtomic } from './atomic-write';
import { CheckpointError } from './checkpoint-error';

/**
 * An append-only JSONL file of objects with a `step` field. On resume it is cut back to the
 * checkpoint's step: the steps after it are redone, and must not appear twice.
 */
export class RunLog<T extends { step: number }> {
  constructor(readonly file: string) {}

  /** Starts afresh (step 0) or keeps the records up to `step`. */
  async reset(step: number): Promise<void> {
    const kept = step === 0 ? [] : this.read().filter((r) => r.step <= step);
    await writeFileAtomic(this.file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  append(record: T): Promise<void> {
    return appendFile(this.file, JSON.stringify(record) + '\n');
  }

  /**
   * The records. A last line without its newline that is not JSON is an append the process did not
   * finish: a step after the last checkpoint (which is saved after its step's record), which a
   * resume redoes, so it is left out. Any other line that is not JSON is an error naming it.
   */
  read(): T[] {
    if (!existsSync(this.file)) return [];
    const lines = readFileSync(this.file, 'utf8').split('\n');
    const records: T[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        records.push(JSON.parse(line) as T);
      } catch (e) {
        if (i === lines.length - 1) return;
        throw new CheckpointError(
          `${this.file}: line ${i + 1} is not valid JSON (${describeJsonSyntaxError(line, e).replace(/at line 1, /, 'at ')}). ` +
            `Fix: repair or delete that line (a deleted step is missing from the report's charts; ε comes from the checkpoint's ledger)`,
        );
      }
    });
    return records;
  }
}
