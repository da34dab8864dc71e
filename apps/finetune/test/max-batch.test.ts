import { describe, expect, it } from 'vitest';
import { largestFitting, runMaxBatch } from '../src/profile/max-batch';
import { run } from './train-helpers';

describe('largestFitting', () => {
  it('finds the largest B with bytes(B) ≤ budget for an increasing cost, 0 when one sample is over; the cost may be async', async () => {
    const bytes = (b: number) => 100 + 7 * b;
    for (const budget of [106, 107, 108, 1000, 123456]) {
      const b = await largestFitting(bytes, budget);
      expect(bytes(b)).toBeLessThanOrEqual(budget);
      expect(bytes(b + 1)).toBeGreaterThan(budget);
      expect(await largestFitting(async (n) => bytes(n), budget)).toBe(b);
    }
    expect(await largestFitting(bytes, 99)).toBe(0);
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

describe('clipwise bench --budget-mib --budget-check off (cpu, gpt2-tiny)', () => {
  it('prints the same largest batches and predictions with no measured step; the flag alone is refused', async () => {
    const args = ['bench', '--backend', 'cpu', '--model', 'gpt2-tiny', '--seq-len', '16', '--groupings', 'all-layer,layer-wise', '--budget-mib', '8'];
    const rowsOf = (out: string) => [...out.matchAll(/^\| (non-private|all-layer|layer-wise) \| (\d+) \| ([\d.]+) \| ([^|]+) \| ([\d.]+) \| the budget \|$/gm)].map((m) => m.slice(1).map((c) => c.trim()));
    const checked = rowsOf((await run(args)).out);
    const { code, out } = await run([...args, '--budget-check', 'off']);
    expect(code).toBe(0);
    const planned = rowsOf(out);
    expect(planned).toHaveLength(3);
    // configuration, batch, predicted and one-more columns as the checked run's; no measurement
    expect(planned.map((r) => [r[0], r[1], r[2], r[4]])).toEqual(checked.map((r) => [r[0], r[1], r[2], r[4]]));
    expect(planned.map((r) => r[3])).toEqual(['-', '-', '-']);
    expect(checked.every((r) => /^[\d.]+$/.test(r[3]!))).toBe(true);
    expect((await run(['bench', '--backend', 'cpu', '--model', 'gpt2-tiny', '--budget-check', 'off'])).err).toMatch(/--budget-check applies to --budget-mib/);
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

  it('predicts a batch whose logits run in spans from traces in its span count: the measured step matches, and the batch is larger', async () => {
    // vocabulary 2000 at T = 16: 128,000 bytes of logits a sample. A 500 kB limit keeps batch 1 to 3 whole
    // and splits larger batches. Traced whole and scaled, a step in spans was predicted to hold its logits
    // and their temporaries at full size: about twice what it held.
    const common = { model: 'gpt2-tiny', modelConfig: { n_embd: 16, n_layer: 1, vocab_size: 2000 }, seqLen: 16, budgetMib: 8, backend: 'cpu' as const, optimizer: 'adamw' as const, noiseMultiplier: 1, log: () => {} };
    const groupings = ['non-private', 'layer-wise'];
    const spanned = await runMaxBatch({ ...common, groupings, bindingLimitBytes: 500_000 });
    const whole = await runMaxBatch({ ...common, groupings: ['non-private'], bindingLimitBytes: 1e12 });
    for (const r of spanned) {
      expect(r.boundBy, r.configuration).toBe('budget');
      expect(r.measuredBytes, r.configuration).not.toBeNull();
      expect(Math.abs(r.measuredBytes! - r.predictedBytes) / r.predictedBytes, r.configuration).toBeLessThan(0.01);
      expect(r.nextPredictedBytes).toBeGreaterThan(8 * 2 ** 20);
      // spans hold a third or less of the logits at a time: more samples fit than whole
      expect(r.maxBatch, r.configuration).toBeGreaterThan(2 * whole[0]!.maxBatch);
    }
    // one sample's logits past the limit (50 kB): batch 1 and 2 run on different span counts, which a
    // single pair of traces could not scale between
    const tight = await runMaxBatch({ ...common, budgetMib: 4, groupings: ['all-layer'], bindingLimitBytes: 50_000 });
    expect(tight[0]!.maxBatch).toBeGreaterThan(0);
    expect(Math.abs(tight[0]!.measuredBytes! - tight[0]!.predictedBytes) / tight[0]!.predictedBytes).toBeLessThan(0.01);
  }, 120_000);
});
