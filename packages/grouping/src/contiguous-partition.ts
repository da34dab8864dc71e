import { ClipwiseGroupingError } from './errors';

/**
 * Splits a sequence of items with costs into `k` non-empty contiguous runs, minimising the cost of the
 * most expensive run (the linear partition problem, solved exactly by dynamic programming in
 * O(k n²)). Among splits with the same maximum it prefers the smaller sum of squared run costs, so
 * equal costs split evenly. Returns the start index of each run; the first is 0.
 *
 * @example
 * partitionContiguous([4, 1, 1, 1, 1], 2); // [0, 1]: runs cost 4 and 4
 */
export function partitionContiguous(costs: readonly number[], k: number): number[] {
  const n = costs.length;
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new ClipwiseGroupingError(
      `cannot split ${n} item(s) into ${k} non-empty contiguous runs; expected 1 ≤ k ≤ ${n}.`,
    );
  }
  const prefix = [0];
  for (const c of costs) prefix.push(prefix[prefix.length - 1]! + c);
  const runCost = (from: number, to: number) => prefix[to]! - prefix[from]!;

  // best[j][i]: best split of items [0, i) into j runs; from[j][i]: where its last run starts.
  const best: { max: number; sq: number }[][] = [];
  const from: number[][] = [];
  best[1] = [];
  from[1] = [];
  for (let i = 1; i <= n; i++) {
    const c = runCost(0, i);
    best[1]![i] = { max: c, sq: c * c };
    from[1]![i] = 0;
  }
  for (let j = 2; j <= k; j++) {
    best[j] = [];
    from[j] = [];
    for (let i = j; i <= n - (k - j); i++) {
      let chosen: { max: number; sq: number } | undefined;
      let chosenStart = -1;
      for (let s = j - 1; s < i; s++) {
        const prev = best[j - 1]![s]!;
        const c = runCost(s, i);
        const cand = { max: Math.max(prev.max, c), sq: prev.sq + c * c };
        if (!chosen || cand.max < chosen.max || (cand.max === chosen.max && cand.sq < chosen.sq)) {
          chosen = cand;
          chosenStart = s;
        }
      }
      best[j]![i] = chosen!;
      from[j]![i] = chosenStart;
    }
  }
  const starts: number[] = [];
  let end = n;
  for (let j = k; j >= 1; j--) {
    const s = from[j]![end]!;
    starts.unshift(s);
    end = s;
  }
  return starts;
}
