// Empirical privacy auditing: lower bounds on ε from membership guesses on canaries.
export { oneRunPValue, oneRunEpsilonLowerBound } from './one-run';
export type { OneRunOutcome, OneRunPValueOptions, OneRunBoundOptions } from './one-run';
export { clopperPearsonLower, clopperPearsonUpper } from './clopper-pearson';
export { thresholdEpsilonLowerBound } from './threshold-audit';
export type { ThresholdBound, ThresholdBoundOptions, ThresholdTestCounts } from './threshold-audit';
export { oneRunAuditFromScores, defaultGuessCounts } from './one-run-audit-from-scores';
export type { OneRunAuditAttempt, OneRunAuditOptions, OneRunAuditResult } from './one-run-audit-from-scores';
export { binomialUpperTail, binomialLowerTail } from './binomial';
