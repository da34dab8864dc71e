import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClassToken, Conv2d, Embedding, LayerNorm, Linear, PositionalEmbedding, disposeRecord, ghostSqNormPartialsMany, recordedBackward, sumSampleTerms,
  type DPLayer, type LayerRecord, type ParamSpec,
} from '@clipwise/core';
import { bruteForcePerSampleGrads, getNormKernel, sqNormsOf, type NormModeOption } from '../index';

const TOL = 1e-4; // relative error, float32

/** Worst relative error seen per kernel kind and quantity, printed at the end for the record. */
const worst = new Map<string, number>();
afterAll(() => {
  console.log('worst relative error vs brute force:', Object.fromEntries([...worst].map(([k, v]) => [k, v.toExponential(2)])));
});

async function relErr(actual: tf.Tensor, expected: tf.Tensor): Promise<number> {
  const [num, den] = tf.tidy(() => [tf.norm(tf.sub(actual, expected)), tf.norm(expected)]);
  const r = (await num!.data())[0]! / Math.max((await den!.data())[0]!, 1e-12);
  tf.dispose([num!, den!]);
  return r;
}

/**
 * A per-sample loss with a non-trivial dy: ℓ_i = Σ y_i ⊙ r_i + ½‖y_i‖². The recorded run sums ℓ_i
 * over the batch; the brute force differentiates each ℓ_i alone.
 */
async function checkLayer(layer: DPLayer, apply: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, modes: NormModeOption[], { compact = false } = {}) {
  const b = x.shape[0]!;
  const y0 = tf.tidy(() => apply(x));
  const r = tf.randomNormal(y0.shape, 0, 1, 'float32', 7);
  y0.dispose();
  const lossOf = (xb: tf.Tensor, rb: tf.Tensor) =>
    tf.tidy(() => {
      const y = apply(xb);
      return tf.add(tf.sum(tf.mul(y, rb)), tf.mul(0.5, tf.sum(tf.square(y)))) as tf.Scalar;
    });
  const records: LayerRecord[] = [];
  const { loss } = recordedBackward(() => lossOf(x, r), { onRecord: (rec) => records.push(rec) });
  loss.dispose();
  expect(records).toHaveLength(1);
  // compact: the kernel's smaller form (per-sample gradients held instead of a, dy) answers for it
  const record = compact ? getNormKernel(records[0]!.kind).compact!(records[0]!) : records[0]!;
  if (compact) {
    expect(record).not.toBe(records[0]);
    disposeRecord(records[0]!);
  }
  const params = Object.values(layer.paramsByRole) as ParamSpec[];
  const slice = (t: tf.Tensor, i: number) => t.slice([i], [1]);
  const brute = bruteForcePerSampleGrads((i) => tf.tidy(() => lossOf(slice(x, i), slice(r, i))), params, b);
  const kernel = getNormKernel(record.kind);
  const errors: Record<string, number> = {};
  for (const mode of modes) {
    const norms = kernel.perSampleSqNorms(record, mode);
    for (const [role, p] of Object.entries(layer.paramsByRole)) {
      const expected = sqNormsOf(brute.get(p.name)!);
      const err = await relErr(norms[role]!.sqNorms, expected);
      errors[`${role}/${norms[role]!.mode}`] = err;
      expect(err, `${layer.name} ${role} ${mode}`).toBeLessThan(TOL);
      expected.dispose();
      norms[role]!.sqNorms.dispose();
    }
  }
  // the same norms as terms (ghost partials, column sums of dy, values), summed as the clip factors' kernel does
  if (kernel.sqNormTerms) {
    for (const mode of modes) {
      const terms = kernel.sqNormTerms(record, mode);
      for (const [role, p] of Object.entries(layer.paramsByRole)) {
        const term = terms[role]!.term!;
        const sq = sumSampleTerms([term]);
        const expected = sqNormsOf(brute.get(p.name)!);
        expect(await relErr(sq, expected), `${layer.name} ${role} ${mode} as a ${term.kind} term`).toBeLessThan(TOL);
        tf.dispose([sq, expected]);
        if (!terms[role]!.borrowed) term.tensor.dispose();
      }
      // every role in one group (joint): the terms given, null ones left out, sum to all roles' norms
      const roles = Object.keys(layer.paramsByRole);
      const joint = kernel.sqNormTerms(record, mode, roles, true);
      const given = roles.map((role) => joint[role]!).filter((r) => r.term !== null);
      const sq = sumSampleTerms(given.map((r) => r.term!));
      const expected = tf.tidy(() => tf.addN(roles.map((role) => sqNormsOf(brute.get(layer.paramsByRole[role]!.name)!))));
      expect(await relErr(sq, expected), `${layer.name} ${mode} joint terms`).toBeLessThan(TOL);
      tf.dispose([sq, expected]);
      for (const r of given) if (!r.borrowed) r.term!.tensor.dispose();
      // the same joint norms deferred: the operands' partials (launched with other layers') sum to the
      // roles they cover; nothing defers off webgpu, where no fused partials exist
      const deferred = kernel.deferredGhost?.(record, mode, roles, true) ?? null;
      if (tf.getBackend() !== 'webgpu') expect(deferred).toBeNull();
      if (deferred) {
        const partials = ghostSqNormPartialsMany([deferred.pair])!;
        const covered = tf.sum(partials, 1);
        const want = tf.tidy(() => tf.addN(Object.keys(deferred.modes).map((role) => sqNormsOf(brute.get(layer.paramsByRole[role]!.name)!))));
        expect(await relErr(covered, want), `${layer.name} ${mode} deferred ghost partials`).toBeLessThan(TOL);
        tf.dispose([partials, covered, want]);
      }
    }
  }
  // Book-Keeping clipped sum against Σ_i c_i g_i formed from the brute-force gradients.
  const c = tf.randomUniform([b], 0.1, 1, 'float32', 3) as tf.Tensor1D;
  const sums = kernel.clippedSum(record, c);
  const psg = kernel.perSampleGrads(record);
  for (const [role, p] of Object.entries(layer.paramsByRole)) {
    const g = brute.get(p.name)!;
    const expected = tf.tidy(() => tf.sum(tf.mul(g, c.reshape([b, ...new Array(g.rank - 1).fill(1)])), 0));
    expect(sums[role]!.shape).toEqual(p.shape);
    const err = await relErr(sums[role]!, expected);
    errors[`${role}/sum`] = err;
    expect(err, `${layer.name} ${role} clipped sum`).toBeLessThan(TOL);
    expect(await relErr(psg[role]!, g), `${layer.name} ${role} per-sample grads`).toBeLessThan(TOL);
    expected.dispose();
  }
  // c = null: the unweighted sum Σ_i g_i (the non-private step), with no multiply
  const plain = kernel.clippedSum(record, null);
  // each role asked alone (a grouping that splits weight and bias) equals the roles asked together
  const alone = Object.fromEntries(Object.keys(layer.paramsByRole).map((role) => [role, kernel.clippedSum(record, c, [role])[role]!]));
  for (const [role, p] of Object.entries(layer.paramsByRole)) {
    const expected = tf.tidy(() => tf.sum(brute.get(p.name)!, 0));
    const err = await relErr(plain[role]!, expected);
    errors[`${role}/unweighted sum`] = err;
    expect(err, `${layer.name} ${role} unweighted sum`).toBeLessThan(TOL);
    expect(await relErr(alone[role]!, sums[role]!), `${layer.name} ${role} clipped sum alone`).toBeLessThan(1e-6);
    expected.dispose();
  }
  tf.dispose([...Object.values(plain), ...Object.values(alone)]);
  // onto a running sum (a tied weight's second use): running + Σ_i c_i g_i, the running sum handed over;
  // on webgpu written in place: no kernel makes a second table (the sum apart, the total, a copy)
  if (kernel.clippedSumInto) {
    for (const [role, p] of Object.entries(layer.paramsByRole)) {
      const running = tf.randomNormal(p.shape as number[], 0, 1, 'float32', 5);
      const expected = tf.tidy(() => tf.add(running, tf.sum(tf.mul(brute.get(p.name)!, c.reshape([b, ...new Array(p.shape.length).fill(1)])), 0)));
      const given = tf.mul(running, 1); // owns its storage
      const profile = await tf.profile(() => kernel.clippedSumInto!(record, c, [role], { [role]: given })[role]!);
      const total = profile.result as tf.Tensor;
      const err = await relErr(total, expected);
      errors[`${role}/sum into`] = err;
      expect(err, `${layer.name} ${role} clipped sum into a running sum`).toBeLessThan(TOL);
      if (tf.getBackend() === 'webgpu') {
        expect(total).toBe(given);
        const tables = profile.kernels.filter((k) => k.outputShapes.some((shape) => tf.util.arraysEqual(shape as number[], p.shape as number[])));
        expect(tables.map((k) => k.name), `${layer.name} ${role}: kernels that made a table`).toEqual([]);
      }
      tf.dispose([running, expected, total]);
    }
  }
  for (const [k, v] of Object.entries(errors)) worst.set(`${record.kind}/${k}`, Math.max(worst.get(`${record.kind}/${k}`) ?? 0, v));
  tf.dispose([c, r, ...Object.values(sums), ...Object.values(psg), ...brute.values()]);
  disposeRecord(record);
  return errors;
}

describe('linear kernel', () => {
  const cases: Array<[string, number[], number, 'in_out' | 'out_in']> = [
    ['T=1, 2-D input', [3, 5], 4, 'out_in'],
    ['T>1, batch 1', [1, 6, 5], 3, 'in_out'],
    ['T>1, non-square', [4, 7, 3], 9, 'out_in'],
    ['rank 4 input', [2, 3, 2, 4], 5, 'in_out'],
  ];
  for (const [label, shape, out, layout] of cases) {
    it(`matches brute force per-sample norms and clipped sums: ${label}`, async () => {
      const d = shape[shape.length - 1]!;
      const layer = new Linear({ name: `fc_${label}`, inFeatures: d, outFeatures: out, layout, biasInit: (s) => tf.randomNormal(s) });
      const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
      await checkLayer(layer, (xb) => layer.apply(xb), x, ['ghost', 'instantiate', 'auto']);
      x.dispose();
      layer.dispose();
    });
  }

  it('a bias whose gradient is zero (a shift that softmax ignores, like attention keys) gets a norm of ~0, never negative', async () => {
    const layer = new Linear({ name: 'fc_shift', inFeatures: 4, outFeatures: 6, layout: 'in_out', biasInit: (s) => tf.randomNormal(s) });
    const x = tf.randomNormal([3, 5, 4], 0, 1, 'float32', 2);
    const r = tf.randomNormal([3, 5, 6], 0, 1, 'float32', 4);
    const records: LayerRecord[] = [];
    // Σ_t softmax over the sequence axis: dy sums to 0 over t for each feature, so ∂ℓ/∂bias = Σ_t dy_t = 0
    const { loss } = recordedBackward(() => tf.sum(tf.mul(tf.softmax(tf.transpose(layer.apply(x), [0, 2, 1])), tf.transpose(r, [0, 2, 1]))) as tf.Scalar, {
      onRecord: (rec) => records.push(rec),
    });
    loss.dispose();
    const record = records[0]!;
    for (const mode of ['ghost', 'instantiate'] as const) {
      const norms = getNormKernel('linear').perSampleSqNorms(record, mode);
      const weight = await norms['weight']!.sqNorms.data();
      const bias = await norms['bias']!.sqNorms.data();
      // float32 rounding of a zero: far below the weight's norm, and a square, so not negative
      bias.forEach((v, i) => expect(v >= 0 && v < 1e-10 * weight[i]!, `${mode} sample ${i}: ${v}`).toBe(true));
      tf.dispose(Object.values(norms).map((n) => n.sqNorms));
    }
    tf.dispose([x, r]);
    disposeRecord(record);
    layer.dispose();
  });

  it('the mixed rule picks ghost when 2T² ≤ d·p and reports its choice and costs', async () => {
    const k = getNormKernel('linear');
    const small = k.cost({ kind: 'linear', batch: 8, seq: 4, inFeatures: 16, outFeatures: 16, attrs: {} });
    expect(small['weight']!.chosen).toBe('ghost');
    const long = k.cost({ kind: 'linear', batch: 8, seq: 64, inFeatures: 16, outFeatures: 16, attrs: {} });
    expect(long['weight']!.chosen).toBe('instantiate');
    // instantiate holds B·d·p floats, ghost 2·B·T² floats
    expect(long['weight']!.instantiate.bytes).toBe(8 * 16 * 16 * 4);
    expect(long['weight']!.ghost!.bytes).toBe(2 * 8 * 64 * 64 * 4);
  });
});

describe('embedding kernel', () => {
  it('matches brute force with repeated ids (ghost and instantiate)', async () => {
    const layer = new Embedding({ name: 'wte_test', numEmbeddings: 11, dim: 6 });
    const ids = tf.tensor2d([[1, 3, 1, 5, 1], [2, 2, 2, 2, 2], [0, 10, 4, 3, 9]], [3, 5], 'int32');
    await checkLayer(layer, (x) => layer.apply(x), ids, ['ghost', 'instantiate']);
    ids.dispose();
    layer.dispose();
  });
});

describe('layernorm kernel', () => {
  it('matches brute force for γ and β', async () => {
    const layer = new LayerNorm({ name: 'ln_test', dim: 7 });
    // non-trivial γ, β so dy and x̂ differ from the plain case
    layer.gamma.variable.assign(tf.randomNormal([7], 1, 0.3));
    layer.beta.variable.assign(tf.randomNormal([7]));
    const x = tf.randomNormal([3, 4, 7], 0, 2, 'float32', 5);
    await checkLayer(layer, (xb) => layer.apply(xb), x, ['instantiate']);
    x.dispose();
    layer.dispose();
  });

  it('compacted to its per-sample gradients ([B, d] a role, 1/T of x̂ and dy), gives the same norms and sums', async () => {
    const layer = new LayerNorm({ name: 'ln_compact', dim: 5 });
    layer.gamma.variable.assign(tf.randomNormal([5], 1, 0.3, 'float32', 2));
    layer.beta.variable.assign(tf.randomNormal([5], 0, 1, 'float32', 4));
    const x = tf.randomNormal([4, 6, 5], 0, 2, 'float32', 6);
    await checkLayer(layer, (xb) => layer.apply(xb), x, ['instantiate'], { compact: true });
    expect(getNormKernel('layernorm').compactBytes!({ kind: 'layernorm', batch: 4, seq: 6, inFeatures: 5, outFeatures: 5, attrs: {} }, ['weight', 'bias'])).toBe(2 * 4 * 5 * 4);
    x.dispose();
    layer.dispose();
  });
});

describe('positional kernel', () => {
  it('learned positions with T < maxPositions', async () => {
    const layer = new PositionalEmbedding({ name: 'wpe_test', maxPositions: 9, dim: 4 });
    const x = tf.randomNormal([3, 5, 4]);
    await checkLayer(layer, (xb) => layer.apply(xb), x, ['instantiate']);
    x.dispose();
    layer.dispose();
  });
  it('ViT-shaped positions [1, N, d] and a class token', async () => {
    const pos = new PositionalEmbedding({ name: 'pos_test', maxPositions: 5, dim: 4, paramShape: [1, 5, 4] });
    const x = tf.randomNormal([2, 5, 4]);
    await checkLayer(pos, (xb) => pos.apply(xb), x, ['instantiate']);
    const cls = new ClassToken({ name: 'cls_test', dim: 4 });
    const x2 = tf.randomNormal([3, 4, 4]);
    await checkLayer(cls, (xb) => cls.apply(xb), x2, ['instantiate']);
    tf.dispose([x, x2]);
    pos.dispose();
    cls.dispose();
  });
});

describe('conv2d kernel', () => {
  it('patch embedding (stride = kernel), pixels as data', async () => {
    const layer = new Conv2d({ name: 'patch_test', inChannels: 3, outChannels: 5, kernelSize: 2, stride: 2, inputGrad: false });
    const x = tf.randomNormal([2, 3, 4, 6]);
    await checkLayer(layer, (xb) => layer.apply(xb), x, ['ghost', 'instantiate']);
    x.dispose();
    layer.dispose();
  });
  it("overlapping 3×3 'same' convolution with input gradient", async () => {
    const layer = new Conv2d({ name: 'conv_test', inChannels: 2, outChannels: 3, kernelSize: 3, padding: 'same' });
    const x = tf.randomNormal([3, 2, 5, 4]);
    await checkLayer(layer, (xb) => layer.apply(xb), x, ['ghost', 'instantiate']);
    x.dispose();
    layer.dispose();
  });
});
