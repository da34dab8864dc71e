import { ClipwiseDataError } from '../errors.js';
import { parseCsv } from './csv.js';

/** One E2E NLG example: a meaning representation and one human reference text. */
export interface E2EPair {
  /** Meaning representation, e.g. `name[Alimentum], area[city centre], familyFriendly[no]`. */
  readonly mr: string;
  /** A reference realisation, e.g. `Alimentum is not family-friendly, in the city centre.` */
  readonly ref: string;
}

/**
 * Parses E2E NLG Challenge CSV (Novikova et al. 2017; tuetschek/e2e-dataset): a header row naming
 * the columns `mr` and `ref` (any order, case-insensitive), then one (mr, ref) pair per row, RFC 4180
 * quoting. Surrounding whitespace of both fields is trimmed.
 *
 * @param source file name for error messages.
 * @example
 * ```ts
 * parseE2ECsv('mr,ref\n"name[X], food[Thai]",X serves Thai food.\n', 'dev.csv');
 * // [{ mr: 'name[X], food[Thai]', ref: 'X serves Thai food.' }]
 * ```
 */
export function parseE2ECsv(text: string, source: string): E2EPair[] {
  const rows = parseCsv(text, source);
  if (rows.length === 0) throw new ClipwiseDataError(`${source}: empty file; expected a header row "mr,ref" and one pair per row.`);
  const header = rows[0].fields.map((h) => h.trim().toLowerCase());
  const mrColumn = header.indexOf('mr');
  const refColumn = header.indexOf('ref');
  if (mrColumn < 0 || refColumn < 0) {
    throw new ClipwiseDataError(
      `${source}:1: header ${JSON.stringify(rows[0].fields)} lacks an "mr" or "ref" column; the first row must name them, e.g. mr,ref.`,
    );
  }
  return rows.slice(1).map(({ line, fields }) => {
    if (fields.length !== header.length) {
      throw new ClipwiseDataError(
        `${source}:${line}: row has ${fields.length} fields but the header has ${header.length}; quote fields that contain commas ("a, b").`,
      );
    }
    return { mr: fields[mrColumn].trim(), ref: fields[refColumn].trim() };
  });
}
