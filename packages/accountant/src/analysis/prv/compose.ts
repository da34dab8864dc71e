/**
 * Composition of discretised PRVs by FFT (Gopi, Lee & Wutschitz 2021; Koskela et al. 2020):
 * the sum of independent losses has the convolution of their pmfs, i.e. the product of their
 * discrete Fourier transforms, so k self-compositions are a pointwise k-th power.
 *
 * Both directions ('remove' and 'add') are real sequences, so they are transformed together as
 * the real and imaginary parts of one complex FFT and separated by conjugate symmetry. The
 * convolution is circular over N points: mass of the composed loss outside the window wraps
 * around; the grid is sized (prv-grid.ts) so that this mass is inside the δ error budget.
 */
import { fft } from '../../math/fft';
import type { DiscretePrv } from './discretize';

/** One distinct (σ, q) of the history: its discretised PRVs and how many steps it was used for. */
export interface PrvFactor {
  remove: DiscretePrv;
  add: DiscretePrv;
  steps: number;
}

/** A composed loss: probabilities at the sorted values v_s = (s - N/2) h + offset. */
export interface ComposedPrv {
  pmf: Float64Array;
  mesh: number;
  offset: number;
}

// Spectral components whose magnitude falls below this after the power are dropped: each changes
// any output probability by at most its magnitude, and there are at most N of them among N
// outputs, so the δ error is below N · 1e-30 — far inside the budget.
const NEGLIGIBLE_LOG_MAGNITUDE = Math.log(1e-30);

/**
 * acc[k] *= z^n for complex z = re + i·im, by polar form (an exact multiple of the phase, no
 * repeated-squaring drift); components that fall below 1e-30 are set to zero.
 */
function multiplyByPower(re: number, im: number, n: number, acc: Float64Array, accIm: Float64Array, k: number): void {
  const logMagnitude = 0.5 * n * Math.log(re * re + im * im);
  if (!(logMagnitude > NEGLIGIBLE_LOG_MAGNITUDE)) {
    acc[k] = 0;
    accIm[k] = 0;
    return;
  }
  let pr = re;
  let pi = im;
  if (n !== 1) {
    const magnitude = Math.exp(logMagnitude);
    const angle = n * Math.atan2(im, re);
    pr = magnitude * Math.cos(angle);
    pi = magnitude * Math.sin(angle);
  }
  const ar = acc[k];
  const ai = accIm[k];
  acc[k] = ar * pr - ai * pi;
  accIm[k] = ar * pi + ai * pr;
}

/** Composes all factors; returns the composed 'remove' and 'add' losses. */
export function composePrvs(factors: readonly PrvFactor[], mesh: number, size: number): { remove: ComposedPrv; add: ComposedPrv } {
  const n = size;
  // Running products of the spectra, one per direction.
  const rRe = new Float64Array(n).fill(1);
  const rIm = new Float64Array(n);
  const aRe = new Float64Array(n).fill(1);
  const aIm = new Float64Array(n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  let totalSteps = 0;
  let removeShift = 0;
  let addShift = 0;
  for (const f of factors) {
    re.set(f.remove.pmf);
    im.set(f.add.pmf);
    fft(re, im);
    const steps = f.steps;
    for (let k = 0; k < n; k++) {
      const k2 = (n - k) & (n - 1);
      // R_k = (Z_k + conj Z_{n-k}) / 2,  A_k = (Z_k - conj Z_{n-k}) / (2i); then acc *= R^steps, A^steps.
      if (rRe[k] !== 0 || rIm[k] !== 0) {
        const zr = 0.5 * (re[k] + re[k2]);
        const zi = 0.5 * (im[k] - im[k2]);
        multiplyByPower(zr, zi, steps, rRe, rIm, k);
      }
      if (aRe[k] !== 0 || aIm[k] !== 0) {
        const zr = 0.5 * (im[k] + im[k2]);
        const zi = -0.5 * (re[k] - re[k2]);
        multiplyByPower(zr, zi, steps, aRe, aIm, k);
      }
    }
    totalSteps += f.steps;
    removeShift += f.steps * f.remove.shift;
    addShift += f.steps * f.add.shift;
  }
  // Inverse transform of R + iA gives the two real results as real and imaginary parts.
  for (let k = 0; k < n; k++) {
    re[k] = rRe[k] - aIm[k];
    im[k] = rIm[k] + aRe[k];
  }
  fft(re, im, true);
  // Index m of the circular result holds loss index sums J ≡ m (mod n); with the grid centred at
  // N/2, the value is (J - K N/2) h + shift. Position s holds (s - N/2) h + shift, i.e.
  // J = s + (K - 1) N/2, so m = s + ((K - 1) mod 2) N/2 (mod n).
  const wrap = ((totalSteps - 1) % 2) * (n / 2);
  const remove = new Float64Array(n);
  const add = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const m = (s + wrap) & (n - 1);
    remove[s] = re[m] > 0 ? re[m] : 0; // negative values are FFT rounding (~1e-18)
    add[s] = im[m] > 0 ? im[m] : 0;
  }
  return {
    remove: { pmf: remove, mesh, offset: removeShift },
    add: { pmf: add, mesh, offset: addShift },
  };
}
