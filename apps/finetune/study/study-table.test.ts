import { describe, expect, it } from 'vitest';
import { fakeBench, fakeCell } from './study-summary-fixtures';
import { summarize } from './study-summary';
import { studyPlotHtml } from './study-plot';
import { formatStat, studyGlance, studyTable } from './study-table';

const records = [
  fakeCell('vit', 'small', 'all-layer', 0.001, 0, { loss: 1, accuracy: 0.5 }, { loss: 1.2, accuracy: 0.41 }, 10, 'base0', { val: { loss: 1.1, accuracy: 0.475 }, test: { loss: 1.15, accuracy: 0.402 } }),
  fakeCell('vit', 'small', 'all-layer', 0.001, 1, { loss: 1, accuracy: 0.5 }, { loss: 1.4, accuracy: 0.43 }, 10, 'base0', { val: { loss: 1.1, accuracy: 0.475 }, test: { loss: 1.15, accuracy: 0.402 } }),
  fakeCell('vit', 'big', 'all-layer', 0.001, 0, { loss: 1, accuracy: 0.6 }, { loss: 1.0, accuracy: 0.55 }),
  fakeBench('vit', 'small', { 'all-layer': 20, 'layer-wise': 12 }),
];
const rows = summarize(records, { family: 'vit', sizes: ['small', 'big'], groupings: ['all-layer', 'layer-wise'], epsilons: [8], steps: 10, batch: 32 });

describe('formatStat', () => {
  it('writes mean ± sd, marks a single seed, and never invents a value', () => {
    expect(formatStat({ mean: 0.42, sd: 0.0141, n: 2 }, 1, 100)).toBe('42.0 ± 1.4');
    expect(formatStat({ mean: 1.5, sd: null, n: 1 }, 3)).toBe('1.500 (n=1)');
    expect(formatStat(null, 3)).toBe('missing');
  });
});

describe('studyTable', () => {
  const lines = studyTable(rows, 3).trim().split('\n');

  it('has one line per row under the header, with the seeds done of those planned', () => {
    expect(lines).toHaveLength(2 + 4);
    expect(lines[0]).toContain('test accuracy %');
    expect(lines[2]).toMatch(/^\| small \| 60\.0k \| all-layer \| 8 \| 47\.5 \/ 40\.2 \| 0\.001: 50\.0 \(n=2\) \| 0\.001 \| 2\/3 \| 42\.0 ± 1\.4 \| 1\.3000 ± 0\.1414 \| 101 \| missing \| 20\.0 \| 21\.0 \| 50 \|$/);
  });

  it('shows the pre-trained model\'s validation and test scores where the runs recorded them, and missing where they did not', () => {
    expect(lines[0]).toContain('| pre-trained accuracy %: val / test | lr grid: val accuracy % |');
    expect(lines[4]).toMatch(/^\| big \| 2\.00M \| all-layer \| 8 \| missing \/ missing \| 0\.001: 60\.0 \(n=1\) \|/);
  });

  it('labels the step-0 score as the fresh head\'s for transfer runs (--new-head), with no pre-trained test score', () => {
    const transfer = records.map((r) => (r.kind === 'cell' ? { ...r, args: ['train', '--new-head'], testStart: undefined } : r));
    const t = studyTable(summarize(transfer, { family: 'vit', sizes: ['small', 'big'], groupings: ['all-layer'], epsilons: [8], steps: 10, batch: 32 }), 3).split('\n');
    expect(t[0]).toContain('| fresh head, step 0: val accuracy % | lr grid: val accuracy % |');
    expect(t[2]).toMatch(/^\| small \| 60\.0k \| all-layer \| 8 \| 47\.5 \| 0\.001: 50\.0 \(n=2\) \|/);
    expect(lines[0]).not.toContain('fresh head');
  });

  it('shows a row without runs as missing, keeping the bench numbers it has', () => {
    expect(lines[3]).toBe('| small | missing | layer-wise | 8 | missing / missing | missing | missing | 0/3 | missing | missing | missing | missing | 12.0 | 13.0 | 50 |');
    expect(lines[5]).toContain('| big | missing | layer-wise | 8 | missing / missing | missing | missing | 0/3 | missing | missing | missing | missing | missing | missing | missing |');
  });

  it('warns when a size\'s runs started from different pre-trained models', () => {
    expect(studyTable(rows, 3)).not.toContain('Warning');
    const twice = summarize([...records, fakeCell('vit', 'big', 'all-layer', 0.001, 1, { loss: 1, accuracy: 0.6 }, { loss: 1, accuracy: 0.5 }, 10, 'base1')], {
      family: 'vit', sizes: ['small', 'big'], groupings: ['all-layer'], epsilons: [8], steps: 10, batch: 32,
    });
    expect(studyTable(twice, 3)).toContain('Warning: the runs of big started from more than one pre-trained model');
  });
});

describe('studyGlance', () => {
  const lines = studyGlance(rows).trim().split('\n');

  it('has a line per (size, ε) with each grouping\'s test score at its pick, its seed count, and the bench row', () => {
    expect(lines).toHaveLength(2 + 2);
    expect(lines[0]).toBe('| size | params | ε | all-layer: test accuracy % (seeds) | layer-wise: test accuracy % (seeds) | all-layer: bench peak / predicted MiB / step ms | layer-wise: bench peak / predicted MiB / step ms |');
    expect(lines[2]).toBe('| small | 60.0k | 8 | 42.0 ± 1.4 (2) | missing | 20.0 / 21.0 / 50 | 12.0 / 13.0 / 50 |');
    expect(lines[3]).toBe('| big | 2.00M | 8 | 55.0 (1) | missing | missing | missing |');
  });

  it('marks a pick whose planned lr grid is still running, and gives a setting with no run its size\'s count', () => {
    const planned = summarize(records, { family: 'vit', sizes: ['big'], groupings: ['all-layer'], epsilons: [8, 3], steps: 10, batch: 32, lrGrids: { big: [0.001, 0.002] } });
    expect(studyGlance(planned).trim().split('\n').slice(2)).toEqual(['| big | 2.00M | 8 | 55.0 (1, provisional lr) | missing |', '| big | 2.00M | 3 | missing | missing |']);
  });
});

describe('studyPlotHtml', () => {
  it('draws the rows that have values and counts the missing ones', () => {
    const html = studyPlotHtml('t', 'note', rows);
    expect(html).toContain('<svg');
    expect(html).toContain('2 rows plotted, 2 missing.');
    expect(html).not.toContain('<script');
  });

  it('draws two groupings of one size apart, each dot titled with the true parameter count', () => {
    const both = summarize([...records, fakeCell('vit', 'small', 'layer-wise', 0.001, 0, { loss: 1, accuracy: 0.5 }, { loss: 1.1, accuracy: 0.45 })], {
      family: 'vit', sizes: ['small'], groupings: ['all-layer', 'layer-wise'], epsilons: [8], steps: 10, batch: 32,
    });
    const svg = studyPlotHtml('t', 'note', both);
    // the first chart's two dots (each metric and ε has a chart of its own)
    const dots = [...svg.matchAll(/<circle [^>]*cx="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g)].slice(0, 2);
    expect(dots.map((d) => d[2]!.split(':')[0])).toEqual(['all-layer, 60000 parameters', 'layer-wise, 60000 parameters']);
    expect(Number(dots[1]![1]) - Number(dots[0]![1])).toBeGreaterThan(2);
  });
});
