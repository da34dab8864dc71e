import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { addResidual } from './residual-add';

describe('addResidual', () => {
  it('equals tf.add in value and gradient, and keeps no input for backward', async () => {
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2);
    const w = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 3);
    const loss = (add: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.square(add(x, y)), w));
    const [ga, gb] = tf.grads(loss(addResidual))([a, b]);
    const [ra, rb] = tf.grads(loss(tf.add))([a, b]);
    expect(Array.from(await addResidual(a, b).data())).toEqual(Array.from(await tf.add(a, b).data()));
    expect(Array.from(await ga!.data())).toEqual(Array.from(await ra!.data()));
    expect(Array.from(await gb!.data())).toEqual(Array.from(await rb!.data()));
    // inside a gradient scope, the recorded node saves nothing (TF.js's Add saves both inputs)
    let saved = -1;
    tf.grad((x: tf.Tensor) => {
      const y = addResidual(x, b);
      const tape = (tf.engine() as unknown as { state: { activeTape: { saved?: tf.Tensor[] }[] } }).state.activeTape;
      saved = tape[tape.length - 1]!.saved?.length ?? 0;
      return tf.sum(y);
    })(a);
    expect(saved).toBe(0);
  });

  it('refuses operands of different shapes, naming them', () => {
    expect(() => addResidual(tf.zeros([2, 3]), tf.zeros([3]))).toThrow(/a \[2,3\] float32 and b \[3\] float32/);
  });
});
