import { describe, expect, it } from 'vitest';
import { fft, isPowerOfTwo, nextPowerOfTwo } from './fft';

/** The DFT by its definition, O(n²), with angles reduced mod n to keep them accurate. */
function naiveDft(re: Float64Array, im: Float64Array, sign: number): [Float64Array, Float64Array] {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (sign * 2 * Math.PI * ((j * k) % n)) / n;
      outRe[k] += re[j] * Math.cos(angle) - im[j] * Math.sin(angle);
      outIm[k] += re[j] * Math.sin(angle) + im[j] * Math.cos(angle);
    }
  }
  return [outRe, outIm];
}

function signal(n: number): [Float64Array, Float64Array] {
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = Math.sin(1.3 * i) + i / n;
    im[i] = Math.cos(0.7 * i * i);
  }
  return [re, im];
}

describe('fft', () => {
  it.each([1, 2, 4, 8, 16, 32, 128, 512])('matches the O(n²) DFT for n = %i (1e-12 × n)', (n) => {
    const [re, im] = signal(n);
    const [wantRe, wantIm] = naiveDft(re, im, -1);
    fft(re, im);
    for (let k = 0; k < n; k++) {
      expect(Math.abs(re[k] - wantRe[k])).toBeLessThan(1e-12 * n);
      expect(Math.abs(im[k] - wantIm[k])).toBeLessThan(1e-12 * n);
    }
  });

  it('inverts up to rounding (1e-13) for n = 2^16', () => {
    const [re, im] = signal(1 << 16);
    const re0 = re.slice();
    const im0 = im.slice();
    fft(re, im);
    fft(re, im, true);
    let worst = 0;
    for (let i = 0; i < re.length; i++) worst = Math.max(worst, Math.abs(re[i] - re0[i]), Math.abs(im[i] - im0[i]));
    expect(worst).toBeLessThan(1e-13);
  });

  it('turns products of spectra into circular convolutions (the PRV composition step)', () => {
    const n = 64;
    const a = Float64Array.from({ length: n }, (_, i) => (i < 5 ? 1 / 5 : 0));
    const b = Float64Array.from({ length: n }, (_, i) => (i === 3 ? 0.5 : i === 7 ? 0.5 : 0));
    const want = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) want[(i + j) % n] += a[i] * b[j];
    const [ar, ai, br, bi] = [a.slice(), new Float64Array(n), b.slice(), new Float64Array(n)];
    fft(ar, ai);
    fft(br, bi);
    for (let k = 0; k < n; k++) {
      const r = ar[k] * br[k] - ai[k] * bi[k];
      ai[k] = ar[k] * bi[k] + ai[k] * br[k];
      ar[k] = r;
    }
    fft(ar, ai, true);
    for (let i = 0; i < n; i++) expect(ar[i]).toBeCloseTo(want[i], 14);
  });

  it('rejects lengths that are not powers of two', () => {
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow(RangeError);
    expect(isPowerOfTwo(1024)).toBe(true);
    expect(isPowerOfTwo(1000)).toBe(false);
    expect(nextPowerOfTwo(1000)).toBe(1024);
  });
});
