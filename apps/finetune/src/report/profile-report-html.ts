import { STEP_PHASES, type PredictedPoint, type TimelinePoint } from '@clipwise/memory';
import type { ProfileResult } from '../profile/run-profile';
import { stackedAreaChart, type AreaLayer } from './stacked-area-chart';
import { escapeHtml as esc } from './escape-html';

const MIB = 2 ** 20;

/** Positions where the phase changes, for the charts' rules. */
function phaseMarks(phases: readonly (string | null)[]): { at: number; label: string }[] {
  const marks: { at: number; label: string }[] = [];
  phases.forEach((p, i) => {
    if (p !== null && (i === 0 || p !== phases[i - 1]) && !marks.some((m) => m.label === p)) marks.push({ at: i, label: p });
  });
  return marks;
}

/** Keeps at most `max` evenly spaced points, always including each local maximum's neighbourhood coarsely. */
function thin<T>(xs: readonly T[], max = 1500): T[] {
  if (xs.length <= max) return [...xs];
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]!);
}

/**
 * The profile report: one self-contained HTML page (inline SVG, no scripts) with the predicted
 * memory timeline of the step stacked by what holds the bytes (tape, gradients, records, sums,
 * temporaries), the measured one (bytes after each kernel, by phase), and the profile's tables.
 */
export function renderProfileHtml(r: ProfileResult, measured: readonly TimelinePoint[], predicted: readonly PredictedPoint[], tables: string[]): string {
  const pred = thin(predicted);
  const components: AreaLayer[] = (['tape', 'grads', 'records', 'sums', 'transient'] as const).map((k) => ({
    name: { tape: 'forward tape', grads: 'gradients in flight', records: 'records held by open groups', sums: 'clipped sums / gradients', transient: 'kernel temporaries' }[k],
    values: pred.map((p) => p[k] / MIB),
  }));
  const meas = thin(measured);
  const byPhase: AreaLayer[] = STEP_PHASES.filter((ph) => meas.some((p) => p.phase === ph)).map((ph) => ({
    name: ph,
    values: meas.map((p) => (p.phase === ph ? p.bytes / MIB : 0)),
  }));
  const charts = [
    stackedAreaChart(`predicted memory over the step (${r.grouping}), by what holds it`, 'model events (forward kernels, then backward nodes, release, update)', components, 'MiB', {
      marks: phaseMarks(pred.map((p) => p.phase)),
    }),
    stackedAreaChart(`measured memory over the step (${r.grouping}): bytes after each kernel, by phase`, 'kernels in order', byPhase, 'MiB', {
      marks: phaseMarks(meas.map((p) => p.phase)),
    }),
  ];
  const title = `clipwise profile: ${r.model}, B=${r.batchSize}, ${r.grouping}, ${r.backend}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1120px}svg{margin:6px;border:1px solid #eee}pre{white-space:pre;overflow-x:auto;background:#f6f6f6;padding:10px;font-size:12px}</style>
</head><body>
<h1>${esc(title)}</h1>
<p>Peak ${(r.peakBytes / MIB).toFixed(2)} MiB measured, ${(r.predictedPeakBytes / MIB).toFixed(2)} MiB predicted (non-private ${(r.nonPrivatePeakBytes / MIB).toFixed(2)} MiB);
step ${r.stepMs.toFixed(0)} ms (non-private ${r.nonPrivateStepMs.toFixed(0)} ms). Bytes are above the weights and optimizer state.</p>
<div id="charts">${charts.join('\n')}</div>
<h2>Tables</h2>
<pre id="tables">${esc(tables.join('\n'))}</pre>
</body></html>
`;
}
