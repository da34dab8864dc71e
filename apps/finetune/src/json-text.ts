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

/** Locates the error `JSON.parse(text)` threw (`cause`): its reason without the position, and the line and column. */
export function jsonSyntaxProblem(text: string, cause: unknown): JsonSyntaxProblem {
  const message = cause instanceof Error ? cause.message : String(cause);
  const at = /\s*in JSON at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  // V8 gives no position for a text that ends early: the problem is at its end.
  const offset = at ? Number(at[1]) : text.length;
  let reason = at ? message.slice(0, at.index) + message.slice(at.index + at[0].length) : message;
  if (/^Unexpected end of JSON input/.test(reason)) {
    reason = text.trim() === '' ? 'the text is empty' : 'the text ends before the JSON value is complete (truncated?)';
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { reason, line, column };
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
