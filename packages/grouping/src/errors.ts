/**
 * The error every grouping failure throws. Its message names the bad value, what was expected and
 * how to fix it, so a CLI can print it as is.
 *
 * @example
 * try { resolveGrouping('uniform:0', params, { clipNorm: 1 }); }
 * catch (e) { if (e instanceof ClipwiseGroupingError) console.error(e.message); }
 */
export class ClipwiseGroupingError extends Error {
  override readonly name = 'ClipwiseGroupingError';

  constructor(message: string) {
    super(message);
    // Keeps `instanceof` working when the package is consumed as CJS transpiled to ES5-style classes.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Shows at most `max` names, then how many more, so a message stays readable for a 300-parameter model. */
export function listNames(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).map((n) => `'${n}'`);
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')}, … (${more} more)` : shown.join(', ');
}
