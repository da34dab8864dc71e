import { ClipwiseAccountantError } from './errors';

// Every public entry point checks its numbers here, so messages read the same everywhere.

function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}

/** The Poisson sampling probability q of one step: a number in (0, 1]. */
export function checkSampleRate(value: unknown, argument = 'sampleRate'): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new ClipwiseAccountantError(
      `${argument} must be a number in (0, 1], got ${show(value)}; pass the probability that an example ` +
        'is in a batch (expected batch size / dataset size).',
      { argument },
    );
  }
  return value;
}

/** The noise multiplier σ (noise std / clipping norm): a finite number > 0. */
export function checkNoiseMultiplier(value: unknown, argument = 'noiseMultiplier'): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ClipwiseAccountantError(
      `${argument} must be a finite number > 0, got ${show(value)}; pass the ratio of the Gaussian noise ` +
        'standard deviation to the clipping norm (σ = 0 gives no privacy at all).',
      { argument },
    );
  }
  return value;
}

/** δ of an (ε, δ) guarantee: a number in (0, 1). */
export function checkDelta(value: unknown, argument = 'delta'): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new ClipwiseAccountantError(
      `${argument} must be a number in (0, 1), got ${show(value)}; a common choice is below 1 / dataset size, e.g. 1e-5.`,
      { argument },
    );
  }
  return value;
}

/** A count: an integer >= min, with a hint on what to pass. */
export function checkWhole(value: unknown, argument: string, min: number, hint: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ClipwiseAccountantError(`${argument} must be a whole number >= ${min}, got ${show(value)}; ${hint}`, { argument });
  }
  return value;
}

/** A count of steps: an integer >= min (0 by default). */
export function checkSteps(value: unknown, argument = 'steps', min = 0): number {
  return checkWhole(value, argument, min, 'pass the number of noisy steps (epochs × dataset size / batch size, rounded up).');
}

/** A target or tolerance that must be a finite number > 0. */
export function checkPositive(value: unknown, argument: string, hint: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ClipwiseAccountantError(`${argument} must be a finite number > 0, got ${show(value)}; ${hint}`, {
      argument,
    });
  }
  return value;
}
