import { describe, expect, it } from 'vitest';
import { fakeBench, fakeCell } from './study-summary-fixtures';
import { cellsAtPickedLr, selectLr, stat, summarize } from './study-summary';
import { cellKey, enumerateCells } from './study-spec';

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

describe('picking on seed 0 (run-study --seeds-at-pick)', () => {
  it('selectLr compares lrs on the seeds they all have: seeds run at the pick alone do not move it', () => {
    const runs = [
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 4.0 }, { loss: 1 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.03, 0, { loss: 4.5 }, { loss: 1 }),
      // seeds 1 and 2 at seed 0's pick, unlucky: over every run lr 0.01's mean (4.67) is worse than 0.03's
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 1, { loss: 5.0 }, { loss: 1 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 2, { loss: 5.0 }, { loss: 1 }),
    ];
    const picked = selectLr('gpt2', runs)!;
    expect(picked.lr).toBe(0.01);
    expect(picked.grid.map((t) => [t.lr, t.seeds, t.val])).toEqual([[0.01, 1, 4.0], [0.03, 1, 4.5]]);
  });

  it("cellsAtPickedLr keeps other seeds' cells at seed 0's pick, once seed 0 has every lr of the grid", () => {
    const grid = { family: 'gpt2' as const, sizes: ['s1m'], groupings: ['all-layer', 'layer-wise'], epsilons: [8], lrs: [0.01, 0.03], seeds: [0, 1, 2], steps: 10, batch: 32 };
    const cells = enumerateCells(grid);
    const done = [
      fakeCell('gpt2', 's1m', 'all-layer', 0.01, 0, { loss: 4.5 }, { loss: 1 }),
      fakeCell('gpt2', 's1m', 'all-layer', 0.03, 0, { loss: 4.0 }, { loss: 9 }), // the pick (validation, not test)
      fakeCell('gpt2', 's1m', 'layer-wise', 0.01, 0, { loss: 4.0 }, { loss: 1 }), // layer-wise's 0.03 not run yet
    ];
    const { cells: kept, waiting } = cellsAtPickedLr(cells, done);
    expect(kept.filter((c) => c.seed === 0)).toHaveLength(4);
    expect(kept.filter((c) => c.seed !== 0).map(cellKey)).toEqual([
      'gpt2/s1m/all-layer/eps8/lr0.03/seed1/steps10/b32',
      'gpt2/s1m/all-layer/eps8/lr0.03/seed2/steps10/b32',
    ]);
    expect(waiting).toBe(4); // layer-wise's seeds 1 and 2 at both lrs
    // another ε, step budget or family is another setting: nothing picked for it
    expect(cellsAtPickedLr(enumerateCells({ ...grid, epsilons: [3], seeds: [1] }), done)).toEqual({ cells: [], waiting: 4 });
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
