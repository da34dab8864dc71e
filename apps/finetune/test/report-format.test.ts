import { describe, expect, it } from 'vitest';
import { formatEpsilon, formatLoss, formatNumber, formatSeconds, formatSmall } from '../src/report/format-number';
import { heatMap } from '../src/report/heat-map';
import { lineChart } from '../src/report/line-chart';

describe('report numbers for people', () => {
  it('rounds ε up to 2 decimals (a bound stays a bound), losses to 3, times to seconds', () => {
    expect(formatEpsilon(15.998047116087436)).toBe('16.00');
    expect(formatEpsilon(3.99)).toBe('3.99');
    expect(formatEpsilon(3.9912)).toBe('4.00');
    expect(formatLoss(2.7718231)).toBe('2.772');
    expect(formatSeconds(61.6)).toBe('0.0616 s');
    expect(formatSeconds(121_000)).toBe('121 s');
    expect(formatSmall(1e-5)).toBe('1e-5');
    expect(formatNumber(133_120)).toBe('133,120');
    expect(formatNumber(0.333333)).toBe('0.333');
  });

  it('marks every point of a short series, and draws many groups as a heat map with one row each', () => {
    const svg = lineChart('evaluation loss', 'step', [{ name: 'loss', points: [[0, 3.18], [18, 2.77]] }], { yLabel: 'loss (nats per token)' });
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).toContain('loss (nats per token)');
    const rows = Array.from({ length: 16 }, (_, m) => ({ name: `group ${m}`, values: [0.1, 0.5, 0.9] }));
    const map = heatMap('clip fraction', 'step', [1, 2, 3], rows);
    expect(map.match(/<rect [^>]*fill="rgb/g)).toHaveLength(16 * 3 + 5); // cells and the 5 swatches of the scale
    expect(map).toContain('>group 15<');
  });
});
