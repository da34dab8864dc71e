// Hand-made result records for the summary, table and plot tests.
import type { BenchRecord, CellRecord, Scores } from './study-results';
import type { Family } from './study-spec';

/** A finished cell with the given scores (other fields fixed); `start` (the pre-trained model's val and test scores) is left out when not given, as in records written before it was kept. */
export function fakeCell(family: Family, size: string, grouping: string, lr: number, seed: number, val: Scores, test: Scores, steps = 10, baseModel = 'base0', start?: { val: Scores; test: Scores }): CellRecord {
  return {
    ...(start ? { valStart: start.val, testStart: start.test } : {}),
    kind: 'cell', key: `${family}/${size}/${grouping}/eps8/lr${lr}/seed${seed}/steps${steps}/b32`, family, size, grouping, epsilon: 8, lr, seed, steps, batch: 32,
    params: size === 'big' ? 2_000_000 : 60_000, val, test, stepMsMedian: 100 + seed, peakBytes: null, sigma: 0.6, epsilonSpent: 8, backend: 'cpu', wallSeconds: 1, baseModel, args: [],
  };
}

/** A bench record of one size with a row per configuration. */
export function fakeBench(family: Family, size: string, peakMiB: Record<string, number>): BenchRecord {
  return {
    kind: 'bench', family, size, backend: 'cpu', batch: 16, seqLen: 64, args: [],
    rows: Object.entries(peakMiB).map(([grouping, m]) => ({ grouping, stepMs: 50, peakBytes: m * 2 ** 20, predictedPeakBytes: (m + 1) * 2 ** 20 })),
  };
}
