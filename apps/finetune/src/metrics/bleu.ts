/**
 * Corpus BLEU-4 (Papineni et al., 2002, "BLEU: a Method for Automatic Evaluation of Machine
 * Translation", eq. 1–2), with several references per candidate:
 *
 *   BLEU = BP · exp(Σ_{n=1..4} ¼ log p_n),   p_n = Σ_c Σ_g min(count_c(g), max_r count_r(g)) / Σ_c Σ_g count_c(g)
 *   BP = 1 if c > r, else exp(1 − r/c)
 *
 * where the counts are summed over the corpus before dividing (corpus level, not an average of
 * sentence scores), c is the total candidate length and r the sum over candidates of the reference
 * length closest to the candidate's (the shorter on a tie), as in multi-bleu.perl and NLTK's
 * `corpus_bleu`. No smoothing: a corpus without any matching 4-gram scores 0.
 */
export interface BleuResult {
  /** In [0, 1]. */
  readonly bleu: number;
  /** Modified n-gram precisions p_1..p_4. */
  readonly precisions: readonly number[];
  readonly brevityPenalty: number;
  /** Total candidate length c and effective reference length r. */
  readonly candidateLength: number;
  readonly referenceLength: number;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0001');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Corpus BLEU-4 of tokenised candidates, each against all of its tokenised references. */
export function corpusBleu(candidates: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[], maxN = 4): BleuResult {
  if (candidates.length !== references.length) {
    throw new Error(`corpusBleu: ${candidates.length} candidates but ${references.length} reference lists; give one list per candidate`);
  }
  const matched = new Array<number>(maxN).fill(0);
  const total = new Array<number>(maxN).fill(0);
  let c = 0;
  let r = 0;
  candidates.forEach((cand, i) => {
    const refs = references[i]!;
    if (refs.length === 0) throw new Error(`corpusBleu: candidate ${i} has no reference`);
    c += cand.length;
    r += refs.map((ref) => ref.length).reduce((best, len) => {
      const d = Math.abs(len - cand.length);
      const bd = Math.abs(best - cand.length);
      return d < bd || (d === bd && len < best) ? len : best;
    });
    for (let n = 1; n <= maxN; n++) {
      const counts = ngramCounts(cand, n);
      const maxRef = new Map<string, number>();
      for (const ref of refs) for (const [g, k] of ngramCounts(ref, n)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, k));
      for (const [g, k] of counts) {
        matched[n - 1] += Math.min(k, maxRef.get(g) ?? 0);
        total[n - 1] += k;
      }
    }
  });
  const precisions = matched.map((m, n) => (total[n]! > 0 ? m / total[n]! : 0));
  const brevityPenalty = c === 0 ? 0 : c > r ? 1 : Math.exp(1 - r / c);
  const bleu = precisions.some((p) => p === 0) ? 0 : brevityPenalty * Math.exp(precisions.reduce((s, p) => s + Math.log(p), 0) / maxN);
  return { bleu, precisions, brevityPenalty, candidateLength: c, referenceLength: r };
}
