import { describe, expect, it } from 'vitest';
import { cellKey, enumerateCells, groupingFlags, pendingCells, STUDY_SIZES, trainArgs } from './study-spec';

describe('enumerateCells', () => {
  it('covers size × seed × ε × lr × grouping with the family budget, groupings innermost', () => {
    const cells = enumerateCells({ family: 'gpt2', sizes: ['s1m', 's12m'] });
    // each size its own lr grid (s12m's was widened where its picks sat at the edge)
    const lrs = STUDY_SIZES.gpt2.sizes.s1m!.lrs.length + STUDY_SIZES.gpt2.sizes.s12m!.lrs.length;
    expect(cells).toHaveLength(3 * 2 * lrs * 4);
    expect(cells.slice(0, 4).map((c) => c.grouping)).toEqual(['all-layer', 'layer-wise', 'uniform:4', 'layer-wise-adaptive']);
    expect(new Set(cells.map(cellKey)).size).toBe(cells.length);
    expect(cells.every((c) => c.steps === STUDY_SIZES.gpt2.finetune.steps && c.batch === STUDY_SIZES.gpt2.finetune.batch)).toBe(true);
    expect(cells.filter((c) => c.size === 's12m').map((c) => c.lr)).toContain(STUDY_SIZES.gpt2.sizes.s12m!.lrs[0]);
  });

  it('rejects an unknown size, naming the known ones', () => {
    expect(() => enumerateCells({ family: 'vit', sizes: ['huge'] })).toThrow(/unknown vit size 'huge'.*s0\.5m/);
  });
});

describe('pendingCells', () => {
  const cells = enumerateCells({ family: 'vit', sizes: ['pilot-a'], groupings: ['all-layer', 'layer-wise'], epsilons: [8], seeds: [0, 1], steps: 5, batch: 16 });

  it('skips exactly the finished keys', () => {
    const done = new Set([cellKey(cells[0]!), cellKey(cells[3]!)]);
    expect(pendingCells(cells, done)).toEqual([cells[1], cells[2]]);
  });

  it('does not count a cell of another step budget as finished', () => {
    const other = enumerateCells({ family: 'vit', sizes: ['pilot-a'], groupings: ['all-layer', 'layer-wise'], epsilons: [8], seeds: [0, 1], steps: 10, batch: 16 });
    expect(pendingCells(other, new Set(cells.map(cellKey)))).toHaveLength(other.length);
  });
});

describe('trainArgs', () => {
  const cell = { family: 'gpt2' as const, size: 's1m', grouping: 'layer-wise-adaptive', epsilon: 3, lr: 0.01, seed: 2, steps: 100, batch: 256 };
  const args = trainArgs(cell, { model: 'M', train: 'fit.csv', val: 'val.csv', out: 'O' }, { backend: 'webgpu', limit: 50 });
  const flag = (name: string) => args[args.indexOf(name) + 1];

  it('trains privately on the training split and evaluates on validation only', () => {
    expect([flag('--data'), flag('--eval-data'), flag('--epsilon'), flag('--delta'), flag('--sampling')]).toEqual(['fit.csv', 'val.csv', '3', '0.00001', 'poisson']);
    expect(args).not.toContain('--no-dp');
    expect(flag('--gen-limit')).toBe('0');
    expect([flag('--steps'), flag('--batch-size'), flag('--seed'), flag('--lr'), flag('--limit')]).toEqual(['100', '256', '2', '0.01', '50']);
  });

  it('maps adaptive layer-wise to --grouping layer-wise --thresholds adaptive', () => {
    expect(groupingFlags('layer-wise-adaptive')).toEqual(['--grouping', 'layer-wise', '--thresholds', 'adaptive']);
    expect(groupingFlags('uniform:4')).toEqual(['--grouping', 'uniform:4']);
    expect(flag('--thresholds')).toBe('adaptive');
  });

  it('starts a fresh ViT head only for the transfer task (newHead)', () => {
    const vit = { ...cell, family: 'vit' as const, size: 's0.5m' };
    const paths = { model: 'M', train: 'fit.tar.gz', val: 'val.tar.gz', out: 'O' };
    expect(args).not.toContain('--new-head');
    expect(trainArgs(vit, paths, { backend: 'webgpu' })).not.toContain('--new-head');
    expect(trainArgs(vit, paths, { backend: 'webgpu', newHead: true })).toContain('--new-head');
  });
});
