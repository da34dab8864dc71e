import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The report's palette (apps/finetune report.html), so a series looks the same in both. */
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Options of `StepChart`. */
export interface StepChartOptions {
  /** The y axis in words, with its unit. */
  readonly yLabel: string;
  /** How values are written on the axis and in the legend. */
  readonly format?: (v: number) => string;
  /** A fixed y range, e.g. [0, 1] for fractions; the data's range by default. */
  readonly yRange?: [number, number];
  readonly width?: number;
  readonly height?: number;
}

/**
 * A live uPlot line chart against the step: one line per series, a point added after every step.
 * Non-finite values (the loss of an empty Poisson batch) are gaps.
 *
 * @example
 * ```ts
 * const chart = new StepChart(div, 'privacy spent (ε)', ['ε'], { yLabel: 'ε at δ = 1e-5' });
 * chart.add(1, [0.93]);
 * ```
 */
export class StepChart {
  private readonly plot: uPlot;
  private readonly columns: (number | null)[][];

  constructor(target: HTMLElement, title: string, seriesNames: readonly string[], options: StepChartOptions) {
    const format = options.format ?? ((v: number) => String(Number(v.toPrecision(3))));
    this.columns = [[], ...seriesNames.map(() => [])];
    this.plot = new uPlot(
      {
        title,
        width: options.width ?? 520,
        height: options.height ?? 260,
        scales: { x: { time: false }, y: options.yRange ? { range: options.yRange } : {} },
        axes: [
          { label: 'step', values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
          { label: options.yLabel, values: (_u, ticks) => ticks.map(format), size: 60 },
        ],
        series: [
          { label: 'step' },
          ...seriesNames.map((name, i) => ({
            label: name, stroke: COLOURS[i % COLOURS.length], width: 1.5, points: { show: true, size: 5 },
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)),
          })),
        ],
      },
      this.columns as uPlot.AlignedData,
      target,
    );
  }

  /** Adds one step's values, one per series, in the order of the series names. */
  add(step: number, values: readonly number[]): void {
    this.columns[0]!.push(step);
    values.forEach((v, i) => this.columns[i + 1]!.push(Number.isFinite(v) ? v : null));
    this.plot.setData(this.columns as uPlot.AlignedData);
  }

  /** How many steps are drawn. */
  get steps(): number {
    return this.columns[0]!.length;
  }

  destroy(): void {
    this.plot.destroy();
  }
}
