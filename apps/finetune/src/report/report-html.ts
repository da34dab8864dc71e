import type { EvalResult } from '../train/evaluate';
import type { StepRecord } from '../train/step-record';
import type { PrivacyReport } from './privacy-report';
import { lineChart, type Series } from './line-chart';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The run report: one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched)
 * with the privacy statement, what the guarantee covers and what it does not (separate sections),
 * final metrics, and charts in the same two parts. Covered: ε against steps, the released noisy clip
 * fractions per group and, with adaptive thresholds, C_m and the released unclipped fractions. Not
 * covered: evaluation metrics, step time and, for --no-dp only, the raw training loss and clip
 * fractions. `steps` must already hold only what may be shown (`write-reports.ts` strips the raw
 * statistics of a private run).
 */
export function renderReportHtml(title: string, steps: StepRecord[], evals: EvalResult[], privacy: PrivacyReport, metrics: Record<string, unknown>): string {
  const xy = (f: (r: StepRecord) => number | null | undefined): [number, number][] => steps.map((r) => [r.step, f(r) ?? Number.NaN]);
  const evalSeries: Series[] = [];
  for (const key of ['loss', 'perplexity', 'accuracy', 'bleu', 'rougeL'] as const) {
    const pts = evals.filter((e) => e[key] !== undefined).map((e) => [e.step, e[key] as number] as [number, number]);
    if (pts.length) evalSeries.push({ name: key, points: pts });
  }
  const groupNames = [...new Set(steps.flatMap((r) => r.groups.map((g) => g.group)))];
  const perGroup = (f: (g: StepRecord['groups'][number]) => number | undefined): Series[] =>
    groupNames.map((g) => ({ name: g, points: steps.map((r) => { const x = r.groups.find((y) => y.group === g); return [r.step, (x && f(x)) ?? Number.NaN]; }) }));
  const has = (f: (g: StepRecord['groups'][number]) => number | undefined) => steps.some((r) => r.groups.some((g) => f(g) !== undefined));
  const covered = privacy.private
    ? [
      lineChart('ε spent', 'step', [{ name: 'ε', points: xy((r) => r.epsilon) }]),
      ...(has((g) => g.noisyClipFraction) ? [lineChart('clip fraction per group (released as noisy counts)', 'step', perGroup((g) => g.noisyClipFraction))] : []),
      ...(privacy.thresholds?.kind === 'adaptive'
        ? [
          lineChart('clipping threshold C_m per group (adaptive)', 'step', perGroup((g) => g.threshold)),
          lineChart(`released noisy unclipped fraction per group (target ${privacy.thresholds.targetQuantile})`, 'step', perGroup((g) => g.unclippedFraction)),
        ]
        : []),
    ]
    : [];
  const raw = steps.some((r) => r.loss !== undefined)
    ? [
      lineChart('NOT PRIVATE: training loss (mean over the batch)', 'step', [{ name: 'loss', points: xy((r) => r.loss) }]),
      ...(has((g) => g.clipFraction) ? [lineChart('NOT PRIVATE: exact clip fraction per group', 'step', perGroup((g) => g.clipFraction))] : []),
    ]
    : [];
  const notCovered = [
    ...raw,
    ...evalSeries.map((s) => lineChart(`eval ${s.name} (evaluation data)`, 'step', [s])),
    lineChart('step time (ms)', 'step', [{ name: 'stepMs', points: xy((r) => r.stepMs) }]),
  ];
  const rows = Object.entries(metrics)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`)
    .join('');
  const list = (items: string[]) => (items.length ? `<ul>${items.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p>Nothing.</p>');
  const releases = privacy.releases
    .map((r) => `<tr><td>${esc(r.quantity)}</td><td>${r.noiseMultiplier.toPrecision(6)}</td><td>${r.noiseStd.toPrecision(6)}</td><td>${r.sensitivity.toPrecision(6)}</td><td>${esc(r.description)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1120px}svg{margin:6px;border:1px solid #eee}td{padding:2px 10px}pre{white-space:pre-wrap;background:#f6f6f6;padding:10px}</style>
</head><body>
<h1>${esc(title)}</h1>
<h2>Privacy</h2>
<pre id="privacy-statement">${esc(privacy.statement)}</pre>
<p id="diagnostics">Training diagnostics: <b>${esc(privacy.diagnostics)}</b>${privacy.diagnostics === 'raw' ? ' — NOT PRIVATE' : ''}.</p>
<h2>Covered by the (ε, δ) guarantee</h2>
<div id="covered">${list(privacy.coverage.covered)}</div>
${releases ? `<table id="releases"><tr><th>released each step</th><th>noise multiplier</th><th>noise std</th><th>sensitivity</th><th></th></tr>${releases}</table>` : ''}
<h2>Not covered by the guarantee</h2>
<div id="not-covered">${list(privacy.coverage.notCovered)}</div>
<h2>Metrics</h2>
<table id="metrics">${rows}</table>
<h2>Charts: released privately</h2>
<div id="charts-covered">${covered.length ? covered.join('\n') : '<p>None: the run is not private.</p>'}</div>
<h2>Charts: not covered by the guarantee</h2>
<div id="charts-not-covered">${notCovered.join('\n')}</div>
</body></html>
`;
}
