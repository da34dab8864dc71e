import { readFile } from 'node:fs/promises';
import { ClipwiseDataError } from '../errors.js';
import { parseE2ECsv, type E2EPair } from '../text/e2e-csv.js';

/**
 * Reads an E2E CSV file (`devset.csv`, `testset_w_refs.csv`, `trainset.csv`). See {@link parseE2ECsv}.
 *
 * @example
 * ```ts
 * const dev = await readE2ECsv('../shared/data/e2e/devset.csv'); // 4672 pairs
 * ```
 */
export async function readE2ECsv(file: string): Promise<E2EPair[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ClipwiseDataError(`${file}: cannot read E2E CSV (${(cause as Error).message}); check the path.`, { cause });
  }
  return parseE2ECsv(text, file);
}
