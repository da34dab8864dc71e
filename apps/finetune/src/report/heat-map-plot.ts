import * as Plot from '@observablehq/plot';
import { formatNumber } from './format-number';

// Browser-safe: report.html renders it to SVG in Node (`plot-svg.ts`), the web example draws it live.

/** One row of a heat map: a name and a value per column (NaN: no value). */
export interface HeatRow {
  name: string;
  values: number[];
}

/** Values in [0, 1], white to dark blue: one hue, so that more ink means more. */
export const HEAT_COLOUR_SCALE = { type: 'linear', scheme: 'blues', domain: [0, 1] } as const;

interface Cell {
  row: string;
  column: number;
  value: number;
}

/**
 * An Observable Plot heat map of values in [0, 1]: one row per group, one column per step, darker for
 * more. Readable with many groups, where one line per group is not. Each cell's tooltip gives its row,
 * column and value as a percentage. No colour legend (the caller adds one: `heatLegendSvg` for a page
 * without scripts, Plot's own ramp in a browser).
 *
 * @example
 * Plot.plot(heatMapPlotOptions('clip fraction per group', 'step', [1, 2, 3], [{ name: 'h.0.attn', values: [0.1, 0.5, 1] }]));
 */
export function heatMapPlotOptions(title: string, xLabel: string, columns: number[], rows: HeatRow[], options: { width?: number } = {}): Plot.PlotOptions {
  const nameWidth = Math.min(280, 16 + 6.5 * Math.max(4, ...rows.map((r) => r.name.length)));
  const rowHeight = rows.length > 40 ? 8 : 14;
  const cells: Cell[] = rows.flatMap((r) => r.values.map((value, j) => ({ row: r.name, column: columns[j]!, value })).filter((c) => Number.isFinite(c.value)));
  const every = Math.max(1, Math.ceil(columns.length / 12));
  return {
    title, ariaLabel: title,
    width: options.width ?? 900,
    height: 28 + rows.length * rowHeight + 44,
    marginLeft: nameWidth, marginTop: 8, marginBottom: 44, marginRight: 20,
    style: { fontSize: '10px' },
    x: { type: 'band', domain: columns, label: xLabel, labelAnchor: 'center', labelArrow: 'none', tickFormat: (c: number) => (columns.indexOf(c) % every === 0 || c === columns.at(-1) ? formatNumber(c) : '') },
    // every row named while there is room, else the first and the last
    y: { domain: rows.map((r) => r.name), label: null, ...(rowHeight < 10 ? { ticks: [rows[0]!.name, rows.at(-1)!.name] } : {}) },
    color: HEAT_COLOUR_SCALE,
    marks: [
      Plot.frame({ stroke: '#999', fill: '#fafafa' }),
      Plot.cell(cells, { x: 'column', y: 'row', fill: 'value', title: (c: Cell) => `${c.row}, ${xLabel} ${c.column}: ${(100 * c.value).toFixed(1)}%` }),
    ],
  };
}

/** The colour of a value on the heat map's scale. */
export function heatColour(v: number): string {
  return String(Plot.scale({ color: HEAT_COLOUR_SCALE }).apply(v));
}
