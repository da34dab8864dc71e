import { describe, expect, it } from 'vitest';
import { computeRdp, logAByQuadrature, logAFractional, logAInteger, subsampledGaussianRdp } from './rdp';
import { DEFAULT_RDP_ORDERS } from './rdp-orders';

/**
 * Independent reference: adaptive Simpson (Lyness 1969) on the definition of the subsampled
 * Gaussian's Rényi moment, A_α - 1 = ∫ φ_σ(x) [(1 - q + q e^{(2x-1)/(2σ²)})^α - 1] dx
 * (Mironov, Talwar & Zhang 2019), written here without any code from the package.
 */
function referenceRdp(q: number, sigma: number, alpha: number): number {
  const f = (x: number): number => {
    const u = (2 * x - 1) / (2 * sigma * sigma);
    const logRatio = u > 30 ? u + Math.log(q) + Math.log1p((1 - q) * Math.exp(-u) / q) : Math.log1p(q * Math.expm1(u)); // log(P/Q)
    const logPhi = (-x * x) / (2 * sigma * sigma) - Math.log(sigma * Math.sqrt(2 * Math.PI));
    // φ (e^{α log(P/Q)} - 1) without overflow far out (where φ underflows first).
    return alpha * logRatio > 1 ? Math.exp(logPhi + alpha * logRatio) - Math.exp(logPhi) : Math.exp(logPhi) * Math.expm1(alpha * logRatio);
  };
  const simpson = (a: number, fa: number, m: number, fm: number, b: number, fb: number) => ((b - a) / 6) * (fa + 4 * fm + fb);
  const recurse = (a: number, fa: number, m: number, fm: number, b: number, fb: number, whole: number, tol: number, depth: number): number => {
    const lm = (a + m) / 2;
    const rm = (m + b) / 2;
    const flm = f(lm);
    const frm = f(rm);
    const left = simpson(a, fa, lm, flm, m, fm);
    const right = simpson(m, fm, rm, frm, b, fb);
    if (depth <= 0 || Math.abs(left + right - whole) <= 15 * tol) return left + right + (left + right - whole) / 15;
    return recurse(a, fa, lm, flm, m, fm, left, tol / 2, depth - 1) + recurse(m, fm, rm, frm, b, fb, right, tol / 2, depth - 1);
  };
  // Split where the integrand has its features: around 0 (φ) and around α (the q^α e^{αu} part).
  const points = [-30 * sigma, -3 * sigma, 0, 0.5, 1, alpha, alpha + 3 * sigma, alpha + 30 * sigma].sort((x, y) => x - y);
  // Scale of ∫|f| from a coarse pass, so the tolerance sits above the rounding-noise floor.
  let scale = 0;
  const coarse = 4000;
  const [lo, hi] = [points[0], points[points.length - 1]];
  for (let i = 0; i < coarse; i++) scale += Math.abs(f(lo + ((i + 0.5) * (hi - lo)) / coarse)) * ((hi - lo) / coarse);
  let total = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    if (b <= a) continue;
    const m = (a + b) / 2;
    const [fa, fm, fb] = [f(a), f(m), f(b)];
    total += recurse(a, fa, m, fm, b, fb, simpson(a, fa, m, fm, b, fb), 1e-13 * scale, 30);
  }
  return Math.log1p(total) / (alpha - 1);
}

describe('subsampledGaussianRdp', () => {
  it('is the Gaussian closed form α/(2σ²) when q = 1 (Mironov 2017)', () => {
    for (const sigma of [0.5, 1, 4]) {
      for (const alpha of [1.5, 2, 10, 63]) expect(subsampledGaussianRdp(1, sigma, alpha)).toBe(alpha / (2 * sigma * sigma));
    }
  });

  // (q, σ, α): integer and fractional orders, small and large q and σ.
  const cases: [number, number, number][] = [
    [0.01, 1, 2.5],
    [0.01, 1, 7.3],
    [256 / 60000, 1.1, 8.1],
    [0.1, 2, 1.5],
    [0.5, 0.8, 4.3],
    [0.001, 0.5, 3.7],
    [0.02, 0.7, 12],
    [0.3, 5, 3],
    [0.05, 1.5, 20.5],
  ];
  it.each(cases)('matches adaptive-Simpson integration of the definition: q=%f σ=%f α=%f (1e-9 relative)', (q, sigma, alpha) => {
    const want = referenceRdp(q, sigma, alpha);
    const got = subsampledGaussianRdp(q, sigma, alpha);
    expect(Math.abs(got - want) / want).toBeLessThan(1e-9);
  });

  it('is continuous across integer orders (integer binomial vs fractional series, 1e-6)', () => {
    for (const [q, sigma] of [
      [0.01, 1],
      [0.2, 0.9],
    ]) {
      for (const a of [2, 3, 10]) {
        const atInteger = logAInteger(q, sigma, a);
        expect(Math.abs(logAFractional(q, sigma, a + 1e-9) / atInteger - 1)).toBeLessThan(1e-6);
        expect(Math.abs(logAFractional(q, sigma, a - 1e-9) / atInteger - 1)).toBeLessThan(1e-6);
      }
    }
  });

  it('the quadrature fallback agrees with the two-series formula (1e-9 relative)', () => {
    for (const [q, sigma, a] of [
      [0.5, 10, 1.1],
      [0.01, 1, 2.5],
      [0.1, 2, 7.3],
      [0.9, 0.7, 2.5],
    ]) {
      expect(Math.abs(logAByQuadrature(q, sigma, a) / logAFractional(q, sigma, a) - 1)).toBeLessThan(1e-9);
    }
  });

  it('is non-decreasing in the order α (Rényi divergences are, van Erven & Harremoës 2014)', () => {
    for (const [q, sigma] of [
      [0.004, 1.1],
      [0.1, 0.6],
      [0.5, 3],
    ]) {
      const rdp = computeRdp(q, sigma, 1);
      for (let k = 1; k < rdp.length; k++) expect(rdp[k]).toBeGreaterThanOrEqual(rdp[k - 1] * (1 - 1e-12));
    }
  });

  it('composes additively over steps', () => {
    const one = computeRdp(0.01, 1.2, 1);
    const many = computeRdp(0.01, 1.2, 1_000_000);
    for (let k = 0; k < one.length; k++) expect(many[k]).toBeCloseTo(1_000_000 * one[k], 6);
    expect(computeRdp(0.01, 1.2, 0).every((v) => v === 0)).toBe(true);
  });
});

describe('DEFAULT_RDP_ORDERS', () => {
  it('contains the Opacus / TF Privacy grid 1.1…10.9 (step 0.1) and 12…63', () => {
    for (let k = 1; k < 100; k++) expect(DEFAULT_RDP_ORDERS).toContain((10 + k) / 10);
    for (let a = 12; a <= 63; a++) expect(DEFAULT_RDP_ORDERS).toContain(a);
    expect(Math.min(...DEFAULT_RDP_ORDERS)).toBe(1.1);
    expect(Math.max(...DEFAULT_RDP_ORDERS)).toBe(512);
  });
});
