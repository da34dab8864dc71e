import { linePlotOptions, type LineChartOptions, type Series } from './line-plot';
import { plotSvg } from './plot-svg';

export type { LineChartOptions, Series } from './line-plot';

/**
 * A self-contained inline SVG line chart (no scripts; Observable Plot, see `linePlotOptions`): one line
 * per series, a marker with its value as tooltip on each point when there are few, a legend when there
 * are several series.
 *
 * @example
 * lineChart('evaluation loss', 'step', [{ name: 'loss', points: [[0, 3.18], [18, 2.77]] }], { yLabel: 'loss (nats per token)' });
 */
export function lineChart(title: string, xLabel: string, series: Series[], options: LineChartOptions = {}): string {
  return plotSvg(linePlotOptions(title, xLabel, series, options));
}
