import { ClipwiseAccountantError } from '../errors';
import { checkAtMost, checkAuditDelta, checkConfidence } from './audit-checks';
import { checkPositive, checkWhole } from '../validate';
import { binomialLogPmf, binomialUpperTail } from './binomial';

/** The outcome of a one-run audit's guessing game. */
export interface OneRunOutcome {
  /** m: canaries, each included in training independently with probability 1/2. */
  readonly canaries: number;
  /** r: guesses made (canaries the auditor did not abstain on), r <= m. */
  readonly guesses: number;
  /** v: correct guesses, v <= r. */
  readonly correct: number;
}

export interface OneRunPValueOptions extends OneRunOutcome {
  /** ε of the null hypothesis "the training run is (ε, δ)-DP". */
  readonly epsilon: number;
  /** δ of the null hypothesis (default 0). */
  readonly delta?: number;
}

function checkOutcome(o: OneRunOutcome): void {
  const hint = 'pass the counts of the audit (canaries m, guesses r <= m, correct v <= r).';
  checkWhole(o.canaries, 'canaries', 1, hint);
  checkWhole(o.guesses, 'guesses', 0, hint);
  checkWhole(o.correct, 'correct', 0, hint);
  checkAtMost(o.guesses, 'guesses', o.canaries, 'canaries');
  checkAtMost(o.correct, 'correct', o.guesses, 'guesses');
}

/** e^ε / (1 + e^ε): the accuracy of ε-DP randomised response, the best any ε-DP guess can do. */
function rrAccuracy(epsilon: number): number {
  return 1 / (1 + Math.exp(-epsilon));
}

function pValue(m: number, r: number, v: number, epsilon: number, delta: number): number {
  const q = rrAccuracy(epsilon);
  const tail = binomialUpperTail(v, r, q); // P[W >= v], W ~ Binomial(r, q)
  if (delta === 0 || v === 0) return Math.min(1, tail);
  // α = max_{1<=i<=v} P[v - i <= W < v] / i; i > v adds no mass and only grows the divisor.
  let alpha = 0;
  let mass = 0;
  for (let i = 1; i <= v; i++) {
    mass += Math.exp(binomialLogPmf(v - i, r, q));
    if (mass > i * alpha) alpha = mass / i;
  }
  return Math.min(1, tail + 2 * m * delta * alpha);
}

/**
 * The p-value of a one-run audit (Steinke, Nasr & Jagielski, "Privacy Auditing with One (1)
 * Training Run", NeurIPS 2023, Theorem 5.2 / Corollary 5.4): the probability, were the training
 * run (ε, δ)-DP with respect to each canary, of `correct` or more right guesses out of `guesses`:
 *
 *   P[W >= v] + 2 m δ · max_{1<=i<=v} P[v - i <= W < v] / i,   W ~ Binomial(r, e^ε / (1 + e^ε)).
 *
 * With δ = 0 this is the binomial tail: an ε-DP run cannot beat randomised response.
 *
 * @example
 * ```ts
 * oneRunPValue({ canaries: 1000, guesses: 100, correct: 75, epsilon: 0.5, delta: 1e-4 }); // 0.0146
 * ```
 */
export function oneRunPValue(options: OneRunPValueOptions): number {
  checkOutcome(options);
  const delta = checkAuditDelta(options.delta ?? 0);
  const { epsilon } = options;
  if (typeof epsilon !== 'number' || !(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new ClipwiseAccountantError(`epsilon must be a finite number >= 0, got ${String(epsilon)}.`, { argument: 'epsilon' });
  }
  return pValue(options.canaries, options.guesses, options.correct, epsilon, delta);
}

export interface OneRunBoundOptions extends OneRunOutcome {
  /** δ of the guarantee being audited (default 0). */
  readonly delta?: number;
  /** 1 - β (default 0.95): the bound holds with this probability over the canaries' coin flips. */
  readonly confidence?: number;
  /** Bisection stops when the bracket on ε is narrower than this (default 1e-6). */
  readonly tolerance?: number;
}

/** ε searched up to here; a run with all of r <= 10⁷ guesses right stays far below it at any useful confidence. */
const EPSILON_CEILING = 60;

/**
 * The one-run audit's lower bound on ε: the largest ε (to `tolerance`, rounded down) at which the
 * null hypothesis "(ε, δ)-DP" is rejected at level β = 1 - confidence, i.e. `oneRunPValue < β`.
 * Rejecting at ε also rejects every smaller ε (an ε'-DP run with ε' < ε is ε-DP), so with probability
 * at least `confidence` the run is not (ε_lb, δ)-DP unless its true ε is >= ε_lb. 0 when nothing is
 * rejected. Bisection as the paper's Appendix D, to a tolerance rather than a fixed step count.
 *
 * @example
 * ```ts
 * oneRunEpsilonLowerBound({ canaries: 1000, guesses: 100, correct: 75, delta: 1e-4, confidence: 0.95 }); // 0.673 (Appendix D)
 * ```
 */
export function oneRunEpsilonLowerBound(options: OneRunBoundOptions): number {
  checkOutcome(options);
  const delta = checkAuditDelta(options.delta ?? 0);
  const beta = 1 - checkConfidence(options.confidence ?? 0.95);
  const tolerance = options.tolerance ?? 1e-6;
  checkPositive(tolerance, 'tolerance', 'the bisection stops when ε is known to within it.');
  const { canaries: m, guesses: r, correct: v } = options;
  const rejects = (eps: number): boolean => pValue(m, r, v, eps, delta) < beta;
  if (!rejects(0)) return 0;
  let lo = 0;
  let hi = 1;
  while (rejects(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > EPSILON_CEILING) return lo;
  }
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    if (rejects(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
