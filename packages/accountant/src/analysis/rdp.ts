/**
 * Rényi differential privacy of the Poisson-subsampled Gaussian mechanism (the "sampled Gaussian
 * mechanism", SGM), following Mironov, Talwar & Zhang, "Rényi Differential Privacy of the Sampled
 * Gaussian Mechanism" (2019).
 *
 * With sensitivity 1, noise N(0, σ²) and sampling rate q, the mechanism's RDP at order α is
 * ε(α) = log(A_α) / (α - 1) with
 *   A_α = E_{z ~ μ0} [((1 - q) + q μ1(z)/μ0(z))^α],  μ0 = N(0, σ²), μ1 = N(1, σ²).
 * The same bound holds for adding and for removing an example (the paper shows the divergence in the
 * reverse order is never larger), and RDP composes by adding over steps.
 */
import { logErfc } from '../math/erfc';
import { integrate } from '../math/gauss-legendre';
import { logAdd, logSub, logSumExp } from '../math/log-space';
import { DEFAULT_RDP_ORDERS } from './rdp-orders';

const LOG_HALF = Math.log(0.5);

/**
 * log A_α for an integer α >= 2 by the binomial expansion (Mironov et al. 2019):
 * A_α = Σ_{i=0}^{α} C(α, i) (1 - q)^{α-i} q^i exp((i² - i) / (2σ²)), summed in log space.
 */
export function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const terms = new Float64Array(alpha + 1);
  let logBinom = 0; // log C(α, i), updated by C(α, i+1) = C(α, i) (α - i) / (i + 1)
  for (let i = 0; i <= alpha; i++) {
    terms[i] = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    logBinom += Math.log((alpha - i) / (i + 1));
  }
  return logSumExp(terms);
}

/**
 * log A_α for a fractional α > 1 by the two-series formula of Mironov et al. 2019 (as TF Privacy's
 * `_compute_log_a_frac`):
 * splitting the integral at z0 = σ² log(1/q - 1) + 1/2, where the two mixture terms cross,
 * A_α = Σ_{i>=0} C(α, i) [ q^i (1-q)^{α-i} e^{(i²-i)/2σ²} · ½ erfc((i - z0)/(√2σ))
 *                        + q^{α-i} (1-q)^i e^{((α-i)²-(α-i))/2σ²} · ½ erfc((z0 - (α-i))/(√2σ)) ].
 * For i > α the generalised binomial coefficients alternate in sign and shrink, so the partial sums
 * stay positive and the error after stopping is below the first omitted term (< e^{-34} ≈ 2e-15
 * in A_α >= 1). When σ is large and q is not small that tail decays slowly; after
 * SERIES_TERM_BUDGET terms we switch to `logAByQuadrature`.
 */
export function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const scale = Math.SQRT2 * sigma;
  const twoSigma2 = 2 * sigma * sigma;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logAbsBinom = 0; // log |C(α, i)|
  let positive = true; // sign of C(α, i)
  for (let i = 0; ; i++) {
    const j = alpha - i;
    const logT0 = logAbsBinom + i * logQ + j * log1mQ;
    const logT1 = logAbsBinom + j * logQ + i * log1mQ;
    const logE0 = LOG_HALF + logErfc((i - z0) / scale);
    const logE1 = LOG_HALF + logErfc((z0 - j) / scale);
    const logS0 = logT0 + (i * i - i) / twoSigma2 + logE0;
    const logS1 = logT1 + (j * j - j) / twoSigma2 + logE1;
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (i > alpha && Math.max(logS0, logS1) < -34) break;
    // For large σ with q not small the tail decays only like i^{-α-2}; past this many terms the
    // quadrature below is cheaper and just as exact.
    if (i > SERIES_TERM_BUDGET) return logAByQuadrature(q, sigma, alpha);
    // C(α, i+1) = C(α, i) (α - i) / (i + 1); the factor turns negative once i > α.
    const factor = (alpha - i) / (i + 1);
    logAbsBinom += Math.log(Math.abs(factor));
    if (factor < 0) positive = !positive;
  }
  return logAdd(logA0, logA1);
}

const SERIES_TERM_BUDGET = 400;

/**
 * log A_α by direct quadrature of its definition (Mironov et al. 2019), used when the
 * two-series formula converges too slowly. We integrate A_α - 1 = ∫ φ_σ(x) expm1(α ℓ(x)) dx with
 * ℓ(x) = log(1 - q + q e^{(2x-1)/(2σ²)}), so the result keeps its relative accuracy when A_α ≈ 1,
 * by composite 10-point Gauss–Legendre over [-40σ, α + 40σ] (the integrand peaks near 0 and near α)
 * with panels narrower than σ/2 and σ² (ℓ is analytic in a strip of half-width πσ²).
 */
export function logAByQuadrature(q: number, sigma: number, alpha: number): number {
  const s2 = sigma * sigma;
  const norm = 1 / (sigma * Math.sqrt(2 * Math.PI));
  const integrand = (x: number): number => {
    const u = (2 * x - 1) / (2 * s2);
    const loss = u > 0 ? u + Math.log(q + (1 - q) * Math.exp(-u)) : Math.log1p(q * Math.expm1(u));
    const logDensity = Math.log(norm) - (0.5 * x * x) / s2;
    const power = alpha * loss;
    // φ (e^{αℓ} - 1), in a form that neither overflows (αℓ large) nor cancels (αℓ small).
    return power > 1 ? Math.exp(logDensity + power) - Math.exp(logDensity) : Math.exp(logDensity) * Math.expm1(power);
  };
  const lo = -40 * sigma;
  const hi = alpha + 40 * sigma;
  const panels = Math.min(100_000, Math.max(64, Math.ceil((hi - lo) / Math.min(sigma / 2, s2))));
  return Math.log1p(integrate(integrand, lo, hi, panels));
}

/**
 * RDP ε(α) of one step of the subsampled Gaussian mechanism. Exact closed form α / (2σ²) when
 * q = 1 (the plain Gaussian mechanism, Mironov 2017).
 */
export function subsampledGaussianRdp(sampleRate: number, noiseMultiplier: number, order: number): number {
  const q = sampleRate;
  const sigma = noiseMultiplier;
  if (q === 1) return order / (2 * sigma * sigma);
  const logA = Number.isInteger(order) ? logAInteger(q, sigma, order) : logAFractional(q, sigma, order);
  // A_α >= 1 in exact arithmetic; a tiny negative log is rounding.
  return Math.max(0, logA) / (order - 1);
}

/**
 * RDP of `steps` compositions of the subsampled Gaussian mechanism at each order: the per-step
 * values times `steps` (RDP composes additively, Mironov 2017).
 *
 * @example
 * ```ts
 * const rdp = computeRdp(256 / 60000, 1.1, 14063); // Float64Array, one value per default order
 * ```
 */
export function computeRdp(
  sampleRate: number,
  noiseMultiplier: number,
  steps: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): Float64Array {
  const out = new Float64Array(orders.length);
  if (steps === 0) return out;
  for (let k = 0; k < orders.length; k++) {
    out[k] = steps * subsampledGaussianRdp(sampleRate, noiseMultiplier, orders[k]);
  }
  return out;
}

// Per-step RDP at the default orders for recently seen (q, σ): calibration, maxSteps and the PRV
// grid ask for the same few pairs many times.
const defaultOrderCache = new Map<string, Float64Array>();
const CACHE_LIMIT = 256;

/**
 * RDP of ONE step at each order, cached when `orders` is DEFAULT_RDP_ORDERS. The returned array is
 * shared: read it, do not modify it.
 */
export function perStepRdp(sampleRate: number, noiseMultiplier: number, orders: readonly number[] = DEFAULT_RDP_ORDERS): Float64Array {
  if (orders !== DEFAULT_RDP_ORDERS) return computeRdp(sampleRate, noiseMultiplier, 1, orders);
  const key = `${sampleRate}|${noiseMultiplier}`;
  let values = defaultOrderCache.get(key);
  if (values === undefined) {
    values = computeRdp(sampleRate, noiseMultiplier, 1, orders);
    if (defaultOrderCache.size >= CACHE_LIMIT) defaultOrderCache.clear();
    defaultOrderCache.set(key, values);
  }
  return values;
}
