// The study's plot: each test metric against parameter count (log axis), a line per grouping, the
// spread over seeds as a bar (mean ± sd), one chart per metric and ε; and bench's measured and
// predicted peak per grouping against parameter count. A small self-contained HTML page (inline
// SVG drawn with Observable Plot in Node, as report.html is). Rows without a value, or whose lr grid is
// still running, are left out of the charts and counted under them; the markdown table shows them.
import * as Plot from '@observablehq/plot';
import { escapeHtml } from '../src/report/escape-html';
import { SERIES_COLOURS } from '../src/report/line-plot';
import { plotSvg } from '../src/report/plot-svg';
import type { Stat, SummaryRow } from './study-summary';

interface Point {
  grouping: string;
  params: number;
  mean: number;
  lo: number;
  hi: number;
}

/**
 * The points of one metric: rows with parameters, a value and a finished lr grid (a provisional pick is
 * counted in `provisional`, not drawn); the spread bar is mean ± sd (none with one seed).
 */
export function metricPoints(rows: readonly SummaryRow[], pick: (r: SummaryRow) => Stat | null, scale = 1): { points: Point[]; missing: number; provisional: number } {
  const points: Point[] = [];
  let provisional = 0;
  for (const r of rows) {
    const s = pick(r);
    if (!s || r.params === null) continue;
    if (r.gridMissing.length) {
      provisional++;
      continue;
    }
    const sd = s.sd ?? 0;
    points.push({ grouping: r.grouping, params: r.params, mean: s.mean * scale, lo: (s.mean - sd) * scale, hi: (s.mean + sd) * scale });
  }
  return { points, missing: rows.length - points.length - provisional, provisional };
}

/** Each grouping's points drawn a little apart on the log axis (about 3% of a size a grouping), so that
 * the groupings of one size do not hide each other's dots and bars; the tooltip keeps the true count. */
const DODGE = 1.03;
const dodged = (points: Point[], groupings: string[]) =>
  points.map((p) => ({ ...p, x: p.params * DODGE ** (groupings.indexOf(p.grouping) - (groupings.length - 1) / 2) }));

function chart(title: string, yLabel: string, raw: Point[], groupings: string[]): string {
  if (raw.length === 0) return `<p>${escapeHtml(title)}: no finished runs.</p>`;
  const points = dodged(raw, groupings);
  return plotSvg({
    title, width: 560, height: 300, marginLeft: 64, marginBottom: 44, style: { fontSize: '10px' },
    // inset: the smallest and largest sizes' dots and bars clear of the frame
    x: { type: 'log', label: 'parameters', labelAnchor: 'center', labelArrow: 'none', inset: 16 },
    y: { label: yLabel, labelAnchor: 'center', labelArrow: 'none', grid: true, inset: 8 },
    color: { domain: groupings, range: SERIES_COLOURS, legend: true },
    marks: [
      Plot.frame({ stroke: '#999' }),
      Plot.ruleX(points, { x: 'x', y1: 'lo', y2: 'hi', stroke: 'grouping', strokeWidth: 1 }),
      Plot.lineY(points, { x: 'x', y: 'mean', z: 'grouping', stroke: 'grouping', strokeWidth: 1.5 }),
      Plot.dot(points, { x: 'x', y: 'mean', fill: 'grouping', r: 3, title: (p: Point) => `${p.grouping}, ${p.params} parameters: ${p.mean.toPrecision(4)} (${p.lo.toPrecision(4)} to ${p.hi.toPrecision(4)})` }),
    ],
  });
}

/** The study's HTML page: `title`, a note (what the data is), and the charts of `rows` (one family). */
export function studyPlotHtml(title: string, note: string, rows: readonly SummaryRow[]): string {
  const groupings = [...new Set(rows.map((r) => r.grouping))];
  const vit = rows[0]?.family === 'vit';
  const metrics: [string, string, (r: SummaryRow) => Stat | null, number][] = vit
    ? [['test accuracy', 'accuracy (%)', (r) => r.test.accuracy, 100]]
    : [['test loss', 'loss (nats per token)', (r) => r.test.loss, 1], ['BLEU', 'BLEU-4', (r) => r.test.bleu, 100], ['ROUGE-L', 'ROUGE-L', (r) => r.test.rougeL, 100]];
  const figures: string[] = [];
  for (const eps of [...new Set(rows.map((r) => r.epsilon))]) {
    const at = rows.filter((r) => r.epsilon === eps);
    for (const [name, yLabel, pick, scale] of metrics) {
      const { points, missing, provisional } = metricPoints(at, pick, scale);
      const left = `${missing} missing${provisional ? `, ${provisional} left out while their lr grid runs` : ''}`;
      figures.push(chart(`${name}, ε = ${eps} (mean ± sd over seeds)`, yLabel, points, groupings), `<p class="n">${points.length} rows plotted, ${left}.</p>`);
    }
  }
  // memory: one point per (size, bench configuration); adaptive layer-wise is measured as layer-wise
  const first = rows.filter((r) => r.epsilon === rows[0]?.epsilon && r.grouping !== 'layer-wise-adaptive');
  const mem = (pick: (r: SummaryRow) => number | null | undefined) =>
    first.flatMap((r) => { const b = pick(r); return typeof b === 'number' && r.params !== null ? [{ grouping: r.grouping, params: r.params, mean: b / 2 ** 20, lo: b / 2 ** 20, hi: b / 2 ** 20 }] : []; });
  const memGroupings = groupings.filter((g) => g !== 'layer-wise-adaptive');
  figures.push(chart('measured peak of one step (clipwise bench)', 'MiB', mem((r) => r.bench?.peakBytes), memGroupings));
  figures.push(chart('predicted peak of one step (analytic model)', 'MiB', mem((r) => r.bench?.predictedPeakBytes), memGroupings));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:1180px;margin:1em auto}figure{display:inline-block;margin:.5em}.n{font-size:11px;color:#666;margin:0 0 1em}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(note)}</p>
${figures.join('\n')}
</body></html>
`;
}
