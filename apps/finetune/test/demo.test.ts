import { describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS, runDemo } from '../src/commands/demo';

describe('clipwise demo', () => {
  it('runs a short private training on the shipped sample and reports loss, clip fractions and ε', async () => {
    const lines: string[] = [];
    const r = await runDemo({ ...DEMO_DEFAULTS, backend: 'cpu', steps: 2, batchSize: 8, epsilon: 3, log: (s) => lines.push(s) });
    const text = lines.join('\n');
    expect(text).toMatch(/step {3}1\/2 {2}loss \d\.\d{3} {2}B= ?\d+ {2}clipped +\d+% \(mean over groups; most: \S+ \d+%\) {2}ε=\d\.\d\d/);
    expect(text).toMatch(/privacy spent: ε=\d\.\d{3} at δ=0\.00001 \(RDP, Poisson sampling, 2 steps/);
    expect(Number.isFinite(r.testLossBefore) && Number.isFinite(r.testLossAfter)).toBe(true);
    // the accountant's ε for the calibrated σ meets the target (calibration tolerance)
    expect(r.epsilon).toBeLessThanOrEqual(3);
    expect(r.epsilon).toBeGreaterThan(2.9);
  }, 120_000);
});
