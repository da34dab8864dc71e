import { describe, expect, it } from 'vitest';
import { rdpToDelta, rdpToEpsilon } from './rdp-conversion';

describe('rdpToEpsilon', () => {
  it('applies Balle et al. 2020, Theorem 21 at each order and takes the minimum', () => {
    const orders = [2, 4, 8];
    const rdp = [0.5, 1.0, 2.5];
    const delta = 1e-5;
    const byHand = orders.map((a, i) => rdp[i] + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1));
    const { epsilon, order } = rdpToEpsilon(orders, rdp, delta);
    expect(epsilon).toBeCloseTo(Math.min(...byHand), 14);
    expect(order).toBe(orders[byHand.indexOf(Math.min(...byHand))]);
  });

  it("the 'classic' conversion (Mironov 2017) is r + log(1/δ)/(α-1) and never smaller", () => {
    const orders = [1.5, 2, 3, 5, 10, 32];
    const rdp = orders.map((a) => a / (2 * 3 * 3) * 10); // 10 Gaussian steps at σ = 3
    const classic = rdpToEpsilon(orders, rdp, 1e-6, 'classic');
    const byHand = Math.min(...orders.map((a, i) => rdp[i] + Math.log(1e6) / (a - 1)));
    expect(classic.epsilon).toBeCloseTo(byHand, 14);
    expect(rdpToEpsilon(orders, rdp, 1e-6).epsilon).toBeLessThan(classic.epsilon);
  });

  it('gives ε = 0 when the KL bound already implies δ (r < -log(1 - δ²))', () => {
    expect(rdpToEpsilon([2, 3], [1e-12, 2e-12], 1e-5).epsilon).toBe(0);
  });

  it('reports ε = ∞ (and order NaN) when every order is infinite', () => {
    const r = rdpToEpsilon([2, 3], [Infinity, Infinity], 1e-5);
    expect(r.epsilon).toBe(Infinity);
    expect(r.order).toBeNaN();
  });

  it('rdpToDelta inverts rdpToEpsilon', () => {
    const orders = [1.5, 2, 4, 8, 16, 32, 64];
    const rdp = orders.map((a) => 0.02 * a);
    for (const delta of [1e-3, 1e-5, 1e-9]) {
      const { epsilon, order } = rdpToEpsilon(orders, rdp, delta);
      const back = rdpToDelta(orders, rdp, epsilon);
      expect(back.order).toBe(order);
      expect(back.delta / delta).toBeCloseTo(1, 10);
    }
  });

  it('rejects mismatched lengths with a message naming both', () => {
    expect(() => rdpToEpsilon([2, 3], [1], 1e-5)).toThrow(/orders and rdp must be non-empty and of one length, got 2 and 1/);
  });
});
