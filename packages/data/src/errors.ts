/**
 * The one error type of `@clipwise/data`. Its message names the bad value or file, what was
 * expected, and how to fix it.
 *
 * @example
 * ```ts
 * try {
 *   await readCifarBinary('missing.bin');
 * } catch (e) {
 *   if (e instanceof ClipwiseDataError) console.error(e.message);
 * }
 * ```
 */
export class ClipwiseDataError extends Error {
  override readonly name = 'ClipwiseDataError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Throws a ClipwiseDataError unless `value` is an integer in [min, max]. */
export function assertInteger(value: number, what: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ClipwiseDataError(`${what} must be an integer ${range}, got ${String(value)}; pass a whole number in that range.`);
  }
}
