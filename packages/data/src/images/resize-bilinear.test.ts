import { describe, expect, it } from 'vitest';
import { bilinearTaps, resizeBilinear } from './resize-bilinear.js';

// 5 wide × 4 high, value x² mod 17 + 3y.
const src = Array.from({ length: 20 }, (_, i) => ((i % 5) ** 2 % 17) + 3 * Math.floor(i / 5));

// Reference: Pillow 12.3, Image.new('F', (5, 4)).putdata(src).resize((w, h), Image.BILINEAR), rounded to 5 decimals.
const PILLOW_UP_7x9 = [
  0.0, 0.57143, 1.85714, 4.0, 7.57143, 12.0, 16.0, 0.5, 1.07143, 2.35714, 4.5, 8.07143, 12.5, 16.5, 1.83333, 2.40476, 3.69048,
  5.83333, 9.40476, 13.83333, 17.83333, 3.16667, 3.7381, 5.02381, 7.16667, 10.7381, 15.16667, 19.16667, 4.5, 5.07143, 6.35714,
  8.5, 12.07143, 16.5, 20.5, 5.83333, 6.40476, 7.69048, 9.83333, 13.40476, 17.83333, 21.83333, 7.16667, 7.7381, 9.02381, 11.16667,
  14.7381, 19.16667, 23.16667, 8.5, 9.07143, 10.35714, 12.5, 16.07143, 20.5, 24.5, 9.0, 9.57143, 10.85714, 13.0, 16.57143, 21.0, 25.0,
];
const PILLOW_DOWN_2x3 = [2.62727, 10.62727, 6.22727, 14.22727, 9.82727, 17.82727];

describe('resizeBilinear (Pillow BILINEAR semantics)', () => {
  it('matches Pillow when enlarging (half-pixel-centre interpolation) to 1e-4', () => {
    const out = resizeBilinear(src, 1, 4, 5, 9, 7);
    out.forEach((v, i) => expect(v).toBeCloseTo(PILLOW_UP_7x9[i], 4));
  });

  it('matches Pillow when shrinking (antialiased triangle filter) to 1e-4', () => {
    const out = resizeBilinear(src, 1, 4, 5, 3, 2);
    out.forEach((v, i) => expect(v).toBeCloseTo(PILLOW_DOWN_2x3[i], 4));
  });

  it('is the identity at the same size and keeps each channel separate', () => {
    const threeChannels = [...src, ...src.map((v) => v + 100), ...src.map((v) => 50 - v)];
    const out = resizeBilinear(threeChannels, 3, 4, 5, 4, 5);
    expect(Array.from(out)).toEqual(threeChannels);
  });

  it('has taps that sum to 1', () => {
    for (const [i, o] of [[32, 224], [224, 32], [7, 3], [3, 7]]) {
      const t = bilinearTaps(i, o);
      for (let k = 0; k < o; k++) {
        let s = 0;
        for (let j = 0; j < t.counts[k]; j++) s += t.weights[k * t.maxTaps + j];
        expect(s).toBeCloseTo(1, 12);
      }
    }
  });
});
