import { describe, expect, it } from 'vitest';
import { gdpDelta, gdpEpsilon, gdpMu } from './gdp';

/** δ(ε) of N(0,1) vs N(μ,1) by integrating the hockey-stick divergence numerically (trapezoid, fine grid). */
function hockeyStick(epsilon: number, mu: number): number {
  const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const h = 1e-4;
  let s = 0;
  for (let x = -12; x <= mu + 12; x += h) s += Math.max(0, phi(x - mu) - Math.exp(epsilon) * phi(x)) * h;
  return s;
}

describe('GDP (Dong, Roth & Su)', () => {
  it('μ is the CLT closed form q √(T (e^{1/σ²} - 1)), summed in quadrature over entries', () => {
    const q = 0.01;
    const sigma = 1.3;
    const T = 5000;
    expect(gdpMu([{ noiseMultiplier: sigma, sampleRate: q, steps: T }])).toBeCloseTo(q * Math.sqrt(T * (Math.exp(1 / sigma ** 2) - 1)), 14);
    const two = gdpMu([
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 100 },
      { noiseMultiplier: 2, sampleRate: 0.02, steps: 300 },
    ]);
    expect(two ** 2).toBeCloseTo(0.01 ** 2 * 100 * Math.expm1(1) + 0.02 ** 2 * 300 * Math.expm1(0.25), 14);
  });

  it('δ(ε) equals the hockey-stick divergence of two unit Gaussians μ apart (1e-7 absolute)', () => {
    for (const [eps, mu] of [
      [0.5, 0.5],
      [1, 1],
      [3, 2],
    ]) {
      expect(Math.abs(gdpDelta(eps, mu) - hockeyStick(eps, mu))).toBeLessThan(1e-7);
    }
  });

  it('ε(δ) inverts δ(ε) and is 0 / ∞ at the extremes', () => {
    for (const mu of [0.1, 0.57, 2.5]) {
      const eps = gdpEpsilon(1e-5, mu);
      expect(gdpDelta(eps, mu) / 1e-5).toBeCloseTo(1, 8);
    }
    expect(gdpEpsilon(1e-5, 0)).toBe(0);
    expect(gdpEpsilon(1e-5, Infinity)).toBe(Infinity);
  });
});
