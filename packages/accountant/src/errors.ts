/**
 * The one error type of `@clipwise/accountant`. Its message names the bad value, the valid range and
 * how to fix it, so a command-line user can act on it without reading the code. `argument`, when
 * set, is the name of the offending parameter (`sampleRate`, `delta`, ...), which the CLI maps to
 * its flag.
 *
 * @example
 * ```ts
 * try {
 *   new RdpAccountant().step(1.1, 1.5);
 * } catch (e) {
 *   if (e instanceof ClipwiseAccountantError) console.error(e.message);
 * }
 * ```
 */
export class ClipwiseAccountantError extends Error {
  override readonly name = 'ClipwiseAccountantError';
  readonly argument: string | undefined;

  constructor(message: string, options?: { argument?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.argument = options?.argument;
  }
}
