/** One line of OUT/log.jsonl: what one training step did. */
export interface StepRecord {
  step: number;
  /** Mean per-sample loss over the realised batch (null for an empty Poisson batch). */
  loss: number | null;
  batchSize: number;
  /** ε spent after this step (null for --no-dp). */
  epsilon: number | null;
  /** Per clipping group: fraction of samples clipped and median per-sample norm (empty for --no-dp). */
  groups: { group: string; clipFraction: number; medianNorm: number }[];
  stepMs: number;
}
