import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';

/**
 * An Observable Plot chart as markup, rendered without a browser on linkedom's DOM: inline SVG (in a
 * `<figure>` with its title and legend), no script, nothing fetched, so the report still opens offline.
 *
 * @example
 * plotSvg(linePlotOptions('evaluation loss', 'step', series));
 */
export function plotSvg(options: Plot.PlotOptions): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  return (Plot.plot({ ...options, document: document as unknown as Document }) as Element).outerHTML;
}
