import { readFileSync } from 'node:fs';

/**
 * Where a JSON text is broken, for error messages that let a user open the file at the right place:
 * `JSON.parse` says "at position 1234" (or nothing at all for a truncated text), which is useless
 * in a 200 kB file.
 */

/** What is wrong with a JSON text and where (1-based line and column). */
export interface JsonSyntaxProblem {
  readonly reason: string;
  readonly line: number;
  readonly column: number;
}

/**
 * Locates the error `JSON.parse(text)` threw (`cause`): its reason without V8's position or echo of
 * the text, and the line and column where the text stops being JSON (found by {@link jsonErrorOffset}:
 * V8 gives no position for some errors, e.g. "Unexpected token ']'").
 */
export function jsonSyntaxProblem(text: string, cause: unknown): JsonSyntaxProblem {
  const message = cause instanceof Error ? cause.message : String(cause);
  const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/,\s*".*"(?:\.\.\.)?\s*is not valid JSON$/s, '');
  let offset = jsonErrorOffset(text);
  if (offset < 0) offset = Number(/at position (\d+)/.exec(message)?.[1] ?? text.length);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  const ended = offset >= text.length;
  return { reason: text.trim() === '' ? 'the text is empty' : ended ? 'the text ends before the JSON value is complete (truncated?)' : reason, line, column };
}

/**
 * The index of the first character at which `text` stops being JSON (RFC 8259): `text.length` when
 * it ends early, -1 when it is valid.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const at = (re: RegExp) => i < text.length && re.test(text[i]!);
  const ws = () => {
    while (at(/[ \t\n\r]/)) i++;
  };
  const digits = () => {
    if (!at(/[0-9]/)) fail();
    while (at(/[0-9]/)) i++;
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail();
      const c = text[i++];
      if (c === '"') return;
      if (c !== '\\') continue;
      if (at(/["\\/bfnrt]/)) i++;
      else if (text[i] === 'u') {
        i++;
        for (let k = 0; k < 4; k++) {
          if (!at(/[0-9a-fA-F]/)) fail();
          i++;
        }
      } else fail();
    }
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (at(/[eE]/)) {
      i++;
      if (at(/[+-]/)) i++;
      digits();
    }
  };
  const sequence = (close: string, item: () => void) => {
    i++; // the opening bracket
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ',') fail();
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      sequence('}', () => {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
      });
    } else if (c === '[') sequence(']', value);
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || at(/[0-9]/)) number();
    else fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return -1;
  } catch (offset) {
    if (typeof offset === 'number') return offset;
    if (offset instanceof RangeError) return -1; // nested too deep for this recursion: V8's position, if any
    throw offset;
  }
}

/** "REASON at line L, column C": a parse error of `text` for a message. */
export function describeJsonSyntaxError(text: string, cause: unknown): string {
  const p = jsonSyntaxProblem(text, cause);
  return `${p.reason} at line ${p.line}, column ${p.column}`;
}

/**
 * `JSON.parse(text)`, throwing `makeError("SOURCE: not valid JSON (REASON at line L, column C)")`
 * when it is not JSON.
 *
 * @example
 * ```ts
 * parseJsonText('{"a": 1,}', 'run.json'); // throws: run.json: not valid JSON (Expected double-quoted property name at line 1, column 9)
 * ```
 */
export function parseJsonText(text: string, source: string, makeError: (message: string) => Error = (m) => new Error(m)): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const error = makeError(`${source}: not valid JSON (${describeJsonSyntaxError(text, cause)})`);
    if (error.cause === undefined) error.cause = cause;
    throw error;
  }
}

/** `parseJsonText` of a file's text (read as UTF-8; a read error is thrown as it is). */
export function readJsonFile(file: string, makeError?: (message: string) => Error): unknown {
  return parseJsonText(readFileSync(file, 'utf8'), file, makeError);
}
