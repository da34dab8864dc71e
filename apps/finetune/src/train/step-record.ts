import type { DiagnosticsMode } from './train-config';

/** Per clipping group, what one step logged. */
export interface GroupRecord {
  group: string;
  /** The threshold C_m the step clipped with (private: fixed, or moved by released noisy counts). */
  threshold?: number;
  /** --thresholds adaptive: the released noisy unclipped fraction b̃_m that moved C_m (private). */
  unclippedFraction?: number;
  /** --diagnostics private or raw: the released noisy clip fraction (private, inside ε). */
  noisyClipFraction?: number;
  /** --diagnostics raw: exact fraction of samples clipped (NOT PRIVATE). */
  clipFraction?: number;
  /** --diagnostics raw: exact median per-sample norm (NOT PRIVATE). */
  medianNorm?: number;
  /** --diagnostics raw: exact largest per-sample norm (NOT PRIVATE). */
  maxNorm?: number;
}

/** One line of OUT/log.jsonl: what one training step did. */
export interface StepRecord {
  step: number;
  /**
   * Which diagnostics the record holds (`--diagnostics`): 'raw' records carry exact training
   * statistics that the (ε, δ) guarantee does not cover; 'private' ones only noisy releases.
   */
  diagnostics: DiagnosticsMode;
  /** --diagnostics raw: mean per-sample training loss over the realised batch (null for an empty Poisson batch); NOT PRIVATE. */
  loss?: number | null;
  batchSize: number;
  /** ε spent after this step (null for --no-dp). */
  epsilon: number | null;
  /** Per clipping group (empty for --no-dp); which fields are present follows `diagnostics`. */
  groups: GroupRecord[];
  stepMs: number;
}
