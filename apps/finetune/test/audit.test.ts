import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { calibrateNoise } from '@clipwise/accountant';
import { makeCanaryData } from '../src/audit/canary-data';
import { canaryScores } from '../src/audit/canary-scores';
import { AUDIT_DEFAULTS, runAudit, type AuditOptions } from '../src/audit/run-audit';
import { run } from './train-helpers';

// Tiny settings: 400 canaries (200 in, on average) and 50 real examples, E[B] = 64, so q = 64/250.
const TINY = { ...AUDIT_DEFAULTS, backend: 'cpu', canaries: 400, examples: 50, batchSize: 64, steps: 30 } satisfies Partial<AuditOptions>;
const TINY_FLAGS = ['--backend', 'cpu', '--canaries', '400', '--examples', '50', '--batch-size', '64', '--steps', '30'];
const Q = 64 / 250;

describe('canary data and scores', () => {
  it('flips one fair coin per canary from the seed, independently of the real data, and lists included canaries as rows', () => {
    const a = makeCanaryData({ examples: 30, features: 4, classes: 3, canaries: 2000, seed: 5 });
    const b = makeCanaryData({ examples: 70, features: 6, classes: 3, canaries: 2000, seed: 5 });
    expect(b.included).toEqual(a.included); // the coins do not depend on the data
    const inCount = a.included.filter(Boolean).length;
    expect(Math.abs(inCount - 1000)).toBeLessThan(4 * Math.sqrt(500)); // Binomial(2000, 1/2), 4 standard deviations
    expect(a.rows).toBe(30 + inCount);
    const rowsOfCanaries = Array.from(a.canaryOfRow).filter((c) => c >= 0);
    expect(rowsOfCanaries).toEqual(a.included.flatMap((inc, i) => (inc ? [i] : [])));
    for (let r = 30; r < a.rows; r++) {
      expect(a.labels[r]).toBe(a.canaryLabels[a.canaryOfRow[r]!]);
      expect(Array.from(a.x.subarray(r * 4, r * 4 + 4))).toEqual([0, 0, 0, 0]); // canaries carry no real features
    }
    expect(makeCanaryData({ examples: 30, features: 4, classes: 3, canaries: 2000, seed: 6 }).included).not.toEqual(a.included);
  });

  it('scores each canary by its column movement along e_label - 1/K (hand-computed)', () => {
    // 3 classes, 2 canaries; columns stored [class][canary]
    const before = Float64Array.from([0, 0, 0, 0, 0, 0]);
    const after = Float64Array.from([0.3, -1, -0.1, 2, -0.2, -1]);
    const s = canaryScores(before, after, Int32Array.from([0, 1]), 3);
    // canary 0 (label 0): moved (0.3, -0.1, -0.2) · (2/3, -1/3, -1/3) = 0.2 + 0.1/3 + 0.2/3 = 0.3
    // canary 1 (label 1): moved (-1, 2, -1) · (-1/3, 2/3, -1/3) = 1/3 + 4/3 + 1/3 = 2
    expect(s[0]).toBeCloseTo(0.3, 12);
    expect(s[1]).toBeCloseTo(2, 12);
  });
});

describe('clipwise audit (one-run canary audit, cpu)', () => {
  it('noise off: the audit proves a large ε (> 3) and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const r = await runAudit({ ...TINY, noiseMultiplier: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.accountantEpsilon).toBe(Infinity);
    expect(r.sampleRate).toBeCloseTo(Q, 12);
    expect(r.audit.epsilonLowerBound).toBeGreaterThan(3);
    expect(r.audit.best.correct).toBe(r.audit.best.guesses);
  });

  it.each([
    [2, 0],
    [2, 1],
    [1, 0],
    [1, 1],
  ])('σ calibrated for ε = %i (seed %i): the audited bound stays below the accountant’s ε', async (epsilon, seed) => {
    const r = await runAudit({ ...TINY, epsilon, seed });
    expect(r.accountantEpsilon).toBeLessThanOrEqual(epsilon);
    expect(r.accountantEpsilon).toBeGreaterThan(0.99 * epsilon);
    expect(r.audit.epsilonLowerBound).toBeLessThanOrEqual(r.accountantEpsilon);
  });

  it('catches a run with 20× too little noise for its claimed ε = 1 (the bound exceeds the claim)', async () => {
    const claimed = calibrateNoise({ targetEpsilon: 1, delta: 1e-5, sampleRate: Q, steps: 30 }).noiseMultiplier;
    const r = await runAudit({ ...TINY, noiseMultiplier: claimed / 20 });
    expect(r.audit.epsilonLowerBound).toBeGreaterThan(1);
    expect(r.audit.epsilonLowerBound).toBeLessThanOrEqual(r.accountantEpsilon); // the true ε of σ/20 still bounds it
  });

  it('CLI: prints the table, --json the report; exit 0 when consistent', async () => {
    const t = await run(['audit', ...TINY_FLAGS, '--epsilon', '2', '--seed', '3']);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/accountant ε \(RDP, δ = 0\.00001\) +[12]\.\d{3}\n/);
    expect(t.out).toMatch(/audited ε lower bound \(95%\) +\d\.\d{3}\n/);
    expect(t.out).toMatch(/correct guesses \(best\) +\d+ of \d+/);
    expect(t.out).toMatch(/consistent: the audited lower bound is below the accountant’s ε/);
    const j = await run(['audit', ...TINY_FLAGS, '--noise-multiplier', '0', '--json', '--confidence', '0.9']);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.out);
    expect(report).toMatchObject({ private: false, accountantEpsilon: null, violation: false, canaries: 400, steps: 30, grouping: 'layer-wise' });
    expect(report.audit.confidence).toBe(0.9);
    expect(report.epsilonLowerBound).toBe(report.audit.epsilonLowerBound);
    expect(report.audit.attempts.map((a: { guesses: number }) => a.guesses)).toEqual([40, 100, 200, 400]);
  });

  it('runAudit without ε or σ says to give one', async () => {
    await expect(runAudit({ ...TINY, steps: 1 })).rejects.toThrow(/give exactly one of --epsilon .* and --noise-multiplier/);
  });

  it.each([
    [['--epsilon', '2', '--noise-multiplier', '1'], /give --epsilon .* or --noise-multiplier, not both/],
    [['--canaries', '1'], /--canaries must be an integer ≥ 2, got '1'/],
    [['--confidence', '1.5'], /--confidence must be in \(0, 1\)/],
    [['--noise-multiplier=-1'], /--noise-multiplier must be a number ≥ 0/],
    [['--batch-size', '600'], /--batch-size 600 exceeds the expected training-set size 250/],
    [['--grouping', 'nonsense'], /--grouping 'nonsense'/],
    [['--epsilon', '1e-9'], /--epsilon 1e-9: /],
    [['--bogus'], /unknown option '--bogus'/],
  ])('bad input %j → exit 2 with a message naming it', async (extra, message) => {
    const r = await run(['audit', ...TINY_FLAGS, '--steps', '2', ...extra]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
