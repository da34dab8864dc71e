import * as Plot from '@observablehq/plot';

/** The report's palette (apps/finetune report.html), so a series looks the same in both. */
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** Up to this many points per series every point gets a marker (as in report.html). */
const MARKERS_UP_TO = 30;
/** With more series than this, a heat map (a row per series) as in report.html: more lines are hard to tell apart. */
const LINES_UP_TO = 8;

/** Options of `StepChart`. */
export interface StepChartOptions {
  /** The y axis in words, with its unit. */
  readonly yLabel: string;
  /** How values are written on the axis and in the tooltips. */
  readonly format?: (v: number) => string;
  /** A fixed y range, e.g. [0, 1] for fractions; the data's range by default. */
  readonly yRange?: [number, number];
  readonly width?: number;
  readonly height?: number;
}

interface Point {
  readonly step: number;
  readonly series: string;
  readonly value: number;
}

/**
 * A live chart against the step (Observable Plot, SVG), redrawn after every step, with tooltips: one
 * line per series with a marker on each point while there are few, or a heat map (a row per series)
 * for more than 8 series, as report.html draws them. Non-finite values (the loss of an empty Poisson
 * batch) are gaps.
 *
 * @example
 * ```ts
 * const chart = new StepChart(div, 'privacy spent (ε)', ['ε'], { yLabel: 'ε at δ = 1e-5' });
 * chart.add(1, [0.93]);
 * ```
 */
export class StepChart {
  private readonly points: Point[] = [];
  private stepCount = 0;

  constructor(
    private readonly target: HTMLElement,
    private readonly title: string,
    private readonly seriesNames: readonly string[],
    private readonly options: StepChartOptions,
  ) {
    this.draw();
  }

  /** Adds one step's values, one per series, in the order of the series names. */
  add(step: number, values: readonly number[]): void {
    values.forEach((value, i) => this.points.push({ step, series: this.seriesNames[i]!, value }));
    this.stepCount++;
    this.draw();
  }

  /** How many steps are drawn. */
  get steps(): number {
    return this.stepCount;
  }

  private draw(): void {
    this.target.replaceChildren(this.seriesNames.length > LINES_UP_TO ? this.heatMap() : this.lines());
  }

  private get format(): (v: number) => string {
    return this.options.format ?? ((v: number) => String(Number(v.toPrecision(3))));
  }

  private lines(): Element {
    const format = this.format;
    const shown = this.points.filter((p) => Number.isFinite(p.value));
    const many = this.seriesNames.length > 1;
    return Plot.plot({
      title: this.title,
      width: this.options.width ?? 520,
      height: this.options.height ?? 280,
      marginLeft: 60,
      x: { label: 'step', grid: true, tickFormat: (t: number) => (Number.isInteger(t) ? String(t) : '') },
      y: { label: this.options.yLabel, grid: true, tickFormat: format, ...(this.options.yRange ? { domain: this.options.yRange } : {}) },
      color: { domain: [...this.seriesNames], range: COLOURS, legend: many },
      marks: [
        Plot.lineY(shown, { x: 'step', y: 'value', stroke: 'series', strokeWidth: 1.5 }),
        ...(this.stepCount <= MARKERS_UP_TO ? [Plot.dot(shown, { x: 'step', y: 'value', fill: 'series', r: 2.5 })] : []),
        Plot.tip(shown, Plot.pointer({ x: 'step', y: 'value', title: (p: Point) => `${many ? `${p.series}\n` : ''}step ${p.step}: ${format(p.value)}` })),
      ],
    });
  }

  /** Steps across, a row per series, the value as colour (a gap for a non-finite one). */
  private heatMap(): Element {
    const format = this.format;
    const shown = this.points.filter((p) => Number.isFinite(p.value));
    return Plot.plot({
      title: this.title,
      width: this.options.width ?? 520,
      height: Math.max(this.options.height ?? 280, 40 + 16 * this.seriesNames.length),
      marginLeft: 190,
      padding: 0.05,
      x: { label: 'step', type: 'band', tickFormat: (t: number) => (this.stepCount <= 20 || t % 5 === 0 ? String(t) : '') },
      y: { label: null, domain: [...this.seriesNames] },
      color: { scheme: 'blues', legend: true, label: this.options.yLabel, tickFormat: format, ...(this.options.yRange ? { domain: this.options.yRange } : {}) },
      marks: [
        Plot.cell(shown, { x: 'step', y: 'series', fill: 'value' }),
        Plot.tip(shown, Plot.pointer({ x: 'step', y: 'series', title: (p: Point) => `${p.series}\nstep ${p.step}: ${format(p.value)}` })),
      ],
    });
  }
}
