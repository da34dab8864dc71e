import { ClipwiseDataError } from '../errors.js';

/** A parsed CSV row with the 1-based line it starts on (for error messages). */
export interface CsvRow {
  readonly line: number;
  readonly fields: string[];
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
}

/**
 * Parses CSV text per RFC 4180: comma-separated fields, fields in double quotes may hold commas,
 * line breaks and doubled quotes (`""` → `"`); CRLF, LF or CR line ends; a leading UTF-8 BOM and
 * empty lines are skipped. A quote inside an unquoted field is kept as a literal character.
 *
 * @param source file name for error messages.
 * @example
 * ```ts
 * parseCsv('a,b\n"x, y","say ""hi"""\n', 'f.csv'); // [{ line: 1, fields: ['a','b'] }, { line: 2, fields: ['x, y', 'say "hi"'] }]
 * ```
 */
export function parseCsv(text: string, source: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  while (i < n) {
    // Skip empty lines.
    const c0 = text[i];
    if (c0 === '\n' || c0 === '\r') {
      i += c0 === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    const rowLine = line;
    const fields: string[] = [];
    for (;;) {
      let field: string;
      if (text[i] === '"') {
        const openLine = line;
        let value = '';
        let from = i + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q < 0) {
            throw new ClipwiseDataError(
              `${source}:${openLine}: quoted field never closed; a field starting with " must end with " (write a literal quote as "").`,
            );
          }
          value += text.slice(from, q);
          line += countNewlines(text, from, q);
          if (text[q + 1] === '"') {
            value += '"';
            from = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new ClipwiseDataError(
            `${source}:${line}: unexpected ${JSON.stringify(next)} after a closing quote; expected a comma or line end (write a literal quote inside quotes as "").`,
          );
        }
        field = value;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          j++;
        }
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      // Line end or end of text.
      if (text[i] === '\r') i += text[i + 1] === '\n' ? 2 : 1;
      else if (text[i] === '\n') i++;
      line++;
      break;
    }
    rows.push({ line: rowLine, fields });
  }
  return rows;
}
