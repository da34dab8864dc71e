import { describe, expect, it } from 'vitest';
import { PrvAccountant } from './accountants/prv-accountant';
import { RdpAccountant } from './accountants/rdp-accountant';
import { gdpEpsilon } from './analysis/gdp';
import { DEFAULT_RDP_ORDERS } from './analysis/rdp-orders';
import { rdpToEpsilon } from './analysis/rdp-conversion';
import { composedNoiseMultiplier, gradientNoiseMultiplier } from './gaussian-composition';

/**
 * One step of group-wise clipping with adaptive thresholds, written out coordinate block by block:
 * the gradient (sensitivity S = sqrt(Σ C_m²), noise σ·S) and M centred counts (each coordinate
 * sensitivity ½, noise σ_b). Returns μ² = Σ_blocks (Δ/σ)² of the whitened mechanism, computed
 * without the helpers under test.
 */
function stepMu2(thresholds: number[], sigma: number, countNoise: number): number {
  const S = Math.sqrt(thresholds.reduce((s, c) => s + c * c, 0));
  let mu2 = (S / (sigma * S)) ** 2;
  for (let m = 0; m < thresholds.length; m++) mu2 += (0.5 / countNoise) ** 2;
  return mu2;
}

describe('composing the gradient and the count releases of one step', () => {
  const thresholds = [0.3, 0.5, 0.2, 0.6];
  const M = thresholds.length;
  const countSensitivity = Math.sqrt(M) / 2;

  it('the gradient σ solves σ_eff^-2 = σ^-2 + (Δ_b/σ_b)² (rel. tol. 1e-12)', () => {
    for (const [sigmaEff, countNoise] of [[1.1, 5], [0.6, 2], [3, 40], [1, 12.8]] as const) {
      const sigma = gradientNoiseMultiplier({ effectiveNoiseMultiplier: sigmaEff, countNoise, countSensitivity });
      expect(sigma).toBeGreaterThan(sigmaEff);
      expect(Math.abs(1 / Math.sqrt(stepMu2(thresholds, sigma, countNoise)) / sigmaEff - 1)).toBeLessThan(1e-12);
      const back = composedNoiseMultiplier([
        { sensitivity: Math.hypot(...thresholds), noiseStd: sigma * Math.hypot(...thresholds) },
        { sensitivity: countSensitivity, noiseStd: countNoise },
      ]);
      expect(Math.abs(back / sigmaEff - 1)).toBeLessThan(1e-12);
    }
    // Andrew et al.'s Theorem 1 for one count (Δ_b = 1/2): σ = (σ_eff^-2 − (2σ_b)^-2)^(-1/2)
    expect(gradientNoiseMultiplier({ effectiveNoiseMultiplier: 1, countNoise: 12.8, countSensitivity: 0.5 })).toBeCloseTo((1 - (2 * 12.8) ** -2) ** -0.5, 14);
  });

  it('ε of the accountant at σ_eff equals ε of the composed mechanism computed independently', () => {
    const sigmaEff = 1.1;
    const countNoise = 5;
    const delta = 1e-5;
    const sigma = gradientNoiseMultiplier({ effectiveNoiseMultiplier: sigmaEff, countNoise, countSensitivity });
    const mu2 = stepMu2(thresholds, sigma, countNoise);
    for (const steps of [1, 10]) {
      // Exact, without subsampling: each block is a (Δ/σ)-GDP Gaussian mechanism and GDP composes as
      // sqrt(Σ μ_i²) over blocks and steps (Dong, Roth, Su 2022, Corollary 3.3); its (ε, δ) in closed form.
      const exact = gdpEpsilon(delta, Math.sqrt(steps * mu2));
      const prv = new PrvAccountant({ epsError: 0.01 }).step(sigmaEff, 1, steps).getPrivacySpent(delta);
      expect(prv.epsilonLower).toBeLessThanOrEqual(exact + 1e-9);
      expect(prv.epsilonUpper).toBeGreaterThanOrEqual(exact - 1e-9);
      expect(Math.abs(prv.epsilonEstimate - exact)).toBeLessThan(0.01);
      // RDP composes additively over the blocks: Σ_blocks α Δ²/(2σ²) per step (Mironov 2017).
      const rdp = DEFAULT_RDP_ORDERS.map((a) => steps * (a / 2) * mu2);
      const composed = rdpToEpsilon(DEFAULT_RDP_ORDERS, rdp, delta).epsilon;
      const viaAccountant = new RdpAccountant().step(sigmaEff, 1, steps).epsilon(delta);
      expect(Math.abs(viaAccountant / composed - 1)).toBeLessThan(1e-12);
    }
    // With Poisson subsampling the whitened step is one subsampled Gaussian of noise multiplier 1/μ.
    const q = 0.01;
    const atEff = new RdpAccountant().step(sigmaEff, q, 1000).epsilon(delta);
    const atMu = new RdpAccountant().step(1 / Math.sqrt(mu2), q, 1000).epsilon(delta);
    expect(Math.abs(atEff / atMu - 1)).toBeLessThan(1e-9);
    // and the counts are not free: the gradient alone at σ_eff would report too small an ε for what ran
    expect(new RdpAccountant().step(sigma, q, 1000).epsilon(delta)).toBeLessThan(atEff);
  });

  it('recovers the fixed-threshold σ as σ_b → ∞', () => {
    for (const sigmaEff of [0.5, 1, 4]) {
      const far = gradientNoiseMultiplier({ effectiveNoiseMultiplier: sigmaEff, countNoise: 1e9, countSensitivity });
      expect(Math.abs(far / sigmaEff - 1)).toBeLessThan(1e-12);
      const sigmas = [2, 10, 100, 1000].map((countNoise) => gradientNoiseMultiplier({ effectiveNoiseMultiplier: sigmaEff, countNoise: countNoise * sigmaEff, countSensitivity }));
      for (let i = 1; i < sigmas.length; i++) expect(sigmas[i]!).toBeLessThan(sigmas[i - 1]!);
    }
  });

  it('names the problem when σ_eff is not achievable or the input is bad', () => {
    // the counts alone have noise multiplier σ_b/Δ_b = 1.1/1 ≤ σ_eff = 1.1
    expect(() => gradientNoiseMultiplier({ effectiveNoiseMultiplier: 1.1, countNoise: 1.1, countSensitivity })).toThrow(
      /countNoise σ_b = 1\.1 is too small for the step's noise multiplier σ_eff = 1\.1.*Raise countNoise well above Δ_b·σ_eff = 1\.1/,
    );
    expect(() => gradientNoiseMultiplier({ effectiveNoiseMultiplier: 1, countNoise: 0, countSensitivity })).toThrow(/countNoise must be a finite number > 0, got 0/);
    expect(() => gradientNoiseMultiplier({ effectiveNoiseMultiplier: 0, countNoise: 5, countSensitivity })).toThrow(/effectiveNoiseMultiplier must be a finite number > 0, got 0/);
    expect(() => gradientNoiseMultiplier({ effectiveNoiseMultiplier: 1, countNoise: 5, countSensitivity: -1 })).toThrow(/countSensitivity must be a finite number > 0, got -1/);
    expect(() => composedNoiseMultiplier([])).toThrow(/releases is empty/);
    expect(() => composedNoiseMultiplier([{ sensitivity: 1, noiseStd: 0 }])).toThrow(/releases\[0\]\.noiseStd must be a finite number > 0, got 0/);
  });
});
