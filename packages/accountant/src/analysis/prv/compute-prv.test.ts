import { describe, expect, it } from 'vitest';
import { ClipwiseAccountantError } from '../../errors';
import type { HistoryEntry } from '../../history';
import { normCdf } from '../../math/erfc';
import { computeRdp } from '../rdp';
import { rdpToEpsilon } from '../rdp-conversion';
import { DEFAULT_RDP_ORDERS } from '../rdp-orders';
import { composeHistory, prvEpsilonBounds } from './compute-prv';

const prvBounds = (history: HistoryEntry[], delta: number, epsError = 0.01) =>
  prvEpsilonBounds(composeHistory(history, epsError, delta / 1000), delta);

/** Smallest ε with delta(ε) <= target, by bisection on [0, 100] to 1e-13. */
function solveEpsilon(deltaOf: (eps: number) => number, target: number): number {
  let lo = 0;
  let hi = 100;
  if (deltaOf(0) <= target) return 0;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (deltaOf(mid) > target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Exact δ(ε) of K-fold Gaussian mechanism with noise σ (Balle & Wang 2018, analytic Gaussian mechanism), μ = √K/σ. */
const gaussianDelta = (eps: number, mu: number) => normCdf(mu / 2 - eps / mu) - Math.exp(eps) * normCdf(-mu / 2 - eps / mu);

/**
 * A reference for a few subsampled steps written without the package's PRV code: the privacy loss
 * on a grid of mesh g, rounded UP (pessimistic: an upper bound on δ, since rounding up dominates
 * stochastically) or DOWN (optimistic: a lower bound), composed by direct O(n²) convolution.
 */
function pldReference(q: number, sigma: number, steps: number, delta: number, g: number, range: number): { lower: number; upper: number } {
  const n = Math.round(range / g);
  const loss = (x: number) => Math.log(1 - q + q * Math.exp((2 * x - 1) / (2 * sigma * sigma)));
  const xAt = (t: number) => {
    // x with ℓ(x) = t by bisection.
    let lo = -80;
    let hi = 80;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (loss(mid) <= t) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  const epsFor = (direction: 'remove' | 'add', pessimistic: boolean) => {
    // P(Y <= t) for Y = ℓ(X), X ~ P (remove) or Y = -ℓ(X), X ~ Q (add).
    const cdf = (t: number) => {
      if (direction === 'remove') {
        if (t <= Math.log(1 - q)) return 0;
        const x = xAt(t);
        return (1 - q) * normCdf(x / sigma) + q * normCdf((x - 1) / sigma);
      }
      if (-t <= Math.log(1 - q)) return 1;
      return normCdf(-xAt(-t) / sigma);
    };
    // Grid values y_i = i g, i = -n..n; the mass of (y_{i-1}, y_i] goes to y_i (up) or y_{i-1} (down).
    const pmf = new Float64Array(2 * n + 1);
    let previous = cdf(-n * g);
    pmf[0] += previous; // everything below the grid sits at its bottom either way
    for (let i = -n + 1; i <= n; i++) {
      const c = cdf(i * g);
      pmf[i + n - (pessimistic ? 0 : 1)] += c - previous;
      previous = c;
    }
    const tail = 1 - previous; // above the top: +∞ when pessimistic, the top value when optimistic
    if (!pessimistic) pmf[2 * n] += tail;
    let dist = pmf;
    let infinite = pessimistic ? tail : 0;
    for (let k = 1; k < steps; k++) {
      const next = new Float64Array(dist.length + pmf.length - 1);
      for (let i = 0; i < dist.length; i++) {
        if (dist[i] === 0) continue;
        for (let j = 0; j < pmf.length; j++) next[i + j] += dist[i] * pmf[j];
      }
      infinite = 1 - (1 - infinite) * (1 - (pessimistic ? tail : 0));
      dist = next;
    }
    const offset = -n * steps; // index 0 holds value offset·g
    const deltaOf = (eps: number) => {
      let d = infinite;
      for (let i = 0; i < dist.length; i++) {
        const y = (i + offset) * g;
        if (y > eps) d += dist[i] * -Math.expm1(eps - y);
      }
      return d;
    };
    return solveEpsilon(deltaOf, delta);
  };
  return {
    lower: Math.max(epsFor('remove', false), epsFor('add', false)),
    upper: Math.max(epsFor('remove', true), epsFor('add', true)),
  };
}

describe('PRV composition (Gopi, Lee & Wutschitz 2021)', () => {
  it.each([
    [2, 1, 1e-5],
    [10, 200, 1e-5],
    [4, 50, 1e-6],
  ])('q = 1 reproduces the exact Gaussian mechanism: σ=%f, %i steps, δ=%f (estimate within 1e-4)', (sigma, steps, delta) => {
    const b = prvBounds([{ noiseMultiplier: sigma, sampleRate: 1, steps }], delta);
    const exact = solveEpsilon((eps) => gaussianDelta(eps, Math.sqrt(steps) / sigma), delta);
    expect(b.lower).toBeLessThanOrEqual(exact);
    expect(b.upper).toBeGreaterThanOrEqual(exact);
    expect(Math.abs(b.estimate - exact)).toBeLessThan(1e-4);
  });

  it('one subsampled step matches the hockey-stick divergence from its definition, both orders (bounds hold)', () => {
    const [q, sigma, delta] = [0.1, 0.8, 1e-5];
    const loss = (x: number) => Math.log(1 - q + q * Math.exp((2 * x - 1) / (2 * sigma * sigma)));
    const crossing = (t: number) => {
      // x with ℓ(x) = t, by bisection (ℓ is increasing).
      let lo = -100;
      let hi = 100;
      for (let i = 0; i < 200; i++) {
        const mid = (lo + hi) / 2;
        if (loss(mid) < t) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const tailP = (x: number) => (1 - q) * normCdf(-x / sigma) + q * normCdf((1 - x) / sigma); // P(X > x)
    const tailQ = (x: number) => normCdf(-x / sigma);
    // H_{e^ε}(P‖Q) = P(ℓ > ε) - e^ε Q(ℓ > ε);  H_{e^ε}(Q‖P) = Q(ℓ < -ε) - e^ε P(ℓ < -ε).
    const deltaOf = (eps: number) => {
      const up = crossing(eps);
      const remove = tailP(up) - Math.exp(eps) * tailQ(up);
      const add = -eps > Math.log(1 - q) ? 1 - tailQ(crossing(-eps)) - Math.exp(eps) * (1 - tailP(crossing(-eps))) : 0;
      return Math.max(remove, add);
    };
    const exact = solveEpsilon(deltaOf, delta);
    const b = prvBounds([{ noiseMultiplier: sigma, sampleRate: q, steps: 1 }], delta);
    expect(b.lower).toBeLessThanOrEqual(exact);
    expect(b.upper).toBeGreaterThanOrEqual(exact);
    expect(Math.abs(b.estimate - exact)).toBeLessThan(1e-3);
  });

  it('three subsampled steps agree with a pessimistic/optimistic PLD reference (direct convolution)', () => {
    const [q, sigma, steps, delta] = [0.2, 1.0, 3, 1e-3];
    const ref = pldReference(q, sigma, steps, delta, 0.003, 4);
    const b = prvBounds([{ noiseMultiplier: sigma, sampleRate: q, steps }], delta);
    // Both are rigorous brackets of the same true ε, so they must overlap; the estimate sits inside
    // the reference bracket widened by the PRV error.
    expect(b.lower).toBeLessThanOrEqual(ref.upper);
    expect(ref.lower).toBeLessThanOrEqual(b.upper);
    expect(b.estimate).toBeGreaterThan(ref.lower - 0.01);
    expect(b.estimate).toBeLessThan(ref.upper + 0.01);
    expect(ref.upper - ref.lower).toBeLessThan(0.02);
  });

  it('lower <= estimate <= upper, and the upper bound stays below RDP for DP-SGD settings', () => {
    const settings: [number, number, number, number][] = [
      [256 / 60000, 1.1, 2000, 1e-5],
      [0.01, 1.0, 300, 1e-5],
      [0.1, 2.0, 100, 1e-6],
      [0.02, 0.8, 1000, 1e-5],
    ];
    for (const [q, sigma, steps, delta] of settings) {
      const b = prvBounds([{ noiseMultiplier: sigma, sampleRate: q, steps }], delta);
      const rdp = rdpToEpsilon(DEFAULT_RDP_ORDERS, computeRdp(q, sigma, steps), delta).epsilon;
      expect(b.lower).toBeLessThanOrEqual(b.estimate);
      expect(b.estimate).toBeLessThanOrEqual(b.upper);
      expect(b.upper - b.estimate).toBeLessThan(0.0105); // epsError plus the shift from δ to δ - δ_err
      expect(b.upper).toBeLessThan(rdp);
    }
  });

  it('does not depend on the order of heterogeneous entries (composition commutes), 1e-9', () => {
    const a = { noiseMultiplier: 1.0, sampleRate: 0.01, steps: 300 };
    const b = { noiseMultiplier: 1.5, sampleRate: 0.02, steps: 200 };
    const ab = prvBounds([a, b], 1e-5);
    const ba = prvBounds([b, a], 1e-5);
    expect(ab.estimate).toBeCloseTo(ba.estimate, 9);
    // and it lies between the two homogeneous runs of 500 steps
    const onlyA = prvBounds([{ ...a, steps: 500 }], 1e-5).estimate;
    const onlyB = prvBounds([{ ...b, steps: 500 }], 1e-5).estimate;
    expect(ab.estimate).toBeGreaterThan(Math.min(onlyA, onlyB));
    expect(ab.estimate).toBeLessThan(Math.max(onlyA, onlyB));
  });

  it('refuses only what no grid can hold: more steps than the largest grid has points', () => {
    const tooMany = () => composeHistory([{ noiseMultiplier: 1, sampleRate: 0.01, steps: 5_000_000 }], 0.01, 1e-8);
    expect(tooMany).toThrow(ClipwiseAccountantError);
    expect(tooMany).toThrow(/cannot compose 5000000 steps on its largest grid/);
  });
});
