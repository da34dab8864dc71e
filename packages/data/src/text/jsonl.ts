import { ClipwiseDataError } from '../errors.js';
import type { PromptCompletion } from './tokenizer.js';

/** A parsed JSONL record and its 1-based line number. */
export interface JsonlRecord {
  readonly line: number;
  readonly value: unknown;
}

/**
 * Parses JSON Lines (one JSON value per line, jsonlines.org); blank lines are skipped. A line that
 * is not valid JSON throws a ClipwiseDataError naming the file and line.
 *
 * @param source file name for error messages.
 * @example
 * ```ts
 * parseJsonl('{"text": "a"}\n{"text": "b"}\n', 'x.jsonl'); // [{ line: 1, value: { text: 'a' } }, { line: 2, ... }]
 * ```
 */
export function parseJsonl(text: string, source: string): JsonlRecord[] {
  const records: JsonlRecord[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i === 0 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line.trim() === '') return;
    try {
      records.push({ line: i + 1, value: JSON.parse(line) });
    } catch (cause) {
      const snippet = line.length > 60 ? `${line.slice(0, 60)}…` : line;
      throw new ClipwiseDataError(
        `${source}:${i + 1}: invalid JSON (${(cause as Error).message}) in ${JSON.stringify(snippet)}; ` +
          `each line must be one complete JSON object, e.g. {"text": "..."}.`,
        { cause },
      );
    }
  });
  return records;
}

function stringField(record: JsonlRecord, field: string, source: string): string {
  const value = record.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClipwiseDataError(`${source}:${record.line}: expected a JSON object with a "${field}" field, got ${JSON.stringify(value)?.slice(0, 60)}.`);
  }
  const field_ = (value as Record<string, unknown>)[field];
  if (typeof field_ !== 'string') {
    const keys = Object.keys(value).join(', ');
    throw new ClipwiseDataError(
      `${source}:${record.line}: field "${field}" is ${field_ === undefined ? 'missing' : `a ${typeof field_}, not a string`} ` +
        `(keys: ${keys}); pass the right field name in the options.`,
    );
  }
  return field_;
}

/** The `field` string of every record (default 'text'). See {@link readJsonlTexts}. */
export function jsonlTexts(records: readonly JsonlRecord[], source: string, field = 'text'): string[] {
  return records.map((r) => stringField(r, field, source));
}

/** Prompt/completion pairs of every record. See {@link readJsonlPromptCompletions}. */
export function jsonlPromptCompletions(
  records: readonly JsonlRecord[],
  source: string,
  fields: { promptField?: string; completionField?: string } = {},
): PromptCompletion[] {
  return records.map((r) => ({
    prompt: stringField(r, fields.promptField ?? 'prompt', source),
    completion: stringField(r, fields.completionField ?? 'completion', source),
  }));
}
