import type { ParamSpec } from '@clipwise/core';

/** Per parameter (by its hub name): the sum and the sum of squares of its values. */
export type WeightDigest = Record<string, readonly [sum: number, sumOfSquares: number]>;

/**
 * A fingerprint of a model's weights, read from the backend: the worker puts it on the download
 * button (`data-weight-digest`) so that a download can be checked against the model that made it
 * (the browser test loads model.safetensors back in Node and compares).
 */
export async function weightDigest(params: readonly ParamSpec[]): Promise<WeightDigest> {
  const digest: Record<string, [number, number]> = {};
  for (const p of params) {
    const values = await p.variable.data();
    let sum = 0;
    let sumOfSquares = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      sum += v;
      sumOfSquares += v * v;
    }
    digest[p.name] = [sum, sumOfSquares];
  }
  return digest;
}
