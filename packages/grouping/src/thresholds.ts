import { ClipwiseGroupingError, listNames } from './errors';
import type { ThresholdInput } from './types';

/** Checks the overall clipping norm `C`. */
export function checkClipNorm(clipNorm: unknown): number {
  if (typeof clipNorm !== 'number' || !Number.isFinite(clipNorm) || clipNorm <= 0) {
    throw new ClipwiseGroupingError(
      `clipNorm is ${String(clipNorm)}; expected a finite number > 0. Pass the overall clipping norm C, e.g. { clipNorm: 1 }.`,
    );
  }
  return clipNorm;
}

/**
 * The default threshold split (as fastDP, Bu et al. 2023): every one of the `M` groups gets
 * `C_m = C / sqrt(M)`, so the total sensitivity `sqrt(Σ_m C_m²)` equals `C` whatever the grouping.
 *
 * @example
 * equalSplit(1, 4); // [0.5, 0.5, 0.5, 0.5]
 */
export function equalSplit(clipNorm: number, groupCount: number): number[] {
  const c = checkClipNorm(clipNorm) / Math.sqrt(groupCount);
  return Array.from({ length: groupCount }, () => c);
}

/**
 * Total L2 sensitivity of group-wise clipping, `S = sqrt(Σ_m C_m²)`: with per-group clipping, one
 * sample changes the sum of group m by at most `C_m`, and the groups are orthogonal blocks of the
 * gradient (He et al. 2022, "Exploring the limits of differentially private deep learning with
 * group-wise clipping"). The Gaussian mechanism adds noise of standard deviation `σ S`.
 *
 * @example
 * totalSensitivity([3, 4]); // 5
 */
export function totalSensitivity(thresholds: readonly number[]): number {
  // hypot avoids overflow/underflow of squaring for extreme thresholds.
  return Math.hypot(...thresholds);
}

/**
 * Turns explicit thresholds (array in group order, or record keyed by group name) into an array in
 * group order, checking that each group gets exactly one finite positive threshold.
 */
export function thresholdsFor(input: ThresholdInput, groupNames: readonly string[]): number[] {
  const values = Array.isArray(input)
    ? fromArray(input as readonly number[], groupNames)
    : fromRecord(input as Readonly<Record<string, number>>, groupNames);
  values.forEach((c, m) => {
    if (typeof c !== 'number' || !Number.isFinite(c) || c <= 0) {
      throw new ClipwiseGroupingError(
        `threshold of group '${groupNames[m]}' is ${String(c)}; expected a finite number > 0. ` +
          'Give every group a positive clipping threshold.',
      );
    }
  });
  return values;
}

function fromArray(input: readonly number[], groupNames: readonly string[]): number[] {
  if (input.length !== groupNames.length) {
    throw new ClipwiseGroupingError(
      `got ${input.length} threshold(s) for ${groupNames.length} group(s); expected one per group, in group order. ` +
        `Pass ${groupNames.length} values, or a record keyed by group name (see grouping.describe()).`,
    );
  }
  return [...input];
}

function fromRecord(input: Readonly<Record<string, number>>, groupNames: readonly string[]): number[] {
  if (typeof input !== 'object' || input === null) {
    throw new ClipwiseGroupingError(
      `thresholds is ${String(input)}; expected an array in group order or a record keyed by group name.`,
    );
  }
  const names = new Set(groupNames);
  for (const key of Object.keys(input)) {
    if (!names.has(key)) {
      throw new ClipwiseGroupingError(
        `thresholds name group '${key}', which this grouping does not have; expected one of ${listNames(groupNames)}. Check the spelling, or print grouping.describe().`,
      );
    }
  }
  const missing = groupNames.filter((n) => !Object.prototype.hasOwnProperty.call(input, n));
  if (missing.length) {
    throw new ClipwiseGroupingError(
      `thresholds miss group(s) ${listNames(missing)}; expected a value for every group. ` +
        'Add them, or pass an array in group order.',
    );
  }
  return groupNames.map((n) => input[n]!);
}
