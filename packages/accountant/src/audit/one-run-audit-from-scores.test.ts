import { describe, expect, it } from 'vitest';
import { gdpEpsilon } from '../analysis/gdp';
import { ClipwiseAccountantError } from '../errors';
import { seededNormal, seededUniform } from './__fixtures__/seeded-uniform';
import { oneRunEpsilonLowerBound } from './one-run';
import { defaultGuessCounts, oneRunAuditFromScores } from './one-run-audit-from-scores';

/** m canaries, each in with probability 1/2; score = μ·[in] + N(0, 1): per canary a Gaussian mechanism. */
function gaussianCanaries(m: number, mu: number, seed: number): { scores: Float64Array; included: boolean[] } {
  const u = seededUniform(seed);
  const z = seededNormal(seed + 1000);
  const included = Array.from({ length: m }, () => u() < 0.5);
  const scores = Float64Array.from(included, (inc) => (inc ? mu : 0) + z());
  return { scores, included };
}

describe('oneRunAuditFromScores', () => {
  it('counts correct guesses as a brute-force ranking does (top half "in", bottom half "out", ties by index)', () => {
    const scores = [0.5, 3, 3, -1, 2, 0, 0.5, 7];
    const included = [false, true, false, false, true, true, false, true];
    const audit = oneRunAuditFromScores({ scores, included, guessCounts: [2, 4, 5, 8] });
    // ranking by hand: 7(7) 3(1) 3(2) 2(4) 0.5(0) 0.5(6) 0(5) -1(3)
    const ranked = [7, 1, 2, 4, 0, 6, 5, 3];
    for (const a of audit.attempts) {
      const top = ranked.slice(0, Math.ceil(a.guesses / 2));
      const bottom = ranked.slice(8 - Math.floor(a.guesses / 2));
      const want = top.filter((i) => included[i]).length + bottom.filter((i) => !included[i]).length;
      expect(a.correct).toBe(want);
    }
    expect(audit.attempts.map((a) => a.correct)).toEqual([2, 3, 3, 6]);
  });

  it('one attempt at full confidence is oneRunEpsilonLowerBound; several split β (Bonferroni)', () => {
    const { scores, included } = gaussianCanaries(400, 3, 5);
    const one = oneRunAuditFromScores({ scores, included, guessCounts: [100], delta: 1e-5 });
    expect(one.epsilonLowerBound).toBe(
      oneRunEpsilonLowerBound({ canaries: 400, guesses: 100, correct: one.best.correct, delta: 1e-5, confidence: 0.95 }),
    );
    const many = oneRunAuditFromScores({ scores, included, guessCounts: [100, 200], delta: 1e-5 });
    const first = many.attempts[0]!;
    expect(first.correct).toBe(one.best.correct);
    expect(first.epsilonLowerBound).toBe(
      oneRunEpsilonLowerBound({ canaries: 400, guesses: 100, correct: first.correct, delta: 1e-5, confidence: 0.975 }),
    );
    expect(many.epsilonLowerBound).toBe(Math.max(...many.attempts.map((a) => a.epsilonLowerBound)));
  });

  it('Gaussian canaries (μ = 2, 4): the bound stays below the exact ε of the μ-GDP mechanism over 20 seeds and grows with μ', () => {
    const delta = 1e-5;
    for (const mu of [2, 4]) {
      const trueEpsilon = gdpEpsilon(delta, mu); // the mechanism's exact ε(δ)
      const bounds = Array.from({ length: 20 }, (_, s) => {
        const { scores, included } = gaussianCanaries(1000, mu, 100 * mu + s);
        return oneRunAuditFromScores({ scores, included, delta }).epsilonLowerBound;
      });
      expect(bounds.filter((b) => b > trueEpsilon).length).toBeLessThanOrEqual(3);
      expect(Math.min(...bounds)).toBeGreaterThan(mu === 2 ? 0.5 : 2);
    }
  });

  it('default guess counts are m/10, m/4, m/2, m', () => {
    expect(defaultGuessCounts(1000)).toEqual([100, 250, 500, 1000]);
    expect(defaultGuessCounts(3)).toEqual([1, 2, 3]);
  });

  it('rejects mismatched, NaN or impossible inputs', () => {
    expect(() => oneRunAuditFromScores({ scores: [1, 2], included: [true] })).toThrow(/included has 1 entries but scores has 2/);
    expect(() => oneRunAuditFromScores({ scores: [1, Number.NaN], included: [true, false] })).toThrow(/scores\[1\] is NaN/);
    expect(() => oneRunAuditFromScores({ scores: [1, 2], included: [true, false], guessCounts: [3] })).toThrow(/more than the 2 canaries/);
    expect(() => oneRunAuditFromScores({ scores: [1, 2], included: [true, false], guessCounts: [] })).toThrow(ClipwiseAccountantError);
    expect(() => oneRunAuditFromScores({ scores: [], included: [] })).toThrow(/scores.length must be a whole number >= 1/);
  });
});
