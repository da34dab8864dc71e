import type { EvalResult } from '../train/evaluate';
import type { StepRecord } from '../train/step-record';
import type { PrivacyReport } from './privacy-report';
import { lineChart, type Series } from './line-chart';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The run report: one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched)
 * with the privacy statement, final metrics, and charts of training loss, evaluation metrics, ε
 * against steps, per-group clip fractions (and, with adaptive thresholds, C_m and the released
 * unclipped fractions over steps) and step time.
 */
export function renderReportHtml(title: string, steps: StepRecord[], evals: EvalResult[], privacy: PrivacyReport, metrics: Record<string, unknown>): string {
  const xy = (f: (r: StepRecord) => number | null): [number, number][] => steps.map((r) => [r.step, f(r) ?? Number.NaN]);
  const evalSeries: Series[] = [];
  for (const key of ['loss', 'perplexity', 'accuracy', 'bleu', 'rougeL'] as const) {
    const pts = evals.filter((e) => e[key] !== undefined).map((e) => [e.step, e[key] as number] as [number, number]);
    if (pts.length) evalSeries.push({ name: key, points: pts });
  }
  const groupNames = [...new Set(steps.flatMap((r) => r.groups.map((g) => g.group)))];
  const clip: Series[] = groupNames.map((g) => ({ name: g, points: steps.map((r) => [r.step, r.groups.find((x) => x.group === g)?.clipFraction ?? Number.NaN]) }));
  const perGroup = (f: (g: StepRecord['groups'][number]) => number | undefined): Series[] =>
    groupNames.map((g) => ({ name: g, points: steps.map((r) => { const x = r.groups.find((y) => y.group === g); return [r.step, (x && f(x)) ?? Number.NaN]; }) }));
  const adaptive = privacy.thresholds?.kind === 'adaptive'
    ? [
      lineChart('clipping threshold C_m per group (adaptive)', 'step', perGroup((g) => g.threshold)),
      lineChart(`released noisy unclipped fraction per group (target ${privacy.thresholds.targetQuantile})`, 'step', perGroup((g) => g.unclippedFraction)),
    ]
    : [];
  const charts = [
    lineChart('training loss (mean over the batch)', 'step', [{ name: 'loss', points: xy((r) => r.loss) }]),
    ...evalSeries.map((s) => lineChart(`eval ${s.name}`, 'step', [s])),
    lineChart('ε spent', 'step', [{ name: 'ε', points: xy((r) => r.epsilon) }]),
    lineChart('clip fraction per group', 'step', clip),
    ...adaptive,
    lineChart('step time (ms)', 'step', [{ name: 'stepMs', points: xy((r) => r.stepMs) }]),
  ];
  const rows = Object.entries(metrics)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1120px}svg{margin:6px;border:1px solid #eee}td{padding:2px 10px}pre{white-space:pre-wrap;background:#f6f6f6;padding:10px}</style>
</head><body>
<h1>${esc(title)}</h1>
<h2>Privacy</h2>
<pre id="privacy-statement">${esc(privacy.statement)}</pre>
<h2>Metrics</h2>
<table id="metrics">${rows}</table>
<h2>Charts</h2>
<div id="charts">${charts.join('\n')}</div>
</body></html>
`;
}
