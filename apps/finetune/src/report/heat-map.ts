import { escapeHtml as esc } from './escape-html';
import { heatColour, heatMapPlotOptions, type HeatRow } from './heat-map-plot';
import { plotSvg } from './plot-svg';

export type { HeatRow } from './heat-map-plot';

/** Five swatches of the heat map's scale, 0% to 100%, with the value's name: a legend that needs no script. */
export function heatLegendSvg(valueLabel: string): string {
  const swatches = [0, 0.25, 0.5, 0.75, 1]
    .map((v, k) => `<rect x="${k * 52}" y="0" width="14" height="14" fill="${heatColour(v)}" stroke="#ccc"/><text x="${k * 52 + 18}" y="11" font-size="10">${100 * v}%</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${5 * 52 + 120}" height="16" role="img" aria-label="colour scale">${swatches}` +
    `<text x="${5 * 52}" y="11" font-size="10" fill="#555">${esc(valueLabel)}</text></svg>`;
}

/**
 * A self-contained inline SVG heat map (no scripts; Observable Plot, see `heatMapPlotOptions`) of values
 * in [0, 1]: one row per group, one column per step, darker for more, with a legend of its scale.
 *
 * @example
 * heatMap('clip fraction per group', 'step', [1, 2, 3], [{ name: 'h.0.attn', values: [0.1, 0.5, 1] }]);
 */
export function heatMap(title: string, xLabel: string, columns: number[], rows: HeatRow[], options: { valueLabel?: string; width?: number } = {}): string {
  const chart = plotSvg(heatMapPlotOptions(title, xLabel, columns, rows, options));
  // the legend goes inside Plot's <figure>, under the title
  return chart.replace(/(<\/h2>)/, `$1${heatLegendSvg(options.valueLabel ?? '')}`);
}
