import { describe, expect, it } from 'vitest';
import { fakeBench, fakeCell } from './study-summary-fixtures';
import { selectLr, stat, summarize } from './study-summary';

describe('stat', () => {
  it('gives the mean and sample standard deviation, no spread for one value', () => {
    const s = stat([1, 2, 3, 6])!;
    expect(s.mean).toBe(3);
    expect(s.sd).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect(stat([2])).toEqual({ mean: 2, sd: null, n: 1 });
    expect(stat([])).toBeNull();
  });
});

describe('selectLr', () => {
  it('picks the lr of the best mean validation loss, whatever the test set says (GPT-2)', () => {
    const runs = [
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 4.0 }, { loss: 9.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 1, { loss: 4.2 }, { loss: 9.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.03, 0, { loss: 4.5 }, { loss: 1.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.03, 1, { loss: 3.9 }, { loss: 1.0 }),
    ];
    const picked = selectLr('gpt2', runs)!;
    expect(picked.lr).toBe(0.01); // mean 4.1 < 4.2, though lr 0.03 is far better on test
    expect(picked.grid.map((t) => [t.lr, t.seeds])).toEqual([[0.01, 2], [0.03, 2]]);
    expect(picked.grid[0]!.val).toBeCloseTo(4.1, 12);
  });

  it('maximises validation accuracy for ViT; a tie goes to the smaller lr', () => {
    const vit = (lr: number, acc: number) => fakeCell('vit', 'small', 'layer-wise', lr, 0, { loss: 1, accuracy: acc }, { loss: 1, accuracy: 1 - acc });
    expect(selectLr('vit', [vit(0.001, 0.4), vit(0.002, 0.5), vit(0.005, 0.45)])!.lr).toBe(0.002);
    expect(selectLr('vit', [vit(0.002, 0.5), vit(0.001, 0.5)])!.lr).toBe(0.001);
    expect(selectLr('vit', [])).toBeNull();
  });
});

describe('summarize', () => {
  const records = [
    fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 4 }, { loss: 5, bleu: 0.1, rougeL: 0.3 }),
    fakeCell('gpt2', 'small', 'all-layer', 0.01, 1, { loss: 4 }, { loss: 7, bleu: 0.3, rougeL: 0.5 }),
    fakeCell('gpt2', 'small', 'all-layer', 0.03, 0, { loss: 6 }, { loss: 1, bleu: 0.9, rougeL: 0.9 }),
    fakeCell('gpt2', 'small', 'layer-wise', 0.01, 0, { loss: 4 }, { loss: 2 }, 99), // another budget: left out
    fakeBench('gpt2', 'small', { 'non-private': 10, 'all-layer': 14, 'layer-wise': 11 }),
  ];
  const rows = summarize(records, { family: 'gpt2', sizes: ['small', 'big'], groupings: ['all-layer', 'layer-wise', 'layer-wise-adaptive'], epsilons: [8], steps: 10, batch: 32 });

  it('has a row for every size × grouping asked for, runs or not', () => {
    expect(rows.map((r) => `${r.size}/${r.grouping}`)).toEqual(['small/all-layer', 'small/layer-wise', 'small/layer-wise-adaptive', 'big/all-layer', 'big/layer-wise', 'big/layer-wise-adaptive']);
  });

  it('aggregates the test metrics of the picked lr only, over its seeds', () => {
    const r = rows[0]!;
    expect(r.lr).toBe(0.01);
    expect(r.test.loss).toEqual({ mean: 6, sd: Math.SQRT2, n: 2 });
    expect(r.test.bleu!.mean).toBeCloseTo(0.2, 12);
    expect(r.test.accuracy).toBeNull();
    expect(r.stepMs!.mean).toBe(100.5);
    expect(r.params).toBe(60_000);
  });

  it('leaves rows without runs of this budget empty, and takes bench rows by grouping', () => {
    expect(rows[1]!.lr).toBeNull();
    expect(rows[1]!.test.loss).toBeNull();
    expect(rows[0]!.bench!.peakBytes).toBe(14 * 2 ** 20);
    expect(rows[2]!.bench!.peakBytes).toBe(11 * 2 ** 20); // adaptive layer-wise: layer-wise's memory
    expect(rows[3]!.bench).toBeNull();
  });
});
