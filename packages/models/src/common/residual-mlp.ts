import type * as tf from '@tensorflow/tfjs-core';
import type { FusedActivation, LayerNorm, Linear } from '@clipwise/core';

/**
 * A pre-norm transformer block's MLP half, x + proj(act(fc(ln(x)))), freeing x and every
 * intermediate as soon as it is used (what backward needs, each op saved as a handle of its own;
 * the residual sum saves nothing and runs in proj's launch: `Linear.applyPlus`): GPT-2 and ViT share it.
 */
export function residualMlp(x: tf.Tensor3D, ln: LayerNorm, fc: Linear, act: FusedActivation, proj: Linear): tf.Tensor3D {
  const n = ln.apply(x);
  // the activation in fc's launch (Linear.applyAct), the residual add in proj's
  const g = fc.applyAct(n, act);
  const y = proj.applyPlus(g, x) as tf.Tensor3D;
  for (const t of [n, g, x]) t.dispose();
  return y;
}
