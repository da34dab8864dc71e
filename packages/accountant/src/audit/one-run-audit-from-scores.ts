import { ClipwiseAccountantError } from '../errors';
import { checkAuditDelta, checkConfidence } from './audit-checks';
import { checkWhole } from '../validate';
import { oneRunEpsilonLowerBound } from './one-run';

export interface OneRunAuditOptions {
  /** One membership score per canary: higher means "more likely trained on". */
  readonly scores: ArrayLike<number>;
  /** The truth: whether each canary was in the training data (each by a fair coin flip). */
  readonly included: ArrayLike<boolean>;
  /**
   * Numbers of guesses r to try, each as ⌈r/2⌉ "in" guesses on the top scores and ⌊r/2⌋ "out"
   * guesses on the bottom ones (abstaining in between). Fixed before looking at the truth; the
   * confidence is split across them (Bonferroni). Default: m/10, m/4, m/2 and m, rounded.
   */
  readonly guessCounts?: readonly number[];
  /** δ of the guarantee being audited (default 0). */
  readonly delta?: number;
  /** Overall confidence (default 0.95). */
  readonly confidence?: number;
}

export interface OneRunAuditAttempt {
  readonly guesses: number;
  readonly correct: number;
  /** Lower bound at confidence 1 - β / (number of attempts). */
  readonly epsilonLowerBound: number;
}

export interface OneRunAuditResult {
  /** The largest bound over the attempts; holds with probability `confidence` overall. */
  readonly epsilonLowerBound: number;
  /** The attempt that gave it. */
  readonly best: OneRunAuditAttempt;
  readonly attempts: readonly OneRunAuditAttempt[];
  readonly canaries: number;
  readonly confidence: number;
  readonly delta: number;
}

/** Default guess counts for m canaries: m/10, m/4, m/2, m (each at least 1, duplicates dropped). */
export function defaultGuessCounts(m: number): number[] {
  return [...new Set([0.1, 0.25, 0.5, 1].map((f) => Math.max(1, Math.round(f * m))))];
}

/**
 * Turns canary scores into one-run audit guesses and the ε lower bound (Steinke, Nasr & Jagielski
 * 2023): rank the canaries by score (ties by index, so the ranking never looks at the truth), guess
 * "in" for the top and "out" for the bottom, count the correct guesses and bound ε with
 * `oneRunEpsilonLowerBound`. Several guess counts are tried with the error β split evenly
 * between them, so the best of them is still a valid bound at `confidence`.
 *
 * @example
 * ```ts
 * const audit = oneRunAuditFromScores({ scores, included, delta: 1e-5 });
 * audit.epsilonLowerBound; // compare with the accountant's ε
 * ```
 */
export function oneRunAuditFromScores(options: OneRunAuditOptions): OneRunAuditResult {
  const { scores, included } = options;
  const m = scores.length;
  checkWhole(m, 'scores.length', 1, 'pass one score per canary.');
  if (included.length !== m) {
    throw new ClipwiseAccountantError(`included has ${included.length} entries but scores has ${m}; pass one of each per canary.`, {
      argument: 'included',
    });
  }
  for (let i = 0; i < m; i++) {
    if (Number.isNaN(scores[i])) {
      throw new ClipwiseAccountantError(`scores[${i}] is NaN; every canary needs a comparable score.`, { argument: 'scores' });
    }
  }
  const delta = checkAuditDelta(options.delta ?? 0);
  const confidence = checkConfidence(options.confidence ?? 0.95);
  const counts = options.guessCounts ?? defaultGuessCounts(m);
  if (counts.length === 0) {
    throw new ClipwiseAccountantError('guessCounts is empty; pass at least one number of guesses (or leave it out).', {
      argument: 'guessCounts',
    });
  }
  for (const r of counts) {
    checkWhole(r, 'guessCounts[]', 1, `each number of guesses must be in 1..${m} (the number of canaries).`);
    if (r > m) {
      throw new ClipwiseAccountantError(`guessCounts has ${r}, more than the ${m} canaries.`, { argument: 'guessCounts' });
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const perAttempt = 1 - (1 - confidence) / counts.length;
  const attempts = counts.map((r) => {
    const inGuesses = Math.ceil(r / 2);
    const outGuesses = r - inGuesses;
    let correct = 0;
    for (let k = 0; k < inGuesses; k++) if (included[order[k]!]) correct++;
    for (let k = m - outGuesses; k < m; k++) if (!included[order[k]!]) correct++;
    const epsilonLowerBound = oneRunEpsilonLowerBound({ canaries: m, guesses: r, correct, delta, confidence: perAttempt });
    return { guesses: r, correct, epsilonLowerBound };
  });
  const best = attempts.reduce((a, b) => (b.epsilonLowerBound > a.epsilonLowerBound ? b : a));
  return { epsilonLowerBound: best.epsilonLowerBound, best, attempts, canaries: m, confidence, delta };
}
