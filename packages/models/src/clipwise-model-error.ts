/**
 * Error thrown by `@clipwise/models` when a checkpoint, tensor, token id or model input is not what
 * the code expects. The message names the offending file or tensor, what was expected, and how to
 * fix it; `cause` carries the underlying error (for example an `ENOENT` from `fs`) where there is one.
 *
 * @example
 * ```ts
 * import { openSafetensors, ClipwiseModelError } from '@clipwise/models';
 * try {
 *   await openSafetensors('missing.safetensors');
 * } catch (err) {
 *   if (err instanceof ClipwiseModelError) console.error(err.message);
 *   else throw err;
 * }
 * ```
 */
export class ClipwiseModelError extends Error {
  override readonly name: string = 'ClipwiseModelError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
