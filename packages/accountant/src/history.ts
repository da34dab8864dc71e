import { ClipwiseAccountantError } from './errors';
import { checkNoiseMultiplier, checkSampleRate, checkSteps } from './validate';

/** `steps` consecutive steps of the Poisson-subsampled Gaussian mechanism at one (σ, q). */
export interface HistoryEntry {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/**
 * Appends `count` steps at (σ, q), merging with the last entry when it has the same σ and q, so a
 * million identical steps are one entry. `count` = 0 changes nothing. Mutates `history`.
 */
export function appendSteps(history: HistoryEntry[], noiseMultiplier: number, sampleRate: number, count = 1): void {
  checkNoiseMultiplier(noiseMultiplier);
  checkSampleRate(sampleRate);
  checkSteps(count, 'count');
  if (count === 0) return;
  const last = history[history.length - 1];
  if (last !== undefined && last.noiseMultiplier === noiseMultiplier && last.sampleRate === sampleRate) {
    last.steps += count;
    checkSteps(last.steps, 'steps');
  } else {
    history.push({ noiseMultiplier, sampleRate, steps: count });
  }
}

/** Total number of steps in a history. */
export function totalSteps(history: readonly HistoryEntry[]): number {
  let total = 0;
  for (const e of history) total += e.steps;
  return total;
}

/** Deep copy of a history. */
export function copyHistory(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history.map((e) => ({ noiseMultiplier: e.noiseMultiplier, sampleRate: e.sampleRate, steps: e.steps }));
}

/**
 * Checks that `value` is a history as stored in a ledger (an array of {noiseMultiplier, sampleRate,
 * steps} with steps >= 1) and returns a merged copy.
 */
export function parseHistory(value: unknown, argument = 'history'): HistoryEntry[] {
  if (!Array.isArray(value)) {
    throw new ClipwiseAccountantError(
      `${argument} must be an array of {noiseMultiplier, sampleRate, steps} entries, got ${JSON.stringify(value)}; ` +
        'pass [] for an accountant that has not stepped yet.',
      { argument },
    );
  }
  const out: HistoryEntry[] = [];
  value.forEach((entry: unknown, i) => {
    const where = `${argument}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ClipwiseAccountantError(
        `${where} must be an object {noiseMultiplier, sampleRate, steps}, got ${JSON.stringify(entry)}; fix or remove that entry.`,
        { argument },
      );
    }
    const e = entry as Record<string, unknown>;
    checkNoiseMultiplier(e.noiseMultiplier, `${where}.noiseMultiplier`);
    checkSampleRate(e.sampleRate, `${where}.sampleRate`);
    checkSteps(e.steps, `${where}.steps`, 1);
    appendSteps(out, e.noiseMultiplier as number, e.sampleRate as number, e.steps as number);
  });
  return out;
}
