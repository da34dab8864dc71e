import { escapeHtml as esc } from './escape-html';
/** One layer of a stacked area chart: a value per x position (the same positions for every layer). */
export interface AreaLayer {
  name: string;
  values: number[];
  colour?: string;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7'];


function fmt(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/**
 * A self-contained inline SVG stacked area chart (no scripts): layers are stacked bottom-up in the
 * order given, over x = 0..n−1, with a legend; `marks` label x positions (phase starts) with a
 * vertical rule. An optional `line` is drawn on top (e.g. a measured total over a predicted stack).
 *
 * @example
 * stackedAreaChart('memory', 'kernel', [{ name: 'tape', values: [1, 2, 1] }, { name: 'sums', values: [0, 1, 2] }], 'MiB');
 */
export function stackedAreaChart(
  title: string,
  xLabel: string,
  layers: AreaLayer[],
  yLabel: string,
  options: { marks?: { at: number; label: string }[]; line?: { name: string; values: number[] }; width?: number; height?: number } = {},
): string {
  const width = options.width ?? 900;
  const height = options.height ?? 320;
  const [left, right, top, bottom] = [60, 200, 28, 40];
  const n = Math.max(0, ...layers.map((l) => l.values.length), options.line?.values.length ?? 0);
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">` +
    `<text x="${(width - right) / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`;
  if (n < 2) return `${head}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text></svg>`;
  const tops: number[][] = [];
  let below = new Array<number>(n).fill(0);
  for (const l of layers) {
    const next = below.map((b, i) => b + Math.max(0, l.values[i] ?? 0));
    tops.push(next);
    below = next;
  }
  const ymax = Math.max(...below, ...(options.line?.values ?? [0])) || 1;
  const w = width - left - right;
  const h = height - top - bottom;
  const sx = (i: number) => left + (i / (n - 1)) * w;
  const sy = (y: number) => top + h - (y / ymax) * h;
  const areas = layers.map((l, k) => {
    const upper = tops[k]!;
    const lower = k === 0 ? new Array<number>(n).fill(0) : tops[k - 1]!;
    const pts = [...upper.map((y, i) => `${sx(i).toFixed(1)},${sy(y).toFixed(1)}`), ...lower.map((y, i) => `${sx(i).toFixed(1)},${sy(y).toFixed(1)}`).reverse()];
    const colour = l.colour ?? PALETTE[k % PALETTE.length];
    return `<polygon points="${pts.join(' ')}" fill="${colour}" fill-opacity="0.85" stroke="none"><title>${esc(l.name)}</title></polygon>`;
  });
  const line = options.line
    ? `<polyline fill="none" stroke="#000" stroke-width="1.2" points="${options.line.values.map((y, i) => `${sx(i).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${esc(options.line.name)}</title></polyline>`
    : '';
  const marks = (options.marks ?? [])
    .map((m) => `<line x1="${sx(m.at).toFixed(1)}" y1="${top}" x2="${sx(m.at).toFixed(1)}" y2="${top + h}" stroke="#555" stroke-dasharray="3,3"/>` +
      `<text x="${(sx(m.at) + 2).toFixed(1)}" y="${top + 10}" font-size="9" fill="#333">${esc(m.label)}</text>`)
    .join('');
  const axes =
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>` +
    `<text x="${left - 4}" y="${top + 4}" text-anchor="end" font-size="10">${fmt(ymax)}</text>` +
    `<text x="${left - 4}" y="${top + h}" text-anchor="end" font-size="10">0</text>` +
    `<text x="14" y="${top + h / 2}" font-size="11" transform="rotate(-90 14 ${top + h / 2})" text-anchor="middle">${esc(yLabel)}</text>` +
    `<text x="${left + w / 2}" y="${top + h + 28}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`;
  const legendItems = [...layers.map((l, k) => ({ name: l.name, colour: l.colour ?? PALETTE[k % PALETTE.length]! })), ...(options.line ? [{ name: options.line.name, colour: '#000' }] : [])];
  const legend = legendItems
    .map((l, i) => `<rect x="${left + w + 10}" y="${top + i * 16}" width="10" height="10" fill="${l.colour}"/><text x="${left + w + 24}" y="${top + 9 + i * 16}" font-size="10">${esc(l.name)}</text>`)
    .join('');
  return `${head}${areas.join('')}${line}${marks}${axes}${legend}</svg>`;
}
