/**
 * Several Gaussian mechanisms run on the same Poisson batch in one step (the noisy gradient and,
 * with adaptive clipping, the noisy unclipped counts) are together one Gaussian mechanism: scale
 * each part by its noise standard deviation and the outputs are N(f/σ_i, I) with a joint L2
 * sensitivity `μ = sqrt(Σ_i (Δ_i/σ_i)²)`. Its noise multiplier `σ_eff = 1/μ` is what the accountant
 * must be given for the step (Dong, Roth, Su 2019: μ_i-GDP mechanisms compose to sqrt(Σ μ_i²)-GDP;
 * Andrew et al. 2021, Theorem 1, for one gradient and one count).
 */
import { ClipwiseAccountantError } from './errors';
import { checkNoiseMultiplier, checkPositive } from './validate';

/** One Gaussian release: its L2 sensitivity Δ and the standard deviation σ of the noise added. */
export interface GaussianRelease {
  readonly sensitivity: number;
  readonly noiseStd: number;
}

/**
 * The noise multiplier of the single Gaussian mechanism equivalent to `releases` run together on the
 * same batch: `σ_eff = (Σ_i (Δ_i/σ_i)²)^(-1/2)`.
 *
 * @example
 * ```ts
 * // gradient: sensitivity S = 1, noise 1.2·S; 4 group counts: sensitivity sqrt(4)/2 = 1, noise 12.8 each
 * composedNoiseMultiplier([{ sensitivity: 1, noiseStd: 1.2 }, { sensitivity: 1, noiseStd: 12.8 }]); // 1.1948…
 * ```
 */
export function composedNoiseMultiplier(releases: readonly GaussianRelease[]): number {
  if (!Array.isArray(releases) || releases.length === 0) {
    throw new ClipwiseAccountantError('releases is empty; pass at least one { sensitivity, noiseStd }.', { argument: 'releases' });
  }
  let mu2 = 0;
  releases.forEach((r, i) => {
    if (!(r?.sensitivity >= 0) || !Number.isFinite(r.sensitivity)) {
      throw new ClipwiseAccountantError(`releases[${i}].sensitivity must be a finite number ≥ 0, got ${r?.sensitivity}.`, { argument: 'releases' });
    }
    if (!(r.noiseStd > 0) || !Number.isFinite(r.noiseStd)) {
      throw new ClipwiseAccountantError(
        `releases[${i}].noiseStd must be a finite number > 0, got ${r.noiseStd}; a release without noise has no privacy.`,
        { argument: 'releases' },
      );
    }
    mu2 += (r.sensitivity / r.noiseStd) ** 2;
  });
  if (mu2 === 0) throw new ClipwiseAccountantError('every release has sensitivity 0; nothing is released about the data.', { argument: 'releases' });
  return 1 / Math.sqrt(mu2);
}

export interface GradientNoiseOptions {
  /** σ_eff: the noise multiplier the whole step must have (what the accountant is given). */
  readonly effectiveNoiseMultiplier: number;
  /** σ_b: standard deviation of the noise on each released count. */
  readonly countNoise: number;
  /** L2 sensitivity of the count vector (`sqrt(M)/2` for M centred per-group counts). */
  readonly countSensitivity: number;
}

/**
 * The gradient's noise multiplier σ such that the gradient (noise σ·S, sensitivity S) and the counts
 * (noise σ_b, sensitivity Δ_b) together are one Gaussian mechanism of noise multiplier σ_eff:
 * `σ_eff^-2 = σ^-2 + (Δ_b/σ_b)²`, so `σ = (σ_eff^-2 − (Δ_b/σ_b)²)^(-1/2)` (Andrew et al. 2021,
 * Theorem 1, with `Δ_b = 1/2` for one centred count: `σ = (σ_eff^-2 − (2σ_b)^-2)^(-1/2)`). The counts take part of the budget, so σ > σ_eff; as σ_b → ∞,
 * σ → σ_eff. Throws when the counts alone already spend the budget (`σ_b ≤ Δ_b·σ_eff`).
 *
 * @example
 * ```ts
 * gradientNoiseMultiplier({ effectiveNoiseMultiplier: 1, countNoise: 12.8, countSensitivity: 0.5 }); // 1.000764…
 * ```
 */
export function gradientNoiseMultiplier(options: GradientNoiseOptions): number {
  const sigmaEff = checkNoiseMultiplier(options.effectiveNoiseMultiplier, 'effectiveNoiseMultiplier');
  const { countNoise, countSensitivity } = options;
  checkPositive(countNoise, 'countNoise', 'the released counts need noise to be private.');
  checkPositive(countSensitivity, 'countSensitivity', 'the L2 sensitivity of the released counts (sqrt(M)/2 for M centred counts).');
  const left = sigmaEff ** -2 - (countSensitivity / countNoise) ** 2;
  if (!(left > 0)) {
    const minimum = countSensitivity * sigmaEff;
    throw new ClipwiseAccountantError(
      `countNoise σ_b = ${countNoise} is too small for the step's noise multiplier σ_eff = ${sigmaEff}: the counts alone ` +
        `(sensitivity ${countSensitivity}) have noise multiplier σ_b/Δ_b = ${countNoise / countSensitivity} ≤ σ_eff, so no gradient ` +
        `noise can keep the step at σ_eff. Raise countNoise well above Δ_b·σ_eff = ${minimum} (e.g. ${(4 * minimum).toPrecision(3)}), ` +
        'or accept a larger ε (smaller σ_eff).',
      { argument: 'countNoise' },
    );
  }
  return 1 / Math.sqrt(left);
}
