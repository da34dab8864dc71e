import { ClipwiseAccountantError } from '../errors';
import { checkAtMost } from './audit-checks';
import { checkWhole } from '../validate';
import { binomialLowerTail, binomialUpperTail } from './binomial';

function checkAlpha(alpha: unknown): number {
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1)) {
    throw new ClipwiseAccountantError(`alpha must be a number in (0, 1), got ${String(alpha)}; 0.05 gives a 95% one-sided bound.`, {
      argument: 'alpha',
    });
  }
  return alpha;
}

function checkTrials(successes: number, trials: number): void {
  checkWhole(trials, 'trials', 1, 'pass the number of independent trials.');
  checkWhole(successes, 'successes', 0, 'pass how many of the trials succeeded.');
  checkAtMost(successes, 'successes', trials, 'trials');
}

/**
 * Bisection on p in [0, 1] for where a monotone tail crosses alpha: `above(p)` is false at 0 and true
 * at 1. Returns the bracket after 60 halvings (width 1e-18, below a double's resolution near 1).
 */
function bracket(above: (p: number) => boolean): { lo: number; hi: number } {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (above(mid)) hi = mid;
    else lo = mid;
  }
  return { lo, hi };
}

/**
 * One-sided Clopper–Pearson upper confidence bound on a success probability p from `successes` out
 * of `trials` (Clopper & Pearson 1934): the p at which P[Binomial(n, p) <= k] = alpha, so p lies
 * below it with probability at least 1 - alpha. 1 when every trial succeeded. Rounded up.
 *
 * @example
 * ```ts
 * clopperPearsonUpper(0, 100, 0.05); // 1 - 0.05^(1/100) = 0.0295
 * ```
 */
export function clopperPearsonUpper(successes: number, trials: number, alpha: number): number {
  checkTrials(successes, trials);
  checkAlpha(alpha);
  if (successes === trials) return 1;
  // P[X <= k] falls as p grows: the bound is where it drops below alpha.
  return bracket((p) => binomialLowerTail(successes, trials, p) < alpha).hi;
}

/**
 * One-sided Clopper–Pearson lower confidence bound: the p at which P[Binomial(n, p) >= k] = alpha.
 * 0 when no trial succeeded. Rounded down.
 *
 * @example
 * ```ts
 * clopperPearsonLower(100, 100, 0.05); // 0.05^(1/100) = 0.9705
 * ```
 */
export function clopperPearsonLower(successes: number, trials: number, alpha: number): number {
  checkTrials(successes, trials);
  checkAlpha(alpha);
  if (successes === 0) return 0;
  // P[X >= k] grows with p: the bound is the last p where it is still at most alpha.
  return bracket((p) => binomialUpperTail(successes, trials, p) > alpha).lo;
}
