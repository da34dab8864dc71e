/**
 * ROUGE-L (Lin, 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", §3.1): the
 * F-measure of the longest common subsequence (LCS) of candidate X and reference Y,
 *
 *   R = LCS(X, Y) / |Y|,  P = LCS(X, Y) / |X|,  F = (1 + β²) R P / (R + β² P)
 *
 * With several references, as the E2E challenge's scorer (pycocoevalcap `Rouge`) does: P and R are
 * each the maximum over the references, then combined with β = 1.2; the corpus score is the mean
 * of the candidates' scores.
 */

/** Length of the longest common subsequence (dynamic programme, O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    prev = cur;
  }
  return prev[b.length]!;
}

/** Sentence ROUGE-L F-measure of one tokenised candidate against all its tokenised references. */
export function rougeL(candidate: readonly string[], references: readonly (readonly string[])[], beta = 1.2): number {
  if (references.length === 0) throw new Error('rougeL: the candidate has no reference');
  let p = 0;
  let r = 0;
  for (const ref of references) {
    const lcs = lcsLength(candidate, ref);
    if (candidate.length > 0) p = Math.max(p, lcs / candidate.length);
    if (ref.length > 0) r = Math.max(r, lcs / ref.length);
  }
  if (p === 0 || r === 0) return 0;
  return ((1 + beta * beta) * p * r) / (r + beta * beta * p);
}

/** Mean sentence ROUGE-L over a corpus. */
export function corpusRougeL(candidates: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[], beta = 1.2): number {
  if (candidates.length !== references.length) {
    throw new Error(`corpusRougeL: ${candidates.length} candidates but ${references.length} reference lists; give one list per candidate`);
  }
  if (candidates.length === 0) return 0;
  return candidates.reduce((s, c, i) => s + rougeL(c, references[i]!, beta), 0) / candidates.length;
}
