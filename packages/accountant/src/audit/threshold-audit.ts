import { checkAtMost, checkAuditDelta, checkConfidence } from './audit-checks';
import { checkWhole } from '../validate';
import { clopperPearsonLower, clopperPearsonUpper } from './clopper-pearson';

/** A membership test's confusion counts: canaries trained on (positives) and held out (negatives). */
export interface ThresholdTestCounts {
  /** Trained-on canaries the test flagged as members. */
  readonly truePositives: number;
  /** Trained-on canaries. */
  readonly positives: number;
  /** Held-out canaries the test flagged as members. */
  readonly falsePositives: number;
  /** Held-out canaries. */
  readonly negatives: number;
}

export interface ThresholdBoundOptions extends ThresholdTestCounts {
  /** δ of the guarantee being audited (default 0). */
  readonly delta?: number;
  /** Joint confidence of the two Clopper–Pearson bounds (default 0.95; each gets half the error). */
  readonly confidence?: number;
}

export interface ThresholdBound {
  /** max(0, ln((TPR_lb - δ) / FPR_ub), ln((1 - FPR_ub - δ) / (1 - TPR_lb))). */
  readonly epsilonLowerBound: number;
  /** Clopper–Pearson lower bound on the true-positive rate. */
  readonly tprLower: number;
  /** Clopper–Pearson upper bound on the false-positive rate. */
  readonly fprUpper: number;
}

/**
 * ε lower bound from a threshold membership test (Jagielski, Ullman & Oprea 2020; Nasr et al. 2021):
 * an (ε, δ)-DP mechanism forces TPR <= e^ε FPR + δ and TNR <= e^ε FNR + δ for every test. The
 * rates are replaced by one-sided Clopper–Pearson bounds (TPR from below, FPR from above, each at
 * level β/2), so the bound holds with probability `confidence`.
 *
 * The trials must be independent: one canary per training run, repeated over many runs, or a
 * threshold fixed before the runs. Canaries that share one run are not independent trials; for
 * them use `oneRunEpsilonLowerBound`, whose analysis covers that case.
 *
 * @example
 * ```ts
 * // 1000 runs with the canary, 1000 without; the test flagged 900 and 50 of them.
 * thresholdEpsilonLowerBound({ truePositives: 900, positives: 1000, falsePositives: 50, negatives: 1000 }).epsilonLowerBound; // ≈ 2.6
 * ```
 */
export function thresholdEpsilonLowerBound(options: ThresholdBoundOptions): ThresholdBound {
  const hint = 'pass the confusion counts of the test on trained-on (positives) and held-out (negatives) canaries.';
  const positives = checkWhole(options.positives, 'positives', 1, hint);
  const negatives = checkWhole(options.negatives, 'negatives', 1, hint);
  const tp = checkWhole(options.truePositives, 'truePositives', 0, hint);
  const fp = checkWhole(options.falsePositives, 'falsePositives', 0, hint);
  checkAtMost(tp, 'truePositives', positives, 'positives');
  checkAtMost(fp, 'falsePositives', negatives, 'negatives');
  const delta = checkAuditDelta(options.delta ?? 0);
  const beta = 1 - checkConfidence(options.confidence ?? 0.95);
  const tprLower = clopperPearsonLower(tp, positives, beta / 2);
  const fprUpper = clopperPearsonUpper(fp, negatives, beta / 2);
  const ratio = (num: number, den: number): number => (num > 0 && den > 0 ? Math.log(num / den) : -Infinity);
  const epsilonLowerBound = Math.max(0, ratio(tprLower - delta, fprUpper), ratio(1 - fprUpper - delta, 1 - tprLower));
  return { epsilonLowerBound, tprLower, fprUpper };
}
