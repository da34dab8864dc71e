import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradients of Sum and Mean that broadcast dy on the device (one Tile kernel) instead of TF.js's
 * `dy · ones(x.shape)`, which fills a ones array of x's full size on the CPU and uploads it on
 * every backward pass: for GPT-2's loss over [B, T, vocab] logits that was 412 MB a step and most
 * of the step's CPU time on webgpu (measured with `node --cpu-prof`, `makeOnesTypedArray`).
 * Registered when core is imported; same values as TF.js's own.
 */
function expandedDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const shape = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) shape[a] = 1;
  return tf.broadcastTo(tf.reshape(dy, shape), x.shape);
}

tf.registerGradient({
  kernelName: tf.Sum,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!;
    return { x: () => expandedDy(dy as tf.Tensor, x, (attrs as unknown as tf.SumAttrs).axis) };
  },
});

tf.registerGradient({
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const x = saved[0]!;
    const axis = (attrs as unknown as tf.MeanAttrs).axis;
    const count = tf.util.parseAxisParam(axis, x.shape).reduce((n, a) => n * x.shape[a]!, 1);
    return { x: () => tf.div(expandedDy(dy as tf.Tensor, x, axis), count) };
  },
});
