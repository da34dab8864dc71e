import { describe, expect, it } from 'vitest';
import { fakeCell } from './study-summary-fixtures';
import { sameLrTable } from './study-same-lr';

const want = { family: 'gpt2' as const, sizes: ['small'], groupings: ['all-layer', 'layer-wise'], epsilons: [8], steps: 10, batch: 32 };

describe('sameLrTable (every grouping at the same lr, one seed)', () => {
  it('puts each lr any grouping ran at the seed on a row, validation / test per grouping, – where one did not run it', () => {
    const records = [
      fakeCell('gpt2', 'small', 'layer-wise', 0.03, 0, { loss: 3.2 }, { loss: 2.3 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 3.0 }, { loss: 2.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.03, 0, { loss: 3.5 }, { loss: 1.0 }),
      // another seed, another step budget, a grouping not asked for: left out
      fakeCell('gpt2', 'small', 'layer-wise', 0.01, 1, { loss: 9 }, { loss: 9 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.01, 0, { loss: 9 }, { loss: 9 }, 20),
      fakeCell('gpt2', 'small', 'uniform:4', 0.01, 0, { loss: 9 }, { loss: 9 }),
    ];
    expect(sameLrTable(records, want).split('\n')).toEqual([
      '| size | ε | lr | all-layer | layer-wise |',
      '| --- | ---: | ---: | ---: | ---: |',
      '| small | 8 | 0.01 | 3.0000 / 2.0000 | – |',
      '| small | 8 | 0.03 | 3.5000 / 1.0000 | 3.2000 / 2.3000 |',
      '',
    ]);
    expect(sameLrTable(records, want, 1)).toContain('| small | 8 | 0.01 | – | 9.0000 / 9.0000 |');
  });

  it('gives ViT accuracies in percent', () => {
    const records = [fakeCell('vit', 'small', 'all-layer', 0.01, 0, { loss: 1, accuracy: 0.4123 }, { loss: 1, accuracy: 0.5 })];
    expect(sameLrTable(records, { ...want, family: 'vit', groupings: ['all-layer'] })).toContain('| small | 8 | 0.01 | 41.23 / 50.00 |');
  });
});
