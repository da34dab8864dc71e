import { describe, expect, it } from 'vitest';
import { largestFitting, runMaxBatch } from '../src/profile/max-batch';
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
    const rows = [...out.matchAll(/^\| (non-private|all-layer|layer-wise) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| the budget \|$/gm)].map((m) => ({
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

describe('runMaxBatch under a binding limit (cpu, gpt2-tiny)', () => {
  it('stops at the batch whose largest tensor still binds; GPT-2\'s logits do not bind, split into spans of positions', async () => {
    // n_embd 32 at T = 16: the MLP's hidden [B, 16, 128] is the largest tensor after the logits
    // [B, 16, 257], which the model splits into spans past the limit: a 100 kB limit holds 12 samples'
    // MLP hidden (8,192 bytes each), where the whole logits (16,448 bytes a sample) held 6
    const lines: string[] = [];
    const rows = await runMaxBatch({
      model: 'gpt2-tiny', modelConfig: { n_embd: 32 }, seqLen: 16, budgetMib: 64, groupings: ['non-private', 'all-layer'], backend: 'cpu',
      optimizer: 'adamw', noiseMultiplier: 1, bindingLimitBytes: 100_000, log: (l) => lines.push(l),
    });
    for (const r of rows) {
      expect(r.boundBy).toBe('binding');
      expect(r.maxBatch).toBe(Math.floor(100_000 / (16 * 128 * 4)));
      expect(r.predictedBytes).toBeLessThan(64 * 2 ** 20); // the budget alone would allow more
      // the measured step ran at that batch, its logits (12 × 16,448 bytes) in two spans
      expect(r.measureError).toBeUndefined();
      expect(r.measuredBytes).not.toBeNull();
    }
    expect(lines.join('\n')).toMatch(/\| non-private \| 12 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| the largest tensor binding \|/);
  });
});
