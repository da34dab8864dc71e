/** One line of OUT/log.jsonl: what one training step did. */
export interface StepRecord {
  step: number;
  /** Mean per-sample loss over the realised batch (null for an empty Poisson batch). */
  loss: number | null;
  batchSize: number;
  /** ε spent after this step (null for --no-dp). */
  epsilon: number | null;
  /**
   * Per clipping group: fraction of samples clipped, median per-sample norm and the threshold C_m the
   * step clipped with (empty for --no-dp). With --thresholds adaptive also the released noisy
   * unclipped fraction b̃_m that moved C_m.
   */
  groups: { group: string; clipFraction: number; medianNorm: number; threshold?: number; unclippedFraction?: number }[];
  stepMs: number;
}
