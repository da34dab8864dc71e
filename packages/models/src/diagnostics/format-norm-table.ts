import type { PerSampleNormsResult } from './per-sample-norms.js';

export interface FormatNormTableOptions {
  /** Rows per group (default when the result has groups) or per parameter. */
  readonly by?: 'group' | 'param';
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of `values` with linear interpolation between order statistics
 * (numpy's default), or NaN for an empty list.
 *
 * @example
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * A plain-text table of per-sample gradient norms: one row per group (or parameter) with the min,
 * 25th percentile, median, 75th percentile and max over the batch, then a row for the whole model
 * (the norm flat clipping would see). With group thresholds, also each group's C_m and the share of
 * samples it would clip. For `clipwise norms` and logs.
 *
 * @example
 * console.log(formatNormTable(await perSampleNorms(model, batch, { grouping: 'layer-wise' })));
 * // per-sample gradient norms, B = 8, mean loss 5.5412
 * // group                      min     p25  median     p75     max    C_m  clipped
 * // transformer.wte         0.3121  0.4410  0.5012  0.5533  0.7010  0.125   100%
 * // ...
 */
export function formatNormTable(result: PerSampleNormsResult, options: FormatNormTableOptions = {}): string {
  const byGroup = (options.by ?? (result.per_sample_group_norms ? 'group' : 'param')) === 'group';
  const rows = byGroup ? result.per_sample_group_norms : result.per_sample_param_norms;
  if (!rows) throw new TypeError("formatNormTable: the result has no group norms; call perSampleNorms with { grouping } or use { by: 'param' }");
  const thresholds = byGroup ? result.group_thresholds : undefined;
  const params = Object.values(result.per_sample_param_norms);
  const batch = result.loss_per_sample.length;
  const total = Array.from({ length: batch }, (_, i) => Math.sqrt(params.reduce((s, n) => s + n[i]! ** 2, 0)));
  const header = [byGroup ? 'group' : 'parameter', 'min', 'p25', 'median', 'p75', 'max', ...(thresholds ? ['C_m', 'clipped'] : [])];
  const line = (name: string, norms: readonly number[], threshold?: number): string[] => [
    name,
    ...[0, 0.25, 0.5, 0.75, 1].map((q) => formatNumber(quantile(norms, q))),
    ...(thresholds ? (threshold === undefined ? ['', ''] : [formatNumber(threshold), percent(norms.filter((n) => n > threshold).length / norms.length)]) : []),
  ];
  const body = Object.entries(rows).map(([name, norms]) => line(name, norms, thresholds?.[name]));
  body.push(line('(all parameters)', total));
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const render = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const meanLoss = result.loss_per_sample.reduce((s, l) => s + l, 0) / Math.max(batch, 1);
  return [`per-sample gradient norms, B = ${batch}, mean loss ${formatNumber(meanLoss)}`, render(header), ...body.map(render)].join('\n');
}

function formatNumber(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? x.toPrecision(4) : x.toExponential(2);
}

function percent(f: number): string {
  return `${Math.round(f * 100)}%`;
}
