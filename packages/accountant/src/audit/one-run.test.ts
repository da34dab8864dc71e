import { describe, expect, it } from 'vitest';
import { ClipwiseAccountantError } from '../errors';
import { add, divide, exactBinomialRange, greater, toNumber, type Fraction } from './__fixtures__/exact-binomial';
import { seededUniform } from './__fixtures__/seeded-uniform';
import { oneRunEpsilonLowerBound, oneRunPValue } from './one-run';

/**
 * The Corollary 5.4 p-value in exact rational arithmetic at e^ε = a / c, i.e. accuracy q = a / (a + c):
 * P[W >= v] + 2 m δ max_i P[v - i <= W < v] / i, the max taken over exact fractions.
 */
function exactPValue(m: number, r: number, v: number, a: number, c: number, delta: number): number {
  const tail = toNumber(exactBinomialRange(v, r, r, a, a + c));
  let alpha: Fraction = { num: 0n, den: 1n };
  for (let i = 1; i <= v; i++) {
    const candidate = divide(exactBinomialRange(v - i, v - 1, r, a, a + c), i);
    if (greater(candidate, alpha)) alpha = candidate;
  }
  return Math.min(1, tail + 2 * m * delta * toNumber(alpha));
}

describe('oneRunPValue (Steinke, Nasr & Jagielski 2023, Corollary 5.4)', () => {
  it.each([
    [100, 40, 31, 3, 1, 0],
    [100, 40, 31, 3, 1, 1e-3],
    [1000, 100, 75, 2, 1, 1e-4],
    [50, 50, 40, 7, 3, 1e-2],
    [20, 10, 3, 1, 1, 0.05],
  ])('m=%i r=%i v=%i at e^ε=%i/%i, δ=%f: equals the exact rational computation (rel. 1e-10)', (m, r, v, a, c, delta) => {
    const got = oneRunPValue({ canaries: m, guesses: r, correct: v, epsilon: Math.log(a / c), delta });
    const want = exactPValue(m, r, v, a, c, delta);
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-10 * want);
  });

  it('grows with ε (δ = 0) and with δ', () => {
    let last = 0;
    for (let eps = 0; eps <= 4; eps += 0.25) {
      const p = oneRunPValue({ canaries: 500, guesses: 200, correct: 150, epsilon: eps });
      expect(p).toBeGreaterThanOrEqual(last);
      last = p;
    }
    const at = (delta: number) => oneRunPValue({ canaries: 500, guesses: 200, correct: 150, epsilon: 1, delta });
    expect(at(1e-6)).toBeGreaterThan(at(0));
    expect(at(1e-4)).toBeGreaterThan(at(1e-6));
  });
});

describe('oneRunEpsilonLowerBound', () => {
  it("reproduces the paper's Appendix D example: m=1000, r=100, v=75, δ=1e-4, 95% → ε ≥ 0.673", () => {
    // As printed in arXiv:2305.08846 App. D (quoted by third-party ports of its code); scipy gives 0.67298.
    const eps = oneRunEpsilonLowerBound({ canaries: 1000, guesses: 100, correct: 75, delta: 1e-4, confidence: 0.95 });
    expect(Math.abs(eps - 0.673)).toBeLessThan(5e-4);
  });

  it.each([10, 100, 1000, 10000])('all %i guesses right, δ = 0: ε_lb = logit(β^(1/r)) (closed form, 1e-5)', (r) => {
    const beta = 0.05;
    const q = beta ** (1 / r); // P[W = r] = q^r = β at the boundary
    const closedForm = Math.log(q / (1 - q));
    const eps = oneRunEpsilonLowerBound({ canaries: r, guesses: r, correct: r, confidence: 1 - beta });
    expect(eps).toBeLessThanOrEqual(closedForm);
    expect(closedForm - eps).toBeLessThan(1e-5);
  });

  it('is the boundary of rejection: p-value < β just below it, >= β just above', () => {
    const o = { canaries: 2000, guesses: 400, correct: 300, delta: 1e-5 };
    const eps = oneRunEpsilonLowerBound({ ...o, confidence: 0.95 });
    expect(oneRunPValue({ ...o, epsilon: eps })).toBeLessThan(0.05);
    expect(oneRunPValue({ ...o, epsilon: eps + 2e-6 })).toBeGreaterThanOrEqual(0.05);
  });

  it('is 0 when guessing is no better than chance, and monotone in v, δ and confidence', () => {
    expect(oneRunEpsilonLowerBound({ canaries: 100, guesses: 100, correct: 50 })).toBe(0);
    const bound = (correct: number, delta = 1e-5, confidence = 0.95) =>
      oneRunEpsilonLowerBound({ canaries: 1000, guesses: 200, correct, delta, confidence });
    for (let v = 100; v < 200; v += 10) expect(bound(v + 10)).toBeGreaterThanOrEqual(bound(v));
    expect(bound(180, 1e-3)).toBeLessThan(bound(180, 1e-6));
    expect(bound(180, 1e-5, 0.99)).toBeLessThan(bound(180, 1e-5, 0.9));
  });

  it('simulated ε-randomised response (m = 4000, ε = 1): bound ≤ ε in ≥ 90% of 60 runs, median within 10% of ε', () => {
    // Each canary's guess is right with probability e^ε / (1 + e^ε): exactly the extreme ε-DP case,
    // so a valid bound exceeds ε in at most 5% of runs, and is tight up to sampling error.
    const epsilon = 1;
    const m = 4000;
    const accuracy = 1 / (1 + Math.exp(-epsilon));
    const bounds: number[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      const u = seededUniform(seed);
      let correct = 0;
      for (let i = 0; i < m; i++) if (u() < accuracy) correct++;
      bounds.push(oneRunEpsilonLowerBound({ canaries: m, guesses: m, correct, confidence: 0.95 }));
    }
    const above = bounds.filter((b) => b > epsilon).length;
    expect(above).toBeLessThanOrEqual(6); // Binomial(60, 0.05) exceeds 6 with probability 0.03
    bounds.sort((x, y) => x - y);
    expect(bounds[30]!).toBeGreaterThan(0.9 * epsilon);
    expect(bounds[30]!).toBeLessThan(epsilon);
  });

  it('rejects impossible counts and bad settings with a message naming the argument', () => {
    const bad = (o: Record<string, unknown>, arg: string) => {
      const call = () => oneRunEpsilonLowerBound({ canaries: 10, guesses: 5, correct: 3, ...o } as never);
      expect(call).toThrow(ClipwiseAccountantError);
      expect(call).toThrow(new RegExp(arg));
    };
    bad({ correct: 6 }, 'correct = 6 cannot exceed guesses = 5');
    bad({ guesses: 11 }, 'guesses = 11 cannot exceed canaries = 10');
    bad({ canaries: 0 }, 'canaries must be a whole number >= 1');
    bad({ correct: 2.5 }, 'correct must be a whole number');
    bad({ confidence: 1 }, 'confidence must be a number in \\(0, 1\\)');
    bad({ delta: -1e-5 }, 'delta must be a number in \\[0, 1\\)');
    expect(() => oneRunPValue({ canaries: 10, guesses: 5, correct: 3, epsilon: -1 })).toThrow(/epsilon must be a finite number >= 0/);
  });
});
