import { ClipwiseAccountantError } from '../errors';

// Argument checks shared by the audit statistics, so their messages read the same everywhere.

export function checkAtMost(value: number, argument: string, limit: number, limitName: string): void {
  if (value > limit) {
    throw new ClipwiseAccountantError(`${argument} = ${value} cannot exceed ${limitName} = ${limit}.`, { argument });
  }
}

/** A confidence level 1 - β in (0, 1), e.g. 0.95. */
export function checkConfidence(value: unknown, argument = 'confidence'): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new ClipwiseAccountantError(
      `${argument} must be a number in (0, 1), got ${String(value)}; 0.95 reports a bound that holds with probability 95%.`,
      { argument },
    );
  }
  return value;
}

/** δ of the null hypothesis: [0, 1) (0 tests pure ε-DP). */
export function checkAuditDelta(value: unknown, argument = 'delta'): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ClipwiseAccountantError(
      `${argument} must be a number in [0, 1), got ${String(value)}; pass the δ of the guarantee being audited, e.g. 1e-5.`,
      { argument },
    );
  }
  return value;
}
