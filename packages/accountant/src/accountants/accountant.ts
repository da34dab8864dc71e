/**
 * The interface every privacy accountant implements (like Opacus' `IAccountant`): a history of
 * Poisson-subsampled Gaussian steps, ε at a given δ, and a JSON ledger so a checkpointed run
 * resumes without forgetting the privacy it already spent.
 */
import { ClipwiseAccountantError } from '../errors';
import { appendSteps, copyHistory, totalSteps, type HistoryEntry } from '../history';
import { checkDelta } from '../validate';

/**
 * How batches were drawn. 'poisson': each example independently with probability q, which is what
 * every accountant here analyses. 'shuffle': fixed-size batches from a shuffled dataset, accounted
 * with the same Poisson analysis but labelled, because that is NOT a proven guarantee for
 * shuffling (Chua et al., "How Private are DP-SGD Implementations?", ICML 2024, show the true ε of
 * shuffled batches can be far larger).
 */
export type SamplingScheme = 'poisson' | 'shuffle';

export const SHUFFLE_CAVEAT =
  "sampling is 'shuffle' (fixed-size shuffled batches) but ε is computed with the Poisson-subsampling " +
  'analysis; this is not a proven guarantee for shuffled batches, whose true ε can be larger (Chua et al., ICML 2024). ' +
  'Use Poisson sampling for a guarantee.';

export interface AccountantOptions {
  /** How batches are drawn; 'poisson' (default) or 'shuffle' (flagged in every report). */
  sampling?: SamplingScheme;
}

/** What an accountant reports; accountants add their own details (best order, error bounds, μ). */
export interface PrivacySpent {
  /** Registry name of the accountant ('rdp', 'prv', 'gdp', ...). */
  accountant: string;
  /** The ε to report: an upper bound for 'rdp' and 'prv', an approximation for 'gdp'. */
  epsilon: number;
  delta: number;
  /** Total steps accounted for. */
  steps: number;
  sampling: SamplingScheme;
  /** True when ε is an approximation rather than a guarantee (GDP's CLT). */
  approximate: boolean;
  /** Human-readable warnings: shuffle sampling, approximations, an order at the end of the grid. */
  caveats: string[];
}

/**
 * The serialised state of an accountant, version 1:
 * `{"version": 1, "accountant": "rdp", "sampling": "poisson", "history": [{noiseMultiplier, sampleRate, steps}], "options"?: {...}}`.
 * Numbers survive JSON exactly (shortest round-trip form), so a restored accountant reports the
 * identical ε.
 */
export interface AccountantLedger {
  version: 1;
  accountant: string;
  sampling: SamplingScheme;
  history: HistoryEntry[];
  options?: Record<string, unknown>;
}

export interface PrivacyAccountant<Spent extends PrivacySpent = PrivacySpent> {
  /** Registry name: 'rdp', 'prv', 'gdp' or a registered custom one. */
  readonly mechanism: string;
  readonly sampling: SamplingScheme;
  /** Steps so far, consecutive equal (σ, q) merged into one entry. */
  readonly history: readonly HistoryEntry[];
  /** Total steps so far. */
  readonly steps: number;
  /** Records `count` steps with noise multiplier σ and Poisson sampling rate q. Returns this. */
  step(noiseMultiplier: number, sampleRate: number, count?: number): this;
  /** ε spent so far at this δ (the guarantee; for 'prv' the upper bound). */
  epsilon(delta: number): number;
  /** ε with details: best order, error bounds, caveats. */
  getPrivacySpent(delta: number): Spent;
  /** The ledger: plain JSON data; pass it to the class's static fromJSON or to `accountantFromLedger`. */
  toJSON(): AccountantLedger;
}

export function checkSampling(value: unknown, argument = 'sampling'): SamplingScheme {
  if (value === undefined) return 'poisson';
  if (value !== 'poisson' && value !== 'shuffle') {
    throw new ClipwiseAccountantError(
      `${argument} must be 'poisson' or 'shuffle', got ${JSON.stringify(value)}; use 'poisson' unless batches are fixed-size shuffles.`,
      { argument },
    );
  }
  return value;
}

/** History, sampling label and ledger plumbing shared by the built-in accountants. */
export abstract class BaseAccountant<Spent extends PrivacySpent = PrivacySpent> implements PrivacyAccountant<Spent> {
  abstract readonly mechanism: string;
  readonly sampling: SamplingScheme;
  protected readonly entries: HistoryEntry[] = [];
  /** Bumped on every change, so subclasses can cache derived results. */
  protected revision = 0;

  constructor(options: AccountantOptions = {}) {
    this.sampling = checkSampling(options.sampling);
  }

  get history(): readonly HistoryEntry[] {
    return copyHistory(this.entries);
  }

  get steps(): number {
    return totalSteps(this.entries);
  }

  step(noiseMultiplier: number, sampleRate: number, count = 1): this {
    appendSteps(this.entries, noiseMultiplier, sampleRate, count);
    this.revision++;
    return this;
  }

  epsilon(delta: number): number {
    return this.getPrivacySpent(delta).epsilon;
  }

  abstract getPrivacySpent(delta: number): Spent;

  toJSON(): AccountantLedger {
    const options = this.ledgerOptions();
    const ledger: AccountantLedger = {
      version: 1,
      accountant: this.mechanism,
      sampling: this.sampling,
      history: copyHistory(this.entries),
    };
    if (options !== undefined) ledger.options = options;
    return ledger;
  }

  /** Accountant-specific options worth saving (only non-defaults); undefined for none. */
  protected ledgerOptions(): Record<string, unknown> | undefined {
    return undefined;
  }

  /** Restores a history read from a ledger (already validated). */
  protected restore(history: readonly HistoryEntry[]): this {
    for (const e of history) appendSteps(this.entries, e.noiseMultiplier, e.sampleRate, e.steps);
    this.revision++;
    return this;
  }

  /** The fields every report shares. */
  protected baseSpent(delta: number, epsilon: number, approximate: boolean, caveats: string[]): PrivacySpent {
    checkDelta(delta);
    const all = this.sampling === 'shuffle' ? [SHUFFLE_CAVEAT, ...caveats] : caveats;
    return {
      accountant: this.mechanism,
      epsilon,
      delta,
      steps: this.steps,
      sampling: this.sampling,
      approximate,
      caveats: all,
    };
  }
}
