/** One named series of (x, y) points. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/**
 * A self-contained inline SVG line chart (no scripts): axes with min/max ticks, one polyline per
 * series, a legend. Non-finite points are skipped.
 */
export function lineChart(title: string, xLabel: string, series: Series[], width = 520, height = 260): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const left = 56;
  const right = 12;
  const top = 28;
  const bottom = 40;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">` +
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`;
  if (pts.length === 0) return `${head}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text></svg>`;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const w = width - left - right;
  const h = height - top - bottom;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => top + h - ((y - y0) / (y1 - y0)) * h;
  const axes =
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>` +
    `<text x="${left - 4}" y="${top + 4}" text-anchor="end" font-size="10">${fmt(y1)}</text>` +
    `<text x="${left - 4}" y="${top + h}" text-anchor="end" font-size="10">${fmt(y0)}</text>` +
    `<text x="${left}" y="${top + h + 14}" text-anchor="middle" font-size="10">${fmt(x0)}</text>` +
    `<text x="${left + w}" y="${top + h + 14}" text-anchor="middle" font-size="10">${fmt(x1)}</text>` +
    `<text x="${left + w / 2}" y="${top + h + 28}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`;
  const lines = series
    .map((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      const marker = p.length === 1 ? `<circle cx="${p[0]!.split(',')[0]}" cy="${p[0]!.split(',')[1]}" r="3" fill="${colour}"/>` : '';
      return `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${p.join(' ')}"><title>${esc(s.name)}</title></polyline>${marker}`;
    })
    .join('');
  const legend = series.length > 1
    ? series.slice(0, 10).map((s, i) => `<text x="${left + 6}" y="${top + 12 + i * 12}" font-size="10" fill="${COLOURS[i % COLOURS.length]}">${esc(s.name)}</text>`).join('') +
      (series.length > 10 ? `<text x="${left + 6}" y="${top + 12 + 10 * 12}" font-size="10" fill="#666">… ${series.length - 10} more</text>` : '')
    : '';
  return `${head}${axes}${lines}${legend}</svg>`;
}
