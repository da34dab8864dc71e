import { describe, expect, it } from 'vitest';
import { gaussLegendreRule, integrate } from './gauss-legendre';

describe('Gauss–Legendre quadrature', () => {
  it('integrates polynomials of degree 2n - 1 exactly (n = 10)', () => {
    const { nodes, weights } = gaussLegendreRule(10);
    for (let degree = 0; degree <= 19; degree++) {
      let s = 0;
      for (let i = 0; i < 10; i++) s += weights[i] * nodes[i] ** degree;
      const exact = degree % 2 === 1 ? 0 : 2 / (degree + 1);
      expect(s).toBeCloseTo(exact, 14);
    }
  });

  it('integrates the Gaussian density to 1 (1e-14) and e^x exactly', () => {
    const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
    expect(integrate(phi, -40, 40, 160)).toBeCloseTo(1, 14);
    expect(integrate(Math.exp, 0, 3, 8)).toBeCloseTo(Math.exp(3) - 1, 12);
    expect(integrate(Math.exp, 1, 1, 8)).toBe(0);
  });
});
