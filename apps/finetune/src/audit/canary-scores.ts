/**
 * White-box membership scores: how far training moved each canary's head column in the direction
 * its own gradient step points, u = e_label - 1/K (descent raises the label's logit, lowers the
 * others' evenly). A canary never trained on moves by noise alone, so its score has mean 0.
 *
 * @param before head canary columns [classes, canaries] before training (row-major)
 * @param after the same after training
 */
export function canaryScores(before: Float64Array, after: Float64Array, canaryLabels: Int32Array, classes: number): Float64Array {
  const m = canaryLabels.length;
  if (before.length !== classes * m || after.length !== classes * m) {
    throw new Error(`canaryScores: expected ${classes}×${m} columns, got ${before.length} and ${after.length} values`);
  }
  const scores = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const moved = after[k * m + i]! - before[k * m + i]!;
      s += moved * ((k === canaryLabels[i] ? 1 : 0) - 1 / classes);
    }
    scores[i] = s;
  }
  return scores;
}
