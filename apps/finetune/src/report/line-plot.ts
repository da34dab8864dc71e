import * as Plot from '@observablehq/plot';
import { formatNumber } from './format-number';

// Browser-safe: report.html renders these charts to SVG in Node (`plot-svg.ts`) and the web example
// (apps/web) draws the same ones live in the page, both with Observable Plot.

/** One named series of (x, y) points. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** Options of `lineChart` / `linePlotOptions`. */
export interface LineChartOptions {
  /** The y axis in words, with its unit: 'ε', 'loss (nats per token)', 'step time (s)'. */
  yLabel?: string;
  /** How values are written in the points' tooltips (default: 3 significant digits). */
  format?: (v: number) => string;
  /**
   * How axis ticks are written (default: 3 significant digits). Ticks are round numbers: writing them
   * with a value's precision (2.980) would only add digits that say nothing.
   */
  tickFormat?: (v: number) => string;
  /** Fixed y range, e.g. [0, 1] for fractions; the data's range by default. */
  yRange?: [number, number];
  width?: number;
  height?: number;
}

/** The report's palette: a series has the same colour on every chart. */
/** With more per-group series than this, a chart is a heat map (a row per group): ten lines on one chart are already hard to tell apart. */
export const LINES_UP_TO = 8;

export const SERIES_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** Up to this many points per series every point gets a marker: 2 evaluation points read as 2 dots, not a bare line. */
const MARKERS_UP_TO = 30;

interface Row {
  series: string;
  x: number;
  y: number;
}

/** The y domain: the data's range padded 5% (points on the frame are hard to see); a constant series gets room. */
function yDomain(rows: Row[], fixed?: [number, number]): [number, number] {
  if (fixed) return fixed;
  let [y0, y1] = [Math.min(...rows.map((r) => r.y)), Math.max(...rows.map((r) => r.y))];
  // a constant series: 0 (BLEU of a model that copies nothing) sits on the floor of [0, 1], others in ±10%
  if (y0 === y1) return y0 === 0 ? [0, 1] : [y0 - Math.abs(y0) * 0.1, y1 + Math.abs(y1) * 0.1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  return [y0, y1];
}

/**
 * An Observable Plot line chart: axes with rounded ticks and labels in words, one line per series with
 * a marker on each point when there are few (each marker's tooltip gives its value), a legend of
 * swatches when there are several series. Non-finite points are skipped.
 *
 * @example
 * Plot.plot(linePlotOptions('evaluation loss', 'step', [{ name: 'loss', points: [[0, 3.18], [18, 2.77]] }], { yLabel: 'loss (nats per token)' }));
 */
export function linePlotOptions(title: string, xLabel: string, series: Series[], options: LineChartOptions = {}): Plot.PlotOptions {
  const { width = 540, height = 280, format = formatNumber, tickFormat = formatNumber } = options;
  const rows: Row[] = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => ({ series: s.name, x, y })));
  const frame = { title, ariaLabel: title, width, height, marginLeft: 64, marginBottom: 44, style: { fontSize: '10px' } };
  if (rows.length === 0) return { ...frame, axis: null, marks: [Plot.frame({ stroke: '#999' }), Plot.text(['no data'], { frameAnchor: 'middle', fill: '#888', fontSize: 12 })] };
  let [x0, x1] = [Math.min(...rows.map((r) => r.x)), Math.max(...rows.map((r) => r.x))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const markers = Math.max(...series.map((s) => s.points.length)) <= MARKERS_UP_TO;
  const names = series.map((s) => s.name);
  return {
    ...frame,
    x: { domain: [x0, x1], label: xLabel, labelAnchor: 'center', labelArrow: 'none', tickFormat: (t: number) => (x1 - x0 > 10 || Number.isInteger(t) ? formatNumber(t) : '') },
    y: { domain: yDomain(rows, options.yRange), label: options.yLabel ?? null, labelAnchor: 'center', labelArrow: 'none', grid: true, tickFormat },
    color: { domain: names, range: SERIES_COLOURS, legend: names.length > 1 },
    marks: [
      Plot.frame({ stroke: '#999' }),
      Plot.lineY(rows, { x: 'x', y: 'y', z: 'series', stroke: 'series', strokeWidth: 1.5, title: 'series' }),
      ...(markers ? [Plot.dot(rows, { x: 'x', y: 'y', fill: 'series', r: 3, title: (r: Row) => `${r.series} at ${xLabel} ${formatNumber(r.x)}: ${format(r.y)}` })] : []),
    ],
  };
}
