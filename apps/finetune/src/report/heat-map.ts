import { formatNumber } from './format-number';
import { escapeHtml as esc } from './escape-html';

/** One row of a heat map: a name and a value per column (NaN: no value). */
export interface HeatRow {
  name: string;
  values: number[];
}


/** White (0) to dark blue (1): one hue, so that more ink means more. */
function shade(v: number): string {
  const t = Math.min(1, Math.max(0, v));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

/**
 * A self-contained inline SVG heat map (no scripts) of values in [0, 1]: one row per group, one column
 * per step, darker for more. Readable with many groups, where one line per group is not. Each cell's
 * tooltip gives its row, column and value as a percentage.
 *
 * @example
 * heatMap('clip fraction per group', 'step', [1, 2, 3], [{ name: 'h.0.attn', values: [0.1, 0.5, 1] }]);
 */
export function heatMap(title: string, xLabel: string, columns: number[], rows: HeatRow[], options: { valueLabel?: string; width?: number } = {}): string {
  const width = options.width ?? 900;
  const nameWidth = Math.min(280, 16 + 6.5 * Math.max(4, ...rows.map((r) => r.name.length)));
  const [left, right, top, bottom] = [nameWidth, 90, 28, 44];
  const rowHeight = rows.length > 40 ? 8 : 14;
  const h = rows.length * rowHeight;
  const height = top + h + bottom;
  const w = width - left - right;
  const cw = w / Math.max(1, columns.length);
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">` +
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`;
  const cells = rows
    .map((r, i) =>
      r.values.map((v, j) => Number.isFinite(v)
        ? `<rect x="${(left + j * cw).toFixed(1)}" y="${top + i * rowHeight}" width="${(cw + 0.5).toFixed(1)}" height="${rowHeight}" fill="${shade(v)}"><title>${esc(`${r.name}, ${xLabel} ${columns[j]}: ${(100 * v).toFixed(1)}%`)}</title></rect>`
        : '').join(''))
    .join('');
  const names = rowHeight >= 10
    ? rows.map((r, i) => `<text x="${left - 4}" y="${top + i * rowHeight + rowHeight - 3}" text-anchor="end" font-size="10">${esc(r.name)}</text>`).join('')
    : `<text x="${left - 4}" y="${top + 10}" text-anchor="end" font-size="10">${esc(rows[0]?.name ?? '')}</text><text x="${left - 4}" y="${top + h}" text-anchor="end" font-size="10">${esc(rows.at(-1)?.name ?? '')}</text>`;
  const every = Math.max(1, Math.ceil(columns.length / 12));
  const xTicks = columns.map((c, j) => (j % every === 0 || j === columns.length - 1 ? `<text x="${(left + (j + 0.5) * cw).toFixed(1)}" y="${top + h + 14}" text-anchor="middle" font-size="10">${esc(formatNumber(c))}</text>` : '')).join('');
  const scale = [0, 0.25, 0.5, 0.75, 1]
    .map((v, k) => `<rect x="${left + w + 14}" y="${top + k * 16}" width="14" height="14" fill="${shade(v)}" stroke="#ccc"/><text x="${left + w + 32}" y="${top + k * 16 + 11}" font-size="10">${100 * v}%</text>`)
    .join('');
  return `${head}<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="#fafafa" stroke="#999"/>${cells}${names}${xTicks}` +
    `<text x="${left + w / 2}" y="${top + h + 32}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>` +
    `<text x="${left + w + 14}" y="${top + 5 * 16 + 12}" font-size="10" fill="#555">${esc(options.valueLabel ?? '')}</text>${scale}</svg>`;
}
