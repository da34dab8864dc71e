/**
 * Complementary error function and its logarithm, accurate to a few ulps over the whole real line.
 *
 * erfc(x) = 2/√π ∫_x^∞ e^{-s²} ds (Abramowitz & Stegun 7.1.2). For x >= 0 we write
 * erfc(x) = t · exp(-x² + g(t)) with t = 2 / (2 + x), the change of variable used by Numerical
 * Recipes (3rd ed.) for erfc, under which g(t) = log(erfcx(x) / t) is smooth on t ∈ [0, 1] (g(0) = -log(2√π)),
 * so a Chebyshev series in t converges geometrically. We do not copy anyone's coefficients: they are
 * computed once, when this module loads (32 pieces of 9 terms, ~2 ms), from two slow expansions:
 *  - x < 0.5: the Maclaurin series of erf (A&S 7.1.5), where erfc > 0.47 so nothing cancels;
 *  - x >= 0.5: Laplace's continued fraction erfc(x) = e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))
 *    (A&S 7.1.14), evaluated backwards from a term well past convergence.
 * The tests compare against values computed with 30-digit arithmetic (mpmath).
 */

const SQRT_PI = Math.sqrt(Math.PI);
const LOG_HALF = Math.log(0.5);

/** erf(x) for |x| < 0.5 by its Maclaurin series (A&S 7.1.5). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 40; n++) {
    term *= (-x2 * (2 * n - 1)) / (n * (2 * n + 1));
    sum += term;
    if (Math.abs(term) < 1e-18) break;
  }
  return (2 / SQRT_PI) * sum;
}

/** e^{x²} erfc(x) for x >= 0 by the slow expansions; used only to build the Chebyshev table. */
export function erfcxReference(x: number): number {
  if (x < 0.5) {
    // erfc >= 0.47 here, so 1 - erf loses nothing.
    return Math.exp(x * x) * (1 - erfSeries(x));
  }
  // Laplace's continued fraction evaluated backwards from a deep tail: each step damps the
  // rounding error of the previous ones, so the result is good to about one ulp for x >= 0.3.
  // Forward convergence needs about 180/x² + 20 terms; start deeper than that.
  let f = x;
  for (let n = Math.ceil(800 / (x * x)) + 60; n >= 1; n--) f = x + n / 2 / f;
  return 1 / (SQRT_PI * f);
}

// g(u) on u ∈ [-1, 1] is stored as PIECES Chebyshev series of TERMS terms on equal sub-intervals:
// with 32 pieces the 9th coefficient is below 2e-16, so evaluation costs one short Clenshaw loop.
const PIECES = 32;
const TERMS = 9;
const FIT_NODES = 16;

function buildCoefficients(): Float64Array {
  const table = new Float64Array(PIECES * TERMS);
  const theta = new Float64Array(FIT_NODES);
  const g = new Float64Array(FIT_NODES);
  for (let j = 0; j < FIT_NODES; j++) theta[j] = (Math.PI * (j + 0.5)) / FIT_NODES;
  for (let p = 0; p < PIECES; p++) {
    for (let j = 0; j < FIT_NODES; j++) {
      const u = -1 + (2 * p + 1 + Math.cos(theta[j])) / PIECES;
      const t = (u + 1) / 2;
      g[j] = Math.log(erfcxReference(2 / t - 2) / t);
    }
    for (let k = 0; k < TERMS; k++) {
      let s = 0;
      for (let j = 0; j < FIT_NODES; j++) s += g[j] * Math.cos(k * theta[j]);
      table[p * TERMS + k] = ((k === 0 ? 1 : 2) / FIT_NODES) * s;
    }
  }
  return table;
}

const COEFFICIENTS = buildCoefficients();

/** g(t) = log(erfcx(x) / t) at u = 2t - 1 ∈ [-1, 1], by Clenshaw's recurrence on its piece. */
function chebyshevG(u: number): number {
  const scaled = ((u + 1) * PIECES) / 2;
  const piece = Math.min(PIECES - 1, Math.floor(scaled));
  const v = 2 * (scaled - piece) - 1;
  const base = piece * TERMS;
  const c = COEFFICIENTS;
  let b1 = 0;
  let b2 = 0;
  const v2 = 2 * v;
  for (let k = base + TERMS - 1; k > base; k--) {
    const b0 = v2 * b1 - b2 + c[k];
    b2 = b1;
    b1 = b0;
  }
  return v * b1 - b2 + c[base];
}

/** exp(-x² + g) without the rounding error of x² (split x into a 12-bit head and a tail). */
function expMinusSquare(x: number, g: number): number {
  const head = Math.round(x * 4096) / 4096; // head² is exact in a double
  return Math.exp(-head * head) * Math.exp(g - (x - head) * (x + head));
}

/** Scaled complementary error function e^{x²} erfc(x), for x >= 0 (finite for every x). */
export function erfcx(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return Math.exp(x * x) * erfc(x);
  if (x === Infinity) return 0;
  if (x > 1e8) return 1 / (SQRT_PI * x); // asymptotic series, next term ~1e-16 relative
  const t = 2 / (2 + x);
  return t * Math.exp(chebyshevG(2 * t - 1));
}

/** Complementary error function erfc(x) = 1 - erf(x), with full relative accuracy for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x > 27.3) return 0; // erfc(27.3) < 2^-1074
  const t = 2 / (2 + x);
  return t * expMinusSquare(x, chebyshevG(2 * t - 1));
}

/** log(erfc(x)), finite for every finite x (about -x² - log(x√π) for large x). */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < 0.5) return Math.log1p(-erf(x)); // log t - x² + g would cancel near 0
  if (x < 0) return Math.log(2 - erfc(-x));
  if (x === Infinity) return -Infinity;
  if (x > 1e8) return -x * x - Math.log(SQRT_PI * x);
  const t = 2 / (2 + x);
  return Math.log(t) - x * x + chebyshevG(2 * t - 1);
}

/** Error function erf(x) = 1 - erfc(x) (absolute accuracy ~1e-16). */
export function erf(x: number): number {
  // Avoid 1 - erfc cancellation near 0.
  if (Math.abs(x) < 0.5) return erfSeries(x);
  return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
}

/** Standard normal CDF Φ(z), with full relative accuracy in the lower tail. */
export function normCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** log Φ(z), finite far into the lower tail. */
export function logNormCdf(z: number): number {
  return LOG_HALF + logErfc(-z / Math.SQRT2);
}
