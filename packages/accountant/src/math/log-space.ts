// Arithmetic on numbers stored as their logarithms, for sums whose terms overflow a double
// (the binomial expansion of the subsampled Gaussian's RDP has terms like e^{α²/2σ²}).

/** log(e^a + e^b), exact for -Infinity arguments. */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log(e^a - e^b) for a >= b; -Infinity when a === b. */
export function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b > a) throw new RangeError(`logSub needs a >= b, got a = ${a}, b = ${b}`);
  if (a === b) return -Infinity;
  // log(e^a - e^b) = a + log(1 - e^{b-a}); log(-expm1) keeps precision when b is close to a.
  return a + Math.log(-Math.expm1(b - a));
}

/** log Σ e^{v_i}, shifting by the maximum so nothing overflows; -Infinity for an empty list. */
export function logSumExp(values: ArrayLike<number>): number {
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > hi) hi = values[i];
  if (hi === -Infinity || hi === Infinity) return hi;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - hi);
  return hi + Math.log(sum);
}
