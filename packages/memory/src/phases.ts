/**
 * The phases of one training step, in the order they first run. Norms and clipped sums run inside
 * backward (as each layer's record arrives, and as each group closes); a probe attributes each
 * moment to the innermost phase running.
 */
export const STEP_PHASES = ['forward', 'backward', 'norms', 'clipped-sums', 'noise', 'update'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];
