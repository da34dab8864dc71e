// The README's "A private step in code", importing only the public main entries of the six library
// packages. browser-bundle.test.ts bundles it with esbuild for the browser; nothing here runs in Node.
import * as tf from '@tensorflow/tfjs-core';
import { collectParams, setupBackend } from '@clipwise/core';
import * as ghostNorm from '@clipwise/ghost-norm';
import { resolveGrouping } from '@clipwise/grouping';
import { GPT2_PRESETS, Gpt2Model, loadPretrainedFromBytes, savePretrainedToBytes } from '@clipwise/models';
import { Optimizer, PrivateGradients, adamw } from '@clipwise/optim';
import { calibrateNoise, createAccountant } from '@clipwise/accountant';

export { collectParams, ghostNorm, loadPretrainedFromBytes, savePretrainedToBytes };

export async function privateStep(q = 0.01, N = 1000, steps = 100): Promise<number> {
  await setupBackend('auto');
  const model = new Gpt2Model(GPT2_PRESETS['gpt2-tiny']);
  const grouping = resolveGrouping('layer-wise', model.params, { clipNorm: 1 }); // C_m = C / sqrt(M)
  const { noiseMultiplier } = calibrateNoise({ targetEpsilon: 3, delta: 1e-5, sampleRate: q, steps, accountant: 'rdp' });
  const dp = new PrivateGradients({ params: model.params, grouping, noiseMultiplier, expectedBatchSize: q * N, seed: 1 });
  const opt = new Optimizer(adamw({ learningRate: 1e-3 }), model.params);
  const accountant = createAccountant('rdp');

  const ids = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]], [2, 4], 'int32');
  const mask = tf.ones([2, 4]) as tf.Tensor2D;
  await dp.accumulate(() => model.perSampleLoss(ids, mask)); // one loss per sample; clipping happens in backward
  const { grads } = await dp.release(); // + N(0, σ²S²), / (q·N)
  opt.step(grads);
  accountant.step(noiseMultiplier, q);
  return accountant.epsilon(1e-5);
}
