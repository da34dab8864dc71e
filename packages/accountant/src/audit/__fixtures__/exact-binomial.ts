// Exact rational binomial probabilities with BigInt, the independent reference for the float64 code.
// p is the fraction a / b; P[X = j] = C(n, j) a^j (b - a)^(n - j) / b^n.

export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

function binomialCoefficients(n: number): bigint[] {
  const row: bigint[] = [1n];
  for (let j = 1; j <= n; j++) row.push((row[j - 1]! * BigInt(n - j + 1)) / BigInt(j));
  return row;
}

/** Σ_{j=from}^{to} P[X = j] for X ~ Binomial(n, a/b), exactly. */
export function exactBinomialRange(from: number, to: number, n: number, a: number, b: number): Fraction {
  const c = binomialCoefficients(n);
  const A = BigInt(a);
  const B = BigInt(b - a);
  let num = 0n;
  for (let j = Math.max(0, from); j <= Math.min(n, to); j++) num += c[j]! * A ** BigInt(j) * B ** BigInt(n - j);
  return { num, den: BigInt(b) ** BigInt(n) };
}

export function add(x: Fraction, y: Fraction): Fraction {
  return { num: x.num * y.den + y.num * x.den, den: x.den * y.den };
}

/** x / k for an integer k. */
export function divide(x: Fraction, k: number): Fraction {
  return { num: x.num, den: x.den * BigInt(k) };
}

export function greater(x: Fraction, y: Fraction): boolean {
  return x.num * y.den > y.num * x.den;
}

/** The nearest double to num / den (to within one unit in the last place), for num, den >= 0. */
export function toNumber(x: Fraction): number {
  if (x.num === 0n) return 0;
  const shift = x.den.toString(2).length - x.num.toString(2).length + 64;
  const q = shift >= 0 ? (x.num << BigInt(shift)) / x.den : x.num / (x.den << BigInt(-shift));
  return Number(q) * 2 ** -shift;
}
