import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedding, Linear, LayerNorm, disposeRecord, recordedBackward, setFusedKernels, setupBackend, type LayerRecord } from '@clipwise/core';
import { bruteForcePerSampleGrads, getNormKernel, instantiatedCrossTerm, paramSqNorms, perSampleCrossTerm, sqNormsOf } from './index';

async function relErr(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [num, den] = tf.tidy(() => [tf.norm(tf.sub(a, b)), tf.norm(b)]);
  const r = (await num!.data())[0]! / (await den!.data())[0]!;
  tf.dispose([num!, den!]);
  return r;
}

// On wasm too: its cross term gathers with batchDims, which TF.js 4.22's own wasm kernel gets wrong
// (core's runs instead, fused kernels on or off).
for (const where of ['test backend', 'wasm', 'wasm, fused kernels off'] as const) describe(`tied weights (${where})`, () => {
  let before = '';
  beforeAll(async () => {
    before = tf.getBackend();
    if (where !== 'test backend') await setupBackend('wasm');
    setFusedKernels(where !== 'wasm, fused kernels off');
  });
  afterAll(async () => {
    setFusedKernels(true);
    await tf.setBackend(before);
  });

  it('GPT-2-style embedding tied to the LM head: norm of the summed per-sample gradient, cross term included', async () => {
    const vocab = 13;
    const d = 6;
    const wte = new Embedding({ name: 'tied_wte', numEmbeddings: vocab, dim: d });
    const ln = new LayerNorm({ name: 'tied_ln', dim: d });
    const head = new Linear({ name: 'tied_head', inFeatures: d, outFeatures: vocab, bias: false, layout: 'out_in', tiedWeight: wte.weight });
    const ids = tf.tensor2d([[1, 4, 4, 7], [12, 0, 3, 3], [5, 5, 5, 2]], [3, 4], 'int32');
    const targets = tf.oneHot(tf.tensor2d([[4, 4, 7, 1], [0, 3, 3, 9], [5, 5, 2, 8]], [3, 4], 'int32'), vocab);
    const lossOf = (x: tf.Tensor, t: tf.Tensor) =>
      tf.tidy(() => tf.losses.softmaxCrossEntropy(t, head.apply(ln.apply(wte.apply(x))), undefined, undefined, tf.Reduction.SUM) as tf.Scalar);
    const records: LayerRecord[] = [];
    recordedBackward(() => lossOf(ids, targets), { onRecord: (r) => records.push(r) }).loss.dispose();
    const uses = records.filter((r) => Object.values(r.params).some((p) => p.name === wte.weight.name));
    expect(uses.map((r) => r.kind).sort()).toEqual(['embedding', 'linear']);

    // on wasm the reference runs on cpu (wasm has no UnsortedSegmentSum, the gradient of TF.js's
    // gather); elsewhere on the test backend itself (webgpu in Node cannot hand tensors to cpu: no sync reads)
    const backend = tf.getBackend();
    if (backend === 'wasm') await tf.setBackend('cpu');
    const brute = bruteForcePerSampleGrads((i) => lossOf(ids.slice([i], [1]), targets.slice([i], [1])), [wte.weight], 3);
    const expected = sqNormsOf(brute.get(wte.weight.name)!);
    if (backend === 'wasm') await tf.setBackend(backend);
    const ghost = paramSqNorms(uses).get(wte.weight.name)!;
    expect(await relErr(ghost, expected)).toBeLessThan(1e-4);
    // the cross term matters: without it the norm is wrong
    const noCross = tf.tidy(() => tf.addN(uses.map((r) => getNormKernel(r.kind).perSampleSqNorms(r)['weight']!.sqNorms)));
    expect(await relErr(noCross, expected)).toBeGreaterThan(1e-3);
    // and the registered ghost cross term equals the instantiated one
    const [a, b] = uses as [LayerRecord, LayerRecord];
    expect(await relErr(perSampleCrossTerm(a, 'weight', b, 'weight'), instantiatedCrossTerm(a, 'weight', b, 'weight'))).toBeLessThan(1e-4);

    // clipped sums of both uses add up to Σ c_i g_i
    const c = tf.tensor1d([0.3, 1, 0.6]);
    const sum = tf.addN(uses.map((r) => getNormKernel(r.kind).clippedSum(r, c)['weight']!));
    const want = tf.sum(tf.mul(brute.get(wte.weight.name)!, c.reshape([3, 1, 1])), 0);
    expect(await relErr(sum, want)).toBeLessThan(1e-4);

    tf.dispose([ids, targets, expected, ghost, noCross, c, sum, want, ...brute.values()]);
    records.forEach(disposeRecord);
    [wte, ln, head].forEach((l) => l.dispose());
  });

  it('one linear weight applied twice (shared layer)', async () => {
    const fc = new Linear({ name: 'shared_fc', inFeatures: 5, outFeatures: 5, layout: 'in_out', bias: false });
    const x = tf.randomNormal([4, 3, 5]);
    const lossOf = (xb: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(tf.tanh(fc.apply(tf.relu(fc.apply(xb)))))) as tf.Scalar);
    const records: LayerRecord[] = [];
    recordedBackward(() => lossOf(x), { onRecord: (r) => records.push(r) }).loss.dispose();
    expect(records).toHaveLength(2);
    const brute = bruteForcePerSampleGrads((i) => lossOf(x.slice([i], [1])), [fc.weight], 4);
    const expected = sqNormsOf(brute.get(fc.weight.name)!);
    const ghost = paramSqNorms(records).get(fc.weight.name)!;
    expect(await relErr(ghost, expected)).toBeLessThan(1e-4);
    tf.dispose([x, expected, ghost, ...brute.values()]);
    records.forEach(disposeRecord);
    fc.dispose();
  });
});
