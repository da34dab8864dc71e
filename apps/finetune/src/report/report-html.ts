import type { EvalResult } from '../train/evaluate';
import type { StepRecord } from '../train/step-record';
import type { PrivacyReport } from './privacy-report';
import { formatEpsilon, formatLoss, formatNumber, formatPercent, formatSeconds, formatSmall } from './format-number';
import { heatMap } from './heat-map';
import { lineChart, type Series } from './line-chart';
import { escapeHtml as esc } from './escape-html';
import { LINES_UP_TO } from './line-plot';



/** Evaluation metrics: how each is named, its axis, and how its values are written. */
const EVAL_METRICS = [
  { key: 'loss', label: 'evaluation loss', axis: 'loss (nats per token)', format: formatLoss },
  { key: 'perplexity', label: 'evaluation perplexity', axis: 'perplexity', format: (v: number) => v.toFixed(2) },
  { key: 'accuracy', label: 'evaluation accuracy', axis: 'accuracy', format: formatPercent, tick: formatPercent },
  { key: 'bleu', label: 'BLEU', axis: 'BLEU (0–100)', format: (v: number) => (100 * v).toFixed(2), tick: (v: number) => formatNumber(100 * v) },
  { key: 'rougeL', label: 'ROUGE-L', axis: 'ROUGE-L (0–100)', format: (v: number) => (100 * v).toFixed(2), tick: (v: number) => formatNumber(100 * v) },
] as const;

/** metrics.json keys in words, with the rounding a person wants; keys not listed are shown as they are. */
const METRIC_ROWS: Record<string, { label: string; format?: (v: number) => string }> = {
  task: { label: 'task' },
  model: { label: 'model' },
  parameters: { label: 'model parameters (adapters included)', format: formatNumber },
  trainable: { label: 'what trained' },
  trainedParameters: { label: 'trained parameters', format: formatNumber },
  trainingExamples: { label: 'training examples', format: formatNumber },
  steps: { label: 'steps' },
  status: { label: 'how the run ended' },
  diagnostics: { label: 'training diagnostics' },
  finalTrainLoss: { label: 'training loss, last 10% of steps (NOT PRIVATE)', format: formatLoss },
  evalLoss: { label: 'evaluation loss (nats per token)', format: formatLoss },
  evalPerplexity: { label: 'evaluation perplexity', format: (v) => v.toFixed(2) },
  evalAccuracy: { label: 'evaluation accuracy', format: formatPercent },
  bleu: { label: 'BLEU (0–100)', format: (v) => (100 * v).toFixed(2) },
  rougeL: { label: 'ROUGE-L (0–100)', format: (v) => (100 * v).toFixed(2) },
  epsilon: { label: 'privacy spent ε', format: formatEpsilon },
  delta: { label: 'δ', format: formatSmall },
  meanStepMs: { label: 'mean step time', format: formatSeconds },
  wallSeconds: { label: 'wall time', format: (v) => formatSeconds(1000 * v) },
  devicePeakInUseMiB: { label: 'GPU memory in use at most (MiB)', format: (v) => v.toFixed(0) },
  devicePeakAllocatedMiB: { label: 'GPU memory held by the pool at most (MiB)', format: (v) => v.toFixed(0) },
};

function metricRow(key: string, value: unknown): string {
  const row = METRIC_ROWS[key];
  const text = value === null ? '–' : typeof value === 'number' ? (row?.format ?? formatNumber)(value) : String(value);
  return `<tr><td>${esc(row?.label ?? key)}</td><td>${esc(text)}</td></tr>`;
}

/** The first and the last evaluation's sample generation: what the model wrote before and after training. */
function samplesSection(evals: EvalResult[]): string {
  const withSample = evals.filter((e) => e.sample);
  if (withSample.length === 0) return '';
  const shown = withSample.length === 1 ? withSample : [withSample[0]!, withSample.at(-1)!];
  const rows = shown
    .map((e, i) => `<tr><td>${shown.length > 1 ? (i === 0 ? 'before' : 'after') : ''} (step ${e.step})</td><td>${esc(e.sample!.mr)}</td><td><pre>${esc(e.sample!.output)}</pre></td></tr>`)
    .join('');
  return `<h2>Generated samples (evaluation data; not covered by the guarantee)</h2>
<table id="samples"><tr><th></th><th>input</th><th>generated</th></tr>${rows}</table>`;
}

/**
 * The run report: one self-contained HTML page (inline CSS and SVG charts drawn with Observable Plot in
 * Node, no scripts, nothing fetched, so it opens offline) with the privacy statement, what the guarantee covers and what it does not (separate
 * sections), final metrics in words and rounded for people (ε 2 decimals, losses 3, times in s; the
 * exact values stay in privacy.json and metrics.json), the generated samples before and after, and
 * charts in the same two parts. Covered: ε against steps, the released noisy clip fractions per group
 * and, with adaptive thresholds, C_m and the released unclipped fractions. Not covered: evaluation
 * metrics, step time and, for --no-dp only, the raw training loss and clip fractions. `steps` must
 * already hold only what may be shown (`write-reports.ts` strips the raw statistics of a private run).
 */
export function renderReportHtml(title: string, steps: StepRecord[], evals: EvalResult[], privacy: PrivacyReport, metrics: Record<string, unknown>): string {
  const xy = (f: (r: StepRecord) => number | null | undefined): [number, number][] => steps.map((r) => [r.step, f(r) ?? Number.NaN]);
  const groupNames = [...new Set(steps.flatMap((r) => r.groups.map((g) => g.group)))];
  type GroupStat = StepRecord['groups'][number];
  const valueOf = (r: StepRecord, g: string, f: (x: GroupStat) => number | undefined) => {
    const x = r.groups.find((y) => y.group === g);
    return (x && f(x)) ?? Number.NaN;
  };
  const perGroup = (f: (g: GroupStat) => number | undefined): Series[] =>
    groupNames.map((g) => ({ name: g, points: steps.map((r) => [r.step, valueOf(r, g, f)] as [number, number]) }));
  const has = (f: (g: GroupStat) => number | undefined) => steps.some((r) => r.groups.some((g) => f(g) !== undefined));
  // a fraction per group and step: lines for a few groups, a heat map (rows = groups) for many
  const fractions = (chartTitle: string, f: (g: GroupStat) => number | undefined, axis: string) =>
    groupNames.length > LINES_UP_TO
      ? heatMap(chartTitle, 'step', steps.map((r) => r.step), groupNames.map((g) => ({ name: g, values: steps.map((r) => valueOf(r, g, f)) })), { valueLabel: axis })
      : lineChart(chartTitle, 'step', perGroup(f), { yLabel: axis, format: formatPercent, tickFormat: formatPercent, yRange: [0, 1] });
  const covered = privacy.private
    ? [
      lineChart('privacy spent (ε) after each step', 'step', [{ name: 'ε', points: xy((r) => r.epsilon) }], { yLabel: privacy.delta === null ? 'ε' : `ε at δ = ${formatSmall(privacy.delta)}`, format: formatEpsilon }),
      ...(has((g) => g.noisyClipFraction) ? [fractions('share of samples clipped, per group (released as noisy counts)', (g) => g.noisyClipFraction, 'clipped')] : []),
      ...(privacy.thresholds?.kind === 'adaptive'
        ? [
          lineChart('clipping threshold C_m per group (adaptive)', 'step', perGroup((g) => g.threshold), { yLabel: 'threshold C_m' }),
          fractions(`released share of samples not clipped, per group (target ${formatPercent(privacy.thresholds.targetQuantile)})`, (g) => g.unclippedFraction, 'not clipped'),
        ]
        : []),
    ]
    : [];
  const raw = steps.some((r) => r.loss !== undefined)
    ? [
      lineChart('NOT PRIVATE: training loss (mean over the batch)', 'step', [{ name: 'training loss', points: xy((r) => r.loss) }], { yLabel: 'loss (nats per token)', format: formatLoss }),
      ...(has((g) => g.clipFraction) ? [fractions('NOT PRIVATE: exact share of samples clipped, per group', (g) => g.clipFraction, 'clipped')] : []),
    ]
    : [];
  const evalCharts = EVAL_METRICS.flatMap((m) => {
    const { key, label, axis, format } = m;
    const points = evals.filter((e) => e[key] !== undefined).map((e) => [e.step, e[key] as number] as [number, number]);
    return points.length ? [lineChart(`${label} (evaluation data)`, 'step', [{ name: label, points }], { yLabel: axis, format, ...('tick' in m ? { tickFormat: m.tick } : {}) })] : [];
  });
  const notCovered = [
    ...raw,
    ...evalCharts,
    lineChart('time per step', 'step', [{ name: 'step time', points: xy((r) => r.stepMs / 1000) }], { yLabel: 'step time (s)' }),
  ];
  const rows = Object.entries(metrics)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => metricRow(k, v))
    .join('');
  const list = (items: string[]) => (items.length ? `<ul>${items.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p>Nothing.</p>');
  const releases = privacy.releases
    .map((r) => `<tr><td>${esc(r.quantity)}</td><td>${formatNumber(r.noiseMultiplier)}</td><td>${formatNumber(r.noiseStd)}</td><td>${formatNumber(r.sensitivity)}</td><td>${esc(r.description)}</td></tr>`)
    .join('');
  const headline = privacy.private && privacy.epsilon !== null && privacy.delta !== null
    ? `<p id="privacy-headline" class="headline">ε = <b>${formatEpsilon(privacy.epsilon)}</b> at δ = ${esc(formatSmall(privacy.delta))}, ${esc((privacy.accountant ?? '').toUpperCase())} accountant, ${privacy.steps} steps</p>`
    : `<p id="privacy-headline" class="headline"><b>Not private</b>: no differential-privacy guarantee.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1120px}figure{display:inline-block;margin:4px;border:1px solid #eee;vertical-align:top}figure h2{font-size:13px;margin:2px 4px}td,th{padding:2px 10px;text-align:left;vertical-align:top}
td:nth-child(2){font-variant-numeric:tabular-nums}pre{white-space:pre-wrap;background:#f6f6f6;padding:10px;margin:0}.headline{font-size:1.25em}details{margin:8px 0}</style>
</head><body>
<h1>${esc(title)}</h1>
<h2>Privacy</h2>
${headline}
<details><summary>The exact privacy statement</summary>
<pre id="privacy-statement">${esc(privacy.statement)}</pre>
</details>
<p id="diagnostics">Training diagnostics: <b>${esc(privacy.diagnostics)}</b>${privacy.diagnostics === 'raw' ? ' — NOT PRIVATE' : ''}.</p>
<p id="trained">Trained: <b>${esc(privacy.trained.mode)}</b>, ${privacy.trained.trainedParameters.toLocaleString('en')} of ${privacy.trained.totalParameters.toLocaleString('en')} parameters (${privacy.trained.tensors.length} tensors; the rest frozen).</p>
<h2>Covered by the (ε, δ) guarantee</h2>
<div id="covered">${list(privacy.coverage.covered)}</div>
${releases ? `<table id="releases"><tr><th>released each step</th><th>noise multiplier</th><th>noise std</th><th>sensitivity</th><th></th></tr>${releases}</table>` : ''}
<h2>Not covered by the guarantee</h2>
<div id="not-covered">${list(privacy.coverage.notCovered)}</div>
<h2>Results</h2>
<table id="metrics">${rows}</table>
${samplesSection(evals)}
<h2>Charts: released privately</h2>
<div id="charts-covered">${covered.length ? covered.join('\n') : '<p>None: the run is not private.</p>'}</div>
<h2>Charts: not covered by the guarantee</h2>
<div id="charts-not-covered">${notCovered.join('\n')}</div>
</body></html>
`;
}
