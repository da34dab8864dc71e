import { describe, expect, it } from 'vitest';
import { fakeCell } from './study-summary-fixtures';
import { summarize } from './study-summary';
import { pairedGapTable, pairedGaps } from './study-paired';
import { studyTable } from './study-table';
import { metricPoints } from './study-plot';

const want = { family: 'gpt2' as const, sizes: ['small'], groupings: ['all-layer', 'layer-wise', 'uniform:4'], epsilons: [8], steps: 10, batch: 32 };

describe('pairedGaps (each grouping against all-layer, seed by seed, at each one\'s picked lr)', () => {
  it('pairs the runs of the same seed at each side\'s own pick, and counts the pairs where the grouping is behind', () => {
    const records = [
      // all-layer picks 0.01 on validation (3.0 < 3.5); its test losses at 0.01: 2.0, 2.2, 2.1
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 3.0 }, { loss: 2.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.03, 0, { loss: 3.5 }, { loss: 1.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 1, { loss: 3.1 }, { loss: 2.2 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 2, { loss: 3.1 }, { loss: 2.1 }),
      // layer-wise picks 0.03 (3.2 < 3.6); at 0.03: 2.3 (seed 0), 2.1 (seed 1); seed 2 never ran there
      fakeCell('gpt2', 'small', 'layer-wise', 0.01, 0, { loss: 3.6 }, { loss: 9.0 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.03, 0, { loss: 3.2 }, { loss: 2.3 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.03, 1, { loss: 3.3 }, { loss: 2.1 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.01, 2, { loss: 3.7 }, { loss: 9.0 }),
      // another step budget: left out, as the summary leaves it
      fakeCell('gpt2', 'small', 'layer-wise', 0.03, 2, { loss: 3.0 }, { loss: 0.5 }, 20),
    ];
    const gaps = pairedGaps(records, summarize(records, want), want);
    expect(gaps).toHaveLength(2);
    const lw = gaps[0]!;
    expect(lw.grouping).toBe('layer-wise');
    expect(lw.pairs.map((p) => p.seed)).toEqual([0, 1]);
    expect(lw.pairs[0]!.diff).toBeCloseTo(0.3, 12); // 2.3 − 2.0
    expect(lw.pairs[1]!.diff).toBeCloseTo(-0.1, 12); // 2.1 − 2.2
    expect(lw.behind).toBe(1);
    expect(lw.diff!.mean).toBeCloseTo(0.1, 12);
    expect(lw.diff!.sd).toBeCloseTo(Math.sqrt(0.08), 12); // (0.2² + 0.2²) / 1
    // uniform:4 has no run: a row with no pairs
    expect(gaps[1]).toMatchObject({ grouping: 'uniform:4', pairs: [], diff: null, behind: 0 });
    const table = pairedGapTable(gaps, 'gpt2');
    expect(table).toContain('| small | 8 | layer-wise − all-layer | 2 | 0: +0.300; 1: -0.100 | +0.100 ± 0.283 | 1 of 2 |');
    expect(table).toContain('| small | 8 | uniform:4 − all-layer | 0 | missing | missing | 0 of 0 |');
  });

  it('for ViT compares test accuracy: lower is behind, printed in points', () => {
    const vit = (grouping: string, seed: number, acc: number) => fakeCell('vit', 'small', grouping, 0.01, seed, { loss: 1, accuracy: 0.5 }, { loss: 1, accuracy: acc });
    const records = [vit('all-layer', 0, 0.6), vit('all-layer', 1, 0.62), vit('layer-wise', 0, 0.58), vit('layer-wise', 1, 0.63)];
    const w = { ...want, family: 'vit' as const, groupings: ['all-layer', 'layer-wise'] };
    const gaps = pairedGaps(records, summarize(records, w), w);
    expect(gaps[0]!.behind).toBe(1); // seed 0: −2 points; seed 1: +1
    expect(pairedGapTable(gaps, 'vit')).toContain('| 0: -2.00; 1: +1.00 | -0.50 ± 2.12 | 1 of 2 |');
  });

  // s12m's first uniform:4 cells (2026-12-07): two of the four lrs ran, the provisional pick (2e-3) sat
  // below all-layer's finished pick (5e-3), and the pairs read 0.22 nats ahead for uniform:4
  it('makes no pairs while either side\'s lr grid is still running, and the table marks the pick provisional', () => {
    const records = [
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 3.0 }, { loss: 2.0 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.03, 0, { loss: 2.9 }, { loss: 2.5 }),
      fakeCell('gpt2', 'small', 'all-layer', 0.1, 0, { loss: 3.4 }, { loss: 3.0 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.01, 0, { loss: 3.1 }, { loss: 1.5 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.03, 0, { loss: 3.2 }, { loss: 1.9 }),
    ];
    const rows = summarize(records, want);
    expect(rows.map((r) => r.gridMissing)).toEqual([[], [0.1], []]); // uniform:4 has no run: nothing to be missing
    const gaps = pairedGaps(records, rows, want);
    expect(gaps[0]).toMatchObject({ grouping: 'layer-wise', pairs: [], diff: null, gridIncomplete: true });
    expect(pairedGapTable(gaps, 'gpt2')).toContain('| small | 8 | layer-wise − all-layer | 0 | lr grid still running | missing | 0 of 0 |');
    expect(studyTable(rows, 3)).toContain('| 0.01 (provisional: 0.1 not run) | 1/3 |');
    expect(metricPoints(rows, (r) => r.test.loss)).toMatchObject({ points: [{ grouping: 'all-layer' }], missing: 1, provisional: 1 });
    // the grid done: the pairs come back
    const done = [...records, fakeCell('gpt2', 'small', 'layer-wise', 0.1, 0, { loss: 3.5 }, { loss: 3.5 })];
    const doneGaps = pairedGaps(done, summarize(done, want), want);
    expect(doneGaps[0]).toMatchObject({ gridIncomplete: false, pairs: [{ seed: 0 }] });
    expect(doneGaps[0]!.pairs[0]!.diff).toBeCloseTo(1.5 - 2.5, 12); // layer-wise at 0.01 against all-layer at 0.03
  });

  // s53m's first cells (nineteenth session): both groupings at 1e-3 only, the bottom of a planned grid of three
  it('counts the size\'s planned grid: groupings that all stopped at the same lrs have provisional picks', () => {
    const records = [
      fakeCell('gpt2', 'small', 'all-layer', 0.01, 0, { loss: 2.2 }, { loss: 3.35 }),
      fakeCell('gpt2', 'small', 'layer-wise', 0.01, 0, { loss: 2.6 }, { loss: 3.63 }),
    ];
    const w = { ...want, groupings: ['all-layer', 'layer-wise'] };
    // without a planned grid, the lrs the runs have are the grid: a pick and a pair
    expect(pairedGaps(records, summarize(records, w), w)[0]!.pairs).toHaveLength(1);
    const planned = { ...w, lrGrids: { small: [0.01, 0.02, 0.05], other: [1] } };
    const rows = summarize(records, planned);
    expect(rows.map((r) => r.gridMissing)).toEqual([[0.02, 0.05], [0.02, 0.05]]);
    expect(pairedGaps(records, rows, planned)[0]).toMatchObject({ pairs: [], gridIncomplete: true });
    expect(studyTable(rows, 3)).toContain('| 0.01 (provisional: 0.02, 0.05 not run) | 1/3 |');
  });
});
