/** A clip factor in WGSL from the expressions of a norm, its threshold C and γ: C / max(n, C) (Abadi) or C / (n + γ) (automatic). */
export function clipFactorWgsl(automatic: boolean, norm: string, threshold: string, gamma: string): string {
  return automatic ? `${threshold} / (${norm} + ${gamma})` : `${threshold} / max(${norm}, ${threshold})`;
}
