import * as tf from '@tensorflow/tfjs-core';

/**
 * The ghost kernels' reference: per sample, ‖a_iᵀ g_i‖²_F (the weight's per-sample gradient) and
 * ‖Σ_t g_it‖² (the bias's) in float64, from the per-sample gradients themselves, for a [B, T, d] and
 * g [B, T, p] given as flat arrays.
 */
export function ghostNormsFloat64(a: Float32Array, g: Float32Array, b: number, t: number, d: number, p: number): { weight: Float64Array; bias: Float64Array } {
  const weight = new Float64Array(b);
  const bias = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    for (let x = 0; x < d; x++)
      for (let y = 0; y < p; y++) {
        let s = 0;
        for (let k = 0; k < t; k++) s += a[(i * t + k) * d + x]! * g[(i * t + k) * p + y]!;
        weight[i]! += s * s;
      }
    for (let y = 0; y < p; y++) {
      let s = 0;
      for (let k = 0; k < t; k++) s += g[(i * t + k) * p + y]!;
      bias[i]! += s * s;
    }
  }
  return { weight, bias };
}

/** The weight's squared norms, plus the bias's with `bias` (`ghostNormsFloat64`). */
export function ghostReference(a: Float32Array, g: Float32Array, b: number, t: number, d: number, p: number, bias: boolean): Float64Array {
  const r = ghostNormsFloat64(a, g, b, t, d, p);
  return r.weight.map((w, i) => w + (bias ? r.bias[i]! : 0));
}

/** Row sums of the partials (the per-sample squared norms), the sum tensor freed. */
export async function sumRows(partials: tf.Tensor2D): Promise<Float32Array> {
  const s = tf.sum(partials, 1);
  const v = (await s.data()) as Float32Array;
  s.dispose();
  return v;
}
