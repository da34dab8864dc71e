import { describe, expect, it } from 'vitest';
import { largestFitting } from '../src/profile/max-batch';
import { run } from './train-helpers';

describe('largestFitting', () => {
  it('finds the largest B with bytes(B) ≤ budget for an increasing cost, 0 when one sample is over', () => {
    const bytes = (b: number) => 100 + 7 * b;
    for (const budget of [106, 107, 108, 1000, 123456]) {
      const b = largestFitting(bytes, budget);
      expect(bytes(b)).toBeLessThanOrEqual(budget);
      expect(bytes(b + 1)).toBeGreaterThan(budget);
    }
    expect(largestFitting(bytes, 99)).toBe(0);
  });
});

describe('clipwise bench --budget-mib (cpu, gpt2-tiny)', () => {
  it('prints per configuration the largest batch within the budget; one measured step at it matches the prediction', async () => {
    const { code, out } = await run(['bench', '--backend', 'cpu', '--model', 'gpt2-tiny', '--seq-len', '16', '--groupings', 'all-layer,layer-wise', '--budget-mib', '8']);
    expect(code).toBe(0);
    const rows = [...out.matchAll(/^\| (non-private|all-layer|layer-wise) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$/gm)].map((m) => ({
      config: m[1]!,
      batch: Number(m[2]),
      predicted: Number(m[3]),
      measured: Number(m[4]),
      next: Number(m[5]),
    }));
    expect(rows.map((r) => r.config)).toEqual(['non-private', 'all-layer', 'layer-wise']);
    for (const r of rows) {
      expect(r.batch).toBeGreaterThan(0);
      expect(r.predicted).toBeLessThanOrEqual(8);
      expect(r.next).toBeGreaterThan(8);
      // the analytic model against the engine's count of a real step at that batch
      expect(Math.abs(r.measured - r.predicted) / r.predicted).toBeLessThan(0.01);
    }
  });
});
