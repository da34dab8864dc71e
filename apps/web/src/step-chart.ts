import * as Plot from '@observablehq/plot';
import { HEAT_COLOUR_SCALE, LINES_UP_TO, heatMapPlotOptions, linePlotOptions, type LineChartOptions, type Series } from '@clipwise/finetune/browser';


/**
 * A live chart against the step, redrawn after every step: the charts of the CLI's report.html (the
 * same Observable Plot options, `linePlotOptions` / `heatMapPlotOptions`), drawn in the page. One line
 * per series with a marker and its value as tooltip on each point while there are few, or a heat map
 * for more than 8 series. Non-finite values (the loss of an empty Poisson batch) are gaps.
 *
 * @example
 * ```ts
 * const chart = new StepChart(div, 'privacy spent (ε)', ['ε'], { yLabel: 'ε at δ = 1e-5' });
 * chart.add(1, [0.93]);
 * ```
 */
export class StepChart {
  private readonly series: Series[];
  private readonly stepsDrawn: number[] = [];

  constructor(
    private readonly target: HTMLElement,
    private readonly title: string,
    seriesNames: readonly string[],
    private readonly options: LineChartOptions,
  ) {
    this.series = seriesNames.map((name) => ({ name, points: [] }));
    this.draw();
  }

  /** Adds one step's values, one per series, in the order of the series names. */
  add(step: number, values: readonly number[]): void {
    values.forEach((v, i) => this.series[i]!.points.push([step, v]));
    this.stepsDrawn.push(step);
    this.draw();
  }

  /** How many steps are drawn. */
  get steps(): number {
    return this.stepsDrawn.length;
  }

  private draw(): void {
    if (this.series.length <= LINES_UP_TO) {
      this.target.replaceChildren(Plot.plot(linePlotOptions(this.title, 'step', this.series, this.options)));
      return;
    }
    const rows = this.series.map((s) => ({ name: s.name, values: s.points.map(([, v]) => v) }));
    const chart = Plot.plot(heatMapPlotOptions(this.title, 'step', this.stepsDrawn, rows, { width: this.options.width ?? 540 }));
    const legend = Plot.legend({ color: HEAT_COLOUR_SCALE, label: this.options.yLabel, tickFormat: this.options.tickFormat });
    chart.querySelector('h2')?.after(legend); // under the title, as report.html
    this.target.replaceChildren(chart);
  }
}
