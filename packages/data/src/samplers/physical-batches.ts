import { assertInteger } from '../errors.js';

/**
 * Splits one logical batch into micro-batches of at most `maxPhysicalBatchSize` indices, in order,
 * so a step fits a memory cap. With per-sample clipping the sum of clipped gradients over the
 * micro-batches equals the sum over the whole batch, so accumulating them is exact; add the noise
 * and divide once per logical batch.
 *
 * Returns views into `batch` (no copy). An empty batch (possible under Poisson sampling) gives `[]`:
 * the trainer must still take the step with a zero clipped sum plus noise, or the privacy analysis
 * no longer holds.
 *
 * @example
 * ```ts
 * splitPhysicalBatches(Int32Array.from([3, 8, 9, 12, 20]), 2); // [[3, 8], [9, 12], [20]]
 * ```
 */
export function splitPhysicalBatches(batch: Int32Array, maxPhysicalBatchSize: number): Int32Array[] {
  assertInteger(maxPhysicalBatchSize, 'maxPhysicalBatchSize', 1);
  const out: Int32Array[] = [];
  for (let start = 0; start < batch.length; start += maxPhysicalBatchSize) {
    out.push(batch.subarray(start, Math.min(batch.length, start + maxPhysicalBatchSize)));
  }
  return out;
}
