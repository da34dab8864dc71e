/**
 * The privacy loss random variable (PRV) of one step of the Poisson-subsampled Gaussian mechanism
 * (Gopi, Lee & Wutschitz, "Numerical Composition of Differential Privacy", NeurIPS 2021,
 * Propositions B1 and B4; Koskela, Jälkö & Honkela 2020).
 *
 * With Q = N(0, σ²) (example absent) and P = (1 - q) N(0, σ²) + q N(1, σ²) (example present), the
 * privacy loss at output x is ℓ(x) = log(P(x)/Q(x)) = log(1 - q + q e^{(2x - 1)/(2σ²)}), increasing in x,
 * with inverse x(t) = σ² log((e^t - (1 - q))/q) + 1/2 for t > log(1 - q).
 *  - 'remove' (the pair P‖Q): Y = ℓ(X), X ~ P;  F(t) = (1-q) Φ(x(t)/σ) + q Φ((x(t) - 1)/σ).
 *  - 'add'    (the pair Q‖P): Y = -ℓ(X), X ~ Q; F(t) = Φ(-x(-t)/σ).
 * δ(ε) of the pair is E[(1 - e^{ε - Y})_+]. Under add-or-remove adjacency both orders must be
 * accounted for; the composed δ is the larger of the two.
 */
import { erfc } from '../../math/erfc';
import { integrate } from '../../math/gauss-legendre';

export type PrvDirection = 'remove' | 'add';

/** [Φ(z), Φ(-z)], each with full relative accuracy where it is small, from one erfc call. */
function normCdfPair(z: number, out: Float64Array, offset: number): void {
  if (z >= 0) {
    const lower = 0.5 * erfc(z / Math.SQRT2);
    out[offset] = 1 - lower;
    out[offset + 1] = lower;
  } else {
    const lower = 0.5 * erfc(-z / Math.SQRT2);
    out[offset] = lower;
    out[offset + 1] = 1 - lower;
  }
}

export class SubsampledGaussianPrv {
  readonly sampleRate: number;
  readonly noiseMultiplier: number;
  readonly direction: PrvDirection;
  /** log(1 - q): the privacy loss never goes below it (-Infinity when q = 1). */
  private readonly lossFloor: number;
  private readonly pair = new Float64Array(4);

  constructor(sampleRate: number, noiseMultiplier: number, direction: PrvDirection) {
    this.sampleRate = sampleRate;
    this.noiseMultiplier = noiseMultiplier;
    this.direction = direction;
    this.lossFloor = Math.log1p(-sampleRate);
  }

  /** Privacy loss ℓ(x) = log(1 - q + q e^u), u = (2x - 1)/(2σ²), without overflow. */
  loss(x: number): number {
    const q = this.sampleRate;
    const u = (2 * x - 1) / (2 * this.noiseMultiplier * this.noiseMultiplier);
    if (q === 1) return u;
    if (u > 0) return u + Math.log(q + (1 - q) * Math.exp(-u));
    return Math.log1p(q * Math.expm1(u));
  }

  /** x(t), the output at which ℓ(x) = t; -Infinity when t <= log(1 - q). */
  lossInverse(t: number): number {
    const q = this.sampleRate;
    const s2 = this.noiseMultiplier * this.noiseMultiplier;
    if (q === 1) return s2 * t + 0.5;
    if (t <= this.lossFloor) return -Infinity;
    const u = t > 0 ? t - Math.log(q) + Math.log1p(-(1 - q) * Math.exp(-t)) : Math.log1p(Math.expm1(t) / q);
    return s2 * u + 0.5;
  }

  /**
   * Writes [F(t), 1 - F(t)] of this PRV into out[offset], out[offset + 1], each accurate where it
   * is small (so bin masses can be taken from whichever side does not cancel).
   */
  cdfAndSf(t: number, out: Float64Array, offset: number): void {
    const sigma = this.noiseMultiplier;
    if (this.direction === 'remove') {
      const x = this.lossInverse(t);
      if (x === -Infinity) {
        out[offset] = 0;
        out[offset + 1] = 1;
        return;
      }
      const q = this.sampleRate;
      const p = this.pair;
      normCdfPair(x / sigma, p, 0);
      normCdfPair((x - 1) / sigma, p, 2);
      out[offset] = (1 - q) * p[0] + q * p[2];
      out[offset + 1] = (1 - q) * p[1] + q * p[3];
    } else {
      const x = this.lossInverse(-t);
      if (x === -Infinity) {
        out[offset] = 1;
        out[offset + 1] = 0;
        return;
      }
      normCdfPair(-x / sigma, out, offset);
    }
  }

  /**
   * E[Y · 1{a <= Y <= b}], integrated in output space x (where the integrand is smooth) with
   * composite 10-point Gauss–Legendre. Panels are narrower than σ/2 and than σ² (ℓ is analytic in a
   * strip of half-width πσ²), so the rule is exact to rounding.
   */
  partialMean(a: number, b: number): number {
    const sigma = this.noiseMultiplier;
    const q = this.sampleRate;
    const reach = 40 * sigma; // Gaussian mass beyond 40σ is below 1e-340
    const norm = 1 / (sigma * Math.sqrt(2 * Math.PI));
    const density =
      this.direction === 'remove'
        ? (x: number) =>
            norm * ((1 - q) * Math.exp((-0.5 * x * x) / (sigma * sigma)) + q * Math.exp((-0.5 * (x - 1) * (x - 1)) / (sigma * sigma)))
        : (x: number) => norm * Math.exp((-0.5 * x * x) / (sigma * sigma));
    // Y ∈ [a, b] as an interval of x: ℓ(x) ∈ [a, b] for 'remove', ℓ(x) ∈ [-b, -a] for 'add'.
    const [xLo, xHi] =
      this.direction === 'remove' ? [this.lossInverse(a), this.lossInverse(b)] : [this.lossInverse(-b), this.lossInverse(-a)];
    const lo = Math.max(xLo, -reach);
    const hi = Math.min(xHi, 1 + reach);
    if (!(hi > lo)) return 0;
    const width = Math.min(sigma / 2, sigma * sigma);
    const panels = Math.min(200_000, Math.max(16, Math.ceil((hi - lo) / width)));
    const sign = this.direction === 'remove' ? 1 : -1;
    return sign * integrate((x) => this.loss(x) * density(x), lo, hi, panels);
  }
}
