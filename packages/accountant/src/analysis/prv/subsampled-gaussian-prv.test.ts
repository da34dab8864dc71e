import { describe, expect, it } from 'vitest';
import { normCdf } from '../../math/erfc';
import { SubsampledGaussianPrv } from './subsampled-gaussian-prv';

const cdfOf = (prv: SubsampledGaussianPrv, t: number): number => {
  const out = new Float64Array(2);
  prv.cdfAndSf(t, out, 0);
  return out[0];
};

/** P(ℓ(X) <= t) by locating {x : ℓ(x) <= t} with bisection on ℓ itself (no closed-form inverse). */
function referenceCdf(q: number, sigma: number, direction: 'remove' | 'add', t: number): number {
  const loss = (x: number) => Math.log(1 - q + q * Math.exp((2 * x - 1) / (2 * sigma * sigma)));
  const target = direction === 'remove' ? t : -t; // add: -ℓ(X) <= t ⇔ ℓ(X) >= -t
  let lo = -60 * sigma - 10;
  let hi = 60 * sigma + 10;
  if (loss(lo) > target) return direction === 'remove' ? 0 : 1;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (loss(mid) <= target) lo = mid;
    else hi = mid;
  }
  if (direction === 'remove') return (1 - q) * normCdf(lo / sigma) + q * normCdf((lo - 1) / sigma);
  return normCdf(-lo / sigma);
}

describe('SubsampledGaussianPrv', () => {
  it('inverts its privacy loss: x(ℓ(x)) = x (1e-9)', () => {
    const prv = new SubsampledGaussianPrv(0.01, 1.2, 'remove');
    for (const x of [-3, -0.5, 0, 0.5, 2, 10, 40]) expect(prv.lossInverse(prv.loss(x))).toBeCloseTo(x, 9);
    expect(prv.lossInverse(Math.log(0.99) - 1e-9)).toBe(-Infinity);
  });

  it.each([
    [0.01, 1.0],
    [0.2, 0.7],
    [1, 2],
  ])('CDFs match a bisection-on-ℓ reference for q=%f σ=%f (1e-12)', (q, sigma) => {
    for (const direction of ['remove', 'add'] as const) {
      const prv = new SubsampledGaussianPrv(q, sigma, direction);
      for (const t of [-2, -0.1, -0.005, 0, 0.003, 0.05, 0.5, 3]) {
        expect(Math.abs(cdfOf(prv, t) - referenceCdf(q, sigma, direction, t))).toBeLessThan(1e-12);
      }
    }
  });

  it('has mean KL = 1/(2σ²) in both directions when q = 1 (Gaussian mechanism), 1e-12', () => {
    for (const sigma of [0.8, 2]) {
      for (const direction of ['remove', 'add'] as const) {
        const prv = new SubsampledGaussianPrv(1, sigma, direction);
        expect(prv.partialMean(-1e3, 1e3)).toBeCloseTo(1 / (2 * sigma * sigma), 12);
      }
    }
  });

  it('partial means agree with integration by parts of the CDF, b F(b) - a F(a) - ∫F (1e-9)', () => {
    const [a, b] = [-0.3, 2];
    for (const direction of ['remove', 'add'] as const) {
      const prv = new SubsampledGaussianPrv(0.05, 0.9, direction);
      const n = 20_000; // even, for Simpson's rule
      const h = (b - a) / n;
      let integral = 0;
      for (let i = 0; i <= n; i++) integral += (i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2) * cdfOf(prv, a + i * h);
      integral *= h / 3;
      const byParts = b * cdfOf(prv, b) - a * cdfOf(prv, a) - integral;
      expect(Math.abs(prv.partialMean(a, b) - byParts)).toBeLessThan(1e-9);
    }
  });
});
