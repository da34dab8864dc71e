/**
 * The tokenisation both text metrics use: lower-cased, words and single punctuation marks as
 * separate tokens ("The Eagle's, cheap." → the eagle ' s , cheap .), as the E2E challenge's
 * scripts normalise before scoring.
 */
export function tokenizeForMetrics(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}
