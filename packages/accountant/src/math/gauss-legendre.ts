/**
 * Composite Gauss–Legendre quadrature. The nodes are the roots of the Legendre polynomial P_n,
 * found by Newton's method from Tricomi's initial guess cos(π(i - 1/4)/(n + 1/2)); the weights are
 * 2 / ((1 - x²) P_n'(x)²) (Abramowitz & Stegun 25.4.29).
 */

const ruleCache = new Map<number, { nodes: Float64Array; weights: Float64Array }>();

/** Nodes and weights of the n-point rule on [-1, 1]. */
export function gaussLegendreRule(n: number): { nodes: Float64Array; weights: Float64Array } {
  let rule = ruleCache.get(n);
  if (rule !== undefined) return rule;
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iter = 0; iter < 100; iter++) {
      // Three-term recurrence for P_n(x) and its derivative.
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / derivative;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * derivative * derivative);
  }
  rule = { nodes, weights };
  ruleCache.set(n, rule);
  return rule;
}

/** ∫_a^b f(x) dx with `panels` equal panels of the `points`-point rule. */
export function integrate(f: (x: number) => number, a: number, b: number, panels: number, points = 10): number {
  if (!(b > a)) return 0;
  const { nodes, weights } = gaussLegendreRule(points);
  const width = (b - a) / panels;
  let total = 0;
  for (let p = 0; p < panels; p++) {
    const mid = a + (p + 0.5) * width;
    let s = 0;
    for (let i = 0; i < points; i++) s += weights[i] * f(mid + (width / 2) * nodes[i]);
    total += (s * width) / 2;
  }
  return total;
}
