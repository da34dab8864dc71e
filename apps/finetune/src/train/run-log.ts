import { existsSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write';

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

  read(): T[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as T);
  }
}
