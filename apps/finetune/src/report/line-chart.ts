import { formatNumber, niceTicks } from './format-number';
import { escapeHtml as esc } from './escape-html';

/** One named series of (x, y) points. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** Options of `lineChart`. */
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

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** Up to this many points per series every point gets a marker: 2 evaluation points read as 2 dots, not a bare line. */
const MARKERS_UP_TO = 30;
const LEGEND_MAX = 10;


/**
 * A self-contained inline SVG line chart (no scripts): axes with about five rounded ticks and labels
 * in words, one line per series with a marker on each point when there are few, and a legend of
 * swatches beside the plot. Non-finite points are skipped. Each marker's tooltip gives its value.
 *
 * @example
 * lineChart('evaluation loss', 'step', [{ name: 'loss', points: [[0, 3.18], [18, 2.77]] }], { yLabel: 'loss (nats per token)' });
 */
export function lineChart(title: string, xLabel: string, series: Series[], options: LineChartOptions = {}): string {
  const { width = 540, height = 280, format = formatNumber, tickFormat = formatNumber } = options;
  const legendWidth = series.length > 1 ? 130 : 0;
  const [left, right, top, bottom] = [64, 14 + legendWidth, 28, 44];
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">` +
    `<text x="${(width - legendWidth) / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`;
  if (pts.length === 0) return `${head}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text></svg>`;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = options.yRange ?? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  // a constant series: 0 (BLEU of a model that copies nothing) sits on the floor of [0, 1], others in ±10%
  if (y0 === y1) [y0, y1] = y0 === 0 ? [0, 1] : [y0 - Math.abs(y0) * 0.1, y1 + Math.abs(y1) * 0.1];
  if (!options.yRange && !(y0 === 0 && y1 === 1)) {
    const pad = (y1 - y0) * 0.05; // points on the frame are hard to see
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const w = width - left - right;
  const h = height - top - bottom;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => top + h - ((y - y0) / (y1 - y0)) * h;
  const xTicks = niceTicks(x0, x1).filter((t) => t >= x0 && t <= x1 && (x1 - x0 > 10 || Number.isInteger(t)));
  const yTicks = niceTicks(y0, y1).filter((t) => t >= y0 && t <= y1);
  const axes =
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>` +
    yTicks.map((t) => `<line x1="${left}" x2="${left + w}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>` +
      `<text x="${left - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end" font-size="10">${esc(tickFormat(t))}</text>`).join('') +
    xTicks.map((t) => `<text x="${sx(t).toFixed(1)}" y="${top + h + 14}" text-anchor="middle" font-size="10">${esc(formatNumber(t))}</text>`).join('') +
    `<text x="${left + w / 2}" y="${top + h + 32}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>` +
    (options.yLabel ? `<text x="14" y="${top + h / 2}" font-size="11" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">${esc(options.yLabel)}</text>` : '');
  const lines = series
    .map((s, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      const line = p.length > 1 ? `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>` : '';
      const markers = p.length <= MARKERS_UP_TO
        ? p.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${colour}"><title>${esc(`${s.name} at ${xLabel} ${formatNumber(x)}: ${format(y)}`)}</title></circle>`).join('')
        : '';
      return line + markers;
    })
    .join('');
  const legend = series.length > 1
    ? series.slice(0, LEGEND_MAX).map((s, i) => `<rect x="${left + w + 10}" y="${top + i * 14}" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/>` +
      `<text x="${left + w + 24}" y="${top + 9 + i * 14}" font-size="10">${esc(s.name)}</text>`).join('') +
      (series.length > LEGEND_MAX ? `<text x="${left + w + 10}" y="${top + 9 + LEGEND_MAX * 14}" font-size="10" fill="#666">… ${series.length - LEGEND_MAX} more</text>` : '')
    : '';
  return `${head}${axes}${lines}${legend}</svg>`;
}
