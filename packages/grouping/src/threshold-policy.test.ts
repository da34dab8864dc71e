import { describe, expect, it } from 'vitest';
import {
  countSensitivity, nextThresholds, noisyUnclippedFraction, resolveThresholdPolicy, type AdaptiveThresholdPolicy,
} from './threshold-policy';

/** A seeded uniform generator (mulberry32) and Box–Muller normals, so the test is reproducible. */
function rng(seed: number): { uniform: () => number; normal: () => number } {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

describe('adaptive threshold policy', () => {
  it('converges to the target quantile of a known norm distribution, per group (geometric mean of C_m over 2000 steps, rel. tol. 3%)', () => {
    // Group m's per-sample norms are s_m · Exp(1), whose γ-quantile is s_m · (−ln(1 − γ)).
    const scales = [0.05, 1, 30];
    const B = 256;
    for (const gamma of [0.3, 0.5, 0.8]) {
      const policy = resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: gamma }, { groupCount: scales.length, expectedBatchSize: B });
      if (policy.kind !== 'adaptive') throw new Error('expected adaptive');
      expect(policy.countNoise).toBeCloseTo((Math.sqrt(3) * B) / 20, 12);
      const r = rng(7);
      let c = scales.map(() => 1); // far from every quantile: 20x above, ~1.4x, 40x below
      const logSums = scales.map(() => 0);
      const steps = 2400;
      const burnIn = 400; // from C = 1, every group is within 10% of its quantile after at most ~100 steps
      for (let t = 0; t < steps; t++) {
        const fractions = scales.map((s, m) => {
          let count = 0;
          for (let i = 0; i < B; i++) if (-s * Math.log(1 - r.uniform()) <= c[m]!) count++;
          return noisyUnclippedFraction(count, B, policy.countNoise * r.normal(), B);
        });
        c = nextThresholds(c, fractions, gamma, policy.learningRate);
        if (t >= burnIn) c.forEach((cm, m) => (logSums[m]! += Math.log(cm)));
      }
      scales.forEach((s, m) => {
        const quantile = -s * Math.log(1 - gamma);
        const estimate = Math.exp(logSums[m]! / (steps - burnIn));
        expect(Math.abs(estimate / quantile - 1), `γ=${gamma}, scale ${s}`).toBeLessThan(0.03);
      });
    }
  });

  it('updates geometrically, C·exp(−η(b̃ − γ)), and reads the centred count with the expected batch size', () => {
    expect(nextThresholds([1, 2], [0.7, 0.3], 0.5, 0.2)).toEqual([Math.exp(-0.2 * 0.2), 2 * Math.exp(0.2 * 0.2)]);
    // Σ(b − ½) + ξ over 10 samples, 6 unclipped, ξ = 1.5; expected batch 12: (6 − 5 + 1.5)/12 + ½
    expect(noisyUnclippedFraction(6, 10, 1.5, 12)).toBeCloseTo(2.5 / 12 + 0.5, 15);
    // noiseless and realised = expected: the plain fraction
    expect(noisyUnclippedFraction(3, 8, 0, 8)).toBe(3 / 8);
  });

  it('has count sensitivity sqrt(M)/2: the largest change of the centred count vector by one sample', () => {
    for (const M of [1, 2, 5, 9]) {
      // brute force over every bit pattern of the added sample (each centred coordinate moves by b − ½)
      let worst = 0;
      for (let bits = 0; bits < 2 ** M; bits++) {
        let sq = 0;
        for (let m = 0; m < M; m++) sq += (((bits >> m) & 1) - 0.5) ** 2;
        worst = Math.max(worst, Math.sqrt(sq));
      }
      expect(countSensitivity(M)).toBeCloseTo(worst, 14);
    }
  });

  it('fills defaults (η = 0.2, σ_b = sqrt(M)·B/20) and its count noise multiplier is σ_b / (sqrt(M)/2)', () => {
    const p = resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: 0.5 }, { groupCount: 4, expectedBatchSize: 256 });
    expect(p).toEqual({
      kind: 'adaptive', targetQuantile: 0.5, learningRate: 0.2, countNoise: 25.6, countSensitivity: 1, countNoiseMultiplier: 25.6, expectedBatchSize: 256,
    });
    const q = resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: 0.9, learningRate: 0.1, countNoise: 3, initialThreshold: 0.5 }, { groupCount: 9, expectedBatchSize: 64 });
    expect(q).toMatchObject({ countNoise: 3, countSensitivity: 1.5, countNoiseMultiplier: 2, initialThreshold: 0.5 });
    expect(resolveThresholdPolicy(undefined, { groupCount: 3, expectedBatchSize: 8 })).toEqual({ kind: 'fixed' });
    expect(resolveThresholdPolicy({ kind: 'fixed' }, { groupCount: 3, expectedBatchSize: 8 })).toEqual({ kind: 'fixed' });
  });

  it('rejects bad policies, naming the value', () => {
    const ctx = { groupCount: 2, expectedBatchSize: 16 };
    const adaptive = (over: Partial<AdaptiveThresholdPolicy>) => () =>
      resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: 0.5, ...over } as AdaptiveThresholdPolicy, ctx);
    for (const gamma of [0, 1, -0.1, 1.5, Number.NaN]) {
      expect(adaptive({ targetQuantile: gamma }), String(gamma)).toThrow(new RegExp(`targetQuantile γ is ${gamma}; expected a number strictly between 0 and 1`));
    }
    for (const sb of [0, -1, Infinity]) expect(adaptive({ countNoise: sb })).toThrow(new RegExp(`countNoise σ_b is ${sb}; expected a finite number > 0`));
    expect(adaptive({ learningRate: 0 })).toThrow(/learningRate η is 0/);
    expect(adaptive({ initialThreshold: -2 })).toThrow(/initialThreshold is -2/);
    expect(() => resolveThresholdPolicy({ kind: 'quantile' } as never, ctx)).toThrow(/kind is "quantile"; expected 'fixed' or 'adaptive'/);
    expect(() => resolveThresholdPolicy({ kind: 'adaptive', targetQuantile: 0.5 }, { groupCount: 2, expectedBatchSize: 0 })).toThrow(/expectedBatchSize is 0/);
    expect(() => countSensitivity(0)).toThrow(/group count is 0/);
    expect(() => nextThresholds([1, 2], [0.5], 0.5, 0.2)).toThrow(/1 unclipped fraction\(s\) for 2 threshold\(s\)/);
  });
});
