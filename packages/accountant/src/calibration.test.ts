import { describe, expect, it } from 'vitest';
import { PrvAccountant } from './accountants/prv-accountant';
import { RdpAccountant } from './accountants/rdp-accountant';
import { calibrateNoise, computeEpsilon, maxSteps, type SearchEvaluation } from './calibration';
import { ClipwiseAccountantError } from './errors';

describe('calibrateNoise', () => {
  it('RDP: ε(σ*) <= target and ε(σ* - tolerance) > target (MNIST DP-SGD setting)', () => {
    const [q, T, delta, target] = [256 / 60000, 14063, 1e-5, 3];
    const r = calibrateNoise({ targetEpsilon: target, delta, sampleRate: q, steps: T });
    expect(r.tolerance).toBe(1e-4);
    const eps = (sigma: number) => new RdpAccountant().step(sigma, q, T).epsilon(delta);
    expect(eps(r.noiseMultiplier)).toBeLessThanOrEqual(target);
    expect(eps(r.noiseMultiplier - r.tolerance)).toBeGreaterThan(target);
    expect(r.epsilon).toBe(eps(r.noiseMultiplier));
  });

  it('PRV: the same inverse property, and a smaller σ than RDP needs', () => {
    const [q, T, delta, target] = [0.02, 100, 1e-5, 2];
    const options = { epsError: 0.02 };
    const r = calibrateNoise({ targetEpsilon: target, delta, sampleRate: q, steps: T, accountant: 'prv', accountantOptions: options, tolerance: 2e-3 });
    const eps = (sigma: number) => new PrvAccountant(options).step(sigma, q, T).epsilon(delta);
    expect(eps(r.noiseMultiplier)).toBeLessThanOrEqual(target);
    expect(eps(r.noiseMultiplier - r.tolerance)).toBeGreaterThan(target);
    const rdp = calibrateNoise({ targetEpsilon: target, delta, sampleRate: q, steps: T, tolerance: 2e-3 });
    expect(r.noiseMultiplier).toBeLessThan(rdp.noiseMultiplier);
  });

  it('refuses approximate accountants and unreachable targets, naming targetEpsilon', () => {
    const base = { delta: 1e-5, sampleRate: 0.01, steps: 100 };
    expect(() => calibrateNoise({ ...base, targetEpsilon: 1, accountant: 'gdp' })).toThrow(/'gdp' is an approximation/);
    expect(() => calibrateNoise({ ...base, targetEpsilon: 0.005, accountant: 'prv' })).toThrow(/targetEpsilon = 0.005 is unreachable/);
    expect(() => calibrateNoise({ ...base, targetEpsilon: 0.01, maxNoiseMultiplier: 2 })).toThrow(ClipwiseAccountantError);
    expect(() => calibrateNoise({ ...base, targetEpsilon: 0.01, maxNoiseMultiplier: 2 })).toThrow(/targetEpsilon = 0.01 is unreachable: even noiseMultiplier = 2/);
    expect(() => calibrateNoise({ ...base, targetEpsilon: -1 })).toThrow(/targetEpsilon must be a finite number > 0, got -1/);
    expect(() => calibrateNoise({ ...base, steps: 0, targetEpsilon: 1 })).toThrow(/steps must be a whole number >= 1, got 0/);
  });
});

describe('maxSteps', () => {
  it('returns the last step count within budget: ε(T) <= target < ε(T + 1)', () => {
    const [q, sigma, delta, target] = [0.01, 1, 1e-5, 3];
    const r = maxSteps({ targetEpsilon: target, delta, sampleRate: q, noiseMultiplier: sigma });
    const eps = (T: number) => new RdpAccountant().step(sigma, q, T).epsilon(delta);
    expect(eps(r.steps)).toBeLessThanOrEqual(target);
    expect(eps(r.steps + 1)).toBeGreaterThan(target);
  });

  it('is consistent with calibrateNoise: the calibrated σ affords at least the planned steps', () => {
    const c = calibrateNoise({ targetEpsilon: 4, delta: 1e-6, sampleRate: 0.02, steps: 2500 });
    const r = maxSteps({ targetEpsilon: 4, delta: 1e-6, sampleRate: 0.02, noiseMultiplier: c.noiseMultiplier });
    expect(r.steps).toBeGreaterThanOrEqual(2500);
    const looser = maxSteps({ targetEpsilon: 4, delta: 1e-6, sampleRate: 0.02, noiseMultiplier: c.lowerNoiseMultiplier });
    expect(looser.steps).toBeLessThan(2500);
  });

  it('PRV: ε(T) <= target < ε(T + 1), and at least as many steps as RDP allows', () => {
    const base = { targetEpsilon: 1, delta: 1e-5, sampleRate: 0.05, noiseMultiplier: 1.5 };
    const options = { epsError: 0.02 };
    const r = maxSteps({ ...base, accountant: 'prv', accountantOptions: options });
    const eps = (T: number) => new PrvAccountant(options).step(1.5, 0.05, T).epsilon(1e-5);
    expect(eps(r.steps)).toBeLessThanOrEqual(1);
    expect(eps(r.steps + 1)).toBeGreaterThan(1);
    expect(r.steps).toBeGreaterThanOrEqual(maxSteps(base).steps);
  });

  it('returns 0 when even one step is over budget', () => {
    expect(maxSteps({ targetEpsilon: 0.1, delta: 1e-5, sampleRate: 1, noiseMultiplier: 0.5 }).steps).toBe(0);
  });
});

describe('onEvaluation (progress of a search)', () => {
  it('reports every evaluation of calibrateNoise and maxSteps with the ε the accountant gives there', () => {
    const seen: SearchEvaluation[] = [];
    const cal = calibrateNoise({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, steps: 1000, onEvaluation: (e) => seen.push(e) });
    expect(seen.map((e) => e.evaluations)).toEqual(Array.from({ length: cal.evaluations }, (_, i) => i + 1));
    for (const e of seen) expect(e.epsilon).toBe(new RdpAccountant().step(e.noiseMultiplier, 0.01, 1000).epsilon(1e-5));
    seen.length = 0;
    const budget = maxSteps({ targetEpsilon: 3, delta: 1e-5, sampleRate: 0.01, noiseMultiplier: 1, onEvaluation: (e) => seen.push(e) });
    expect(seen).toHaveLength(budget.evaluations);
    expect(seen.every((e) => e.noiseMultiplier === 1)).toBe(true);
  });
});

describe('computeEpsilon', () => {
  it('is the accountant ε for one homogeneous run', () => {
    const spent = computeEpsilon({ sampleRate: 0.01, noiseMultiplier: 1, steps: 300, delta: 1e-5 });
    expect(spent.epsilon).toBe(new RdpAccountant().step(1, 0.01, 300).epsilon(1e-5));
    expect(spent.accountant).toBe('rdp');
  });
});
