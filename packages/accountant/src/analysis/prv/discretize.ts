/**
 * Mean-preserving discretisation of the truncated PRVs onto the grid (Gopi, Lee & Wutschitz 2021): point j carries the mass of [c_j - h/2, c_j + h/2), c_j = (j - N/2) h; mass outside
 * the grid is dropped and the rest renormalised (truncation); then every point is moved by one
 * shift s so the discrete mean equals the mean of the truncated continuous PRV. The rounding error
 * Ỹ - Y then has mean zero and lies in an interval of width h, which is what Hoeffding needs.
 *
 * Both directions are discretised together: the grid's edges e_k = (k + 1/2) h are symmetric
 * (-e_k = e_{-k-1}), and the 'add' CDF at e_k is Φ(-x(-e_k)/σ), a value the 'remove' CDF already
 * needs at e_{-k-1}; so one pass of x(e_k) and Φ values serves both.
 */
import { erfc } from '../../math/erfc';
import type { PrvGrid } from './prv-grid';
import { SubsampledGaussianPrv } from './subsampled-gaussian-prv';

export interface DiscretePrv {
  /** Probability of each grid point (sums to 1). */
  pmf: Float64Array;
  /** Shift s added to every grid point. */
  shift: number;
}

/**
 * Fills pmf from CDF and survival values at the n + 1 edges (edge e at cdf[e], or at
 * cdf[last - e] when `mirrored`); returns the total mass before normalisation.
 */
function fillMasses(pmf: Float64Array, cdf: Float64Array, sf: Float64Array, mirrored: boolean): number {
  const n = pmf.length;
  const last = cdf.length - 1;
  let mass = 0;
  let leftCdf = mirrored ? cdf[last] : cdf[0];
  let leftSf = mirrored ? sf[last] : sf[0];
  for (let j = 0; j < n; j++) {
    const e = mirrored ? last - j - 1 : j + 1;
    const rightCdf = cdf[e];
    const rightSf = sf[e];
    // Take the difference on the side where both values are small, so it does not cancel.
    const p = rightCdf <= 0.5 ? rightCdf - leftCdf : leftSf - rightSf;
    const m = p > 0 ? p : 0;
    pmf[j] = m;
    mass += m;
    leftCdf = rightCdf;
    leftSf = rightSf;
  }
  return mass;
}

function finish(pmf: Float64Array, mass: number, prv: SubsampledGaussianPrv, h: number): DiscretePrv {
  const n = pmf.length;
  const scale = 1 / mass;
  let discreteMean = 0;
  for (let j = 0; j < n; j++) {
    pmf[j] *= scale;
    discreteMean += pmf[j] * (j - n / 2);
  }
  discreteMean *= h;
  const continuousMean = prv.partialMean((-n / 2 - 0.5) * h, (n / 2 - 0.5) * h) / mass;
  const shift = continuousMean - discreteMean;
  if (!(Math.abs(shift) <= h / 2 + 1e-9 * h)) {
    throw new RangeError(`PRV discretisation shift ${shift} exceeds half the mesh ${h / 2}: numerical failure`);
  }
  return { pmf, shift };
}

/** Discretised 'remove' and 'add' PRVs of one step at sampling rate q and noise multiplier σ. */
export function discretizeSubsampledGaussian(
  sampleRate: number,
  noiseMultiplier: number,
  grid: PrvGrid,
): { remove: DiscretePrv; add: DiscretePrv } {
  const { mesh: h, size: n } = grid;
  const q = sampleRate;
  const sigma = noiseMultiplier;
  const removePrv = new SubsampledGaussianPrv(q, sigma, 'remove');
  const addPrv = new SubsampledGaussianPrv(q, sigma, 'add');
  // Edge index k runs over -n/2 - 1 ... n/2 (n + 2 edges), stored at k + n/2 + 1.
  const count = n + 2;
  const base = n / 2 + 1;
  const phiPlus = new Float64Array(count); // Φ(x_k/σ)
  const phiMinus = new Float64Array(count); // Φ(-x_k/σ)
  const removeCdf = new Float64Array(count);
  const removeSf = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const x = removePrv.lossInverse((i - base + 0.5) * h);
    if (x === -Infinity) {
      phiPlus[i] = 0;
      phiMinus[i] = 1;
      removeCdf[i] = 0;
      removeSf[i] = 1;
      continue;
    }
    const z0 = x / sigma;
    const e0 = 0.5 * erfc(Math.abs(z0) / Math.SQRT2); // Φ(-|z0|)
    phiPlus[i] = z0 >= 0 ? 1 - e0 : e0;
    phiMinus[i] = z0 >= 0 ? e0 : 1 - e0;
    const z1 = (x - 1) / sigma;
    const e1 = 0.5 * erfc(Math.abs(z1) / Math.SQRT2);
    const p1Plus = z1 >= 0 ? 1 - e1 : e1;
    const p1Minus = z1 >= 0 ? e1 : 1 - e1;
    removeCdf[i] = (1 - q) * phiPlus[i] + q * p1Plus;
    removeSf[i] = (1 - q) * phiMinus[i] + q * p1Minus;
  }
  // Remove: pmf bin j spans edges k = j - n/2 - 1 and k + 1, i.e. stored indices j and j + 1.
  const removePmf = new Float64Array(n);
  const removeMass = fillMasses(removePmf, removeCdf, removeSf, false);
  // Add: F_A(e_k) = Φ(-x_{-k-1}/σ) and S_A(e_k) = Φ(x_{-k-1}/σ); the stored index of -k-1 is
  // n + 1 - i for the stored index i of k, so the add edges read phiMinus/phiPlus mirrored.
  const addPmf = new Float64Array(n);
  const addMass = fillMasses(addPmf, phiMinus, phiPlus, true);
  return {
    remove: finish(removePmf, removeMass, removePrv, h),
    add: finish(addPmf, addMass, addPrv, h),
  };
}
