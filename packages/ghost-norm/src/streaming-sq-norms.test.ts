import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { Embedding, LayerNorm, Linear, disposeRecord, recordedBackward, type LayerRecord, type ParamSpec } from '@clipwise/core';
import { bruteForcePerSampleGrads, getNormKernel, sqNormsOf, StreamingSqNorms, type NormModeOption, type ParamSqNorm } from './index';

const TOL = 1e-4; // relative error vs brute force, float32

/**
 * A tiny language model with one weight used once (the layernorm), the token embedding used twice
 * (tied to the LM head, as in GPT-2), and a linear layer (weight and bias) used three times, so a
 * parameter has three own norms and three cross terms (nine addN inputs: more than one addN).
 */
const vocab = 11;
const d = 6;
const wte = new Embedding({ name: 'fold_wte', numEmbeddings: vocab, dim: d });
const ln = new LayerNorm({ name: 'fold_ln', dim: d });
const fc = new Linear({ name: 'fold_fc', inFeatures: d, outFeatures: d, layout: 'in_out' });
const head = new Linear({ name: 'fold_head', inFeatures: d, outFeatures: vocab, bias: false, layout: 'out_in', tiedWeight: wte.weight });
const params: ParamSpec[] = [wte.weight, ln.gamma, ln.beta, fc.weight, fc.bias!];
const ids = tf.tensor2d([[1, 4, 4, 7], [10, 0, 3, 3], [5, 5, 5, 2]], [3, 4], 'int32');
const targets = tf.oneHot(tf.tensor2d([[4, 4, 7, 1], [0, 3, 3, 9], [5, 5, 2, 8]], [3, 4], 'int32'), vocab);
const lossOf = (x: tf.Tensor, t: tf.Tensor) =>
  tf.tidy(() => {
    const h = fc.apply(tf.tanh(fc.apply(tf.tanh(fc.apply(ln.apply(wte.apply(x)))))));
    return tf.losses.softmaxCrossEntropy(t, head.apply(h), undefined, undefined, tf.Reduction.SUM) as tf.Scalar;
  });
const brute = bruteForcePerSampleGrads((i) => lossOf(ids.slice([i], [1]), targets.slice([i], [1])), params, 3);
const expected = new Map(params.map((p) => [p.name, sqNormsOf(brute.get(p.name)!)]));
afterAll(() => {
  tf.dispose([ids, targets, ...brute.values(), ...expected.values()]);
  [wte, ln, fc].forEach((l) => l.dispose());
});

async function relErr(actual: tf.Tensor, want: tf.Tensor): Promise<number> {
  const [num, den] = tf.tidy(() => [tf.norm(tf.sub(actual, want)), tf.norm(want)]);
  const r = (await num!.data())[0]! / (await den!.data())[0]!;
  tf.dispose([num!, den!]);
  return r;
}

/** One event per record, in backward order: what it used, completed and released, and what was held after. */
interface FoldEvent {
  readonly layer: string;
  readonly complete: string[];
  readonly released: string[];
  readonly needsThis: boolean;
  readonly held: number;
}

/** A recorded backward through the folder, freeing every record as soon as it is released. */
function foldAll(normMode: NormModeOption): { norms: ParamSqNorm[]; events: FoldEvent[] } {
  const folder = new StreamingSqNorms({ normMode });
  const norms: ParamSqNorm[] = [];
  const events: FoldEvent[] = [];
  const { loss } = recordedBackward(() => lossOf(ids, targets), {
    onRecord: (record, scope) => {
      const { complete, released } = folder.fold(record, scope);
      norms.push(...complete);
      events.push({
        layer: record.layer,
        complete: complete.map((p) => p.name),
        released: released.map((r) => r.layer),
        needsThis: folder.needs(record),
        held: folder.heldRecords,
      });
      released.forEach(disposeRecord); // a record released too early would fail a later cross term
    },
  });
  loss.dispose();
  const rest = folder.finish();
  expect(rest.complete).toEqual([]);
  expect(rest.released).toEqual([]);
  return { norms, events };
}

describe('StreamingSqNorms', () => {
  for (const mode of ['auto', 'ghost', 'instantiate'] as const) {
    it(`${mode}: every parameter's norm equals brute force once all its uses are folded, records held only for cross terms`, async () => {
      const before = tf.memory().numTensors;
      const { norms, events } = foldAll(mode);
      // backward order: the head (tied wte), fc three times, ln, the embedding (wte's last use)
      expect(events.map((e) => e.layer)).toEqual(['fold_head', 'fold_fc', 'fold_fc', 'fold_fc', 'fold_ln', 'fold_wte']);
      expect(events.map((e) => e.complete)).toEqual([
        [],
        [],
        [],
        [fc.weight.name, fc.bias!.name],
        [ln.gamma.name, ln.beta.name],
        [wte.weight.name],
      ]);
      // the head waits for the embedding; the first two fc uses wait for the third, then all three go
      expect(events.map((e) => e.released)).toEqual([[], [], [], ['fold_fc', 'fold_fc', 'fold_fc'], ['fold_ln'], ['fold_head', 'fold_wte']]);
      expect(events.map((e) => e.needsThis)).toEqual([true, true, true, false, false, false]);
      expect(events.map((e) => e.held)).toEqual([1, 2, 3, 1, 1, 0]);

      expect(norms.map((p) => p.name).sort()).toEqual(params.map((p) => p.name).sort());
      for (const p of norms) {
        expect(await relErr(p.sqNorms, expected.get(p.name)!), p.name).toBeLessThan(TOL);
      }
      // the mixed rule picks per weight; forced modes are reported as such
      if (mode !== 'auto') expect(norms.find((p) => p.name === fc.weight.name)!.mode).toBe(mode);
      tf.dispose(norms.map((p) => p.sqNorms));
      expect(tf.memory().numTensors).toBe(before); // every record released exactly once and freed
    });
  }

  it('the cross terms matter: own norms alone are wrong for the tied and the shared weight', async () => {
    const records: LayerRecord[] = [];
    recordedBackward(() => lossOf(ids, targets), { onRecord: (r) => records.push(r) }).loss.dispose();
    for (const p of [wte.weight, fc.weight]) {
      const ownOnly = tf.tidy(() =>
        tf.addN(records.flatMap((r) => Object.entries(r.params).filter(([, q]) => q.name === p.name).map(([role]) => getNormKernel(r.kind).perSampleSqNorms(r)[role]!.sqNorms))),
      );
      expect(await relErr(ownOnly, expected.get(p.name)!), p.name).toBeGreaterThan(1e-3);
      ownOnly.dispose();
    }
    records.forEach(disposeRecord);
  });

  it('finish: a use that never produced a record completes with the uses that did, and releases their records', async () => {
    const records: LayerRecord[] = [];
    recordedBackward(() => lossOf(ids, targets), { onRecord: (r) => records.push(r) }).loss.dispose();
    const headRecord = records[0]!;
    const folder = new StreamingSqNorms();
    const uses = new Map([[wte.weight.name, 2]]);
    const first = folder.fold(headRecord, { uses });
    expect(first.complete).toEqual([]);
    expect(first.released).toEqual([]);
    expect(folder.needs(headRecord)).toBe(true);
    const { complete, released } = folder.finish();
    expect(released).toEqual([headRecord]);
    expect(folder.needs(headRecord)).toBe(false);
    expect(complete.map((p) => p.name)).toEqual([wte.weight.name]);
    const own = getNormKernel('linear').perSampleSqNorms(headRecord)['weight']!.sqNorms;
    expect(await relErr(complete[0]!.sqNorms, own)).toBe(0); // the head's own norm, nothing else
    tf.dispose([own, complete[0]!.sqNorms]);
    records.forEach(disposeRecord);
  });

  it('roles: folds only the roles asked for; dispose() hands back the records still needed', () => {
    const records: LayerRecord[] = [];
    recordedBackward(() => lossOf(ids, targets), { onRecord: (r) => records.push(r) }).loss.dispose();
    const fcRecord = records[1]!;
    const before = tf.memory().numTensors;
    const folder = new StreamingSqNorms();
    const r = folder.fold(fcRecord, { uses: new Map([[fc.bias!.name, 1], [fc.weight.name, 3]]) }, ['bias']);
    expect(r.complete.map((p) => p.name)).toEqual([fc.bias!.name]);
    expect(r.released).toEqual([fcRecord]);
    r.complete[0]!.sqNorms.dispose();
    folder.fold(fcRecord, { uses: new Map([[fc.weight.name, 3]]) }, ['weight']);
    expect(folder.dispose()).toEqual([fcRecord]);
    expect(tf.memory().numTensors).toBe(before); // the partial sum was freed
    expect(() => folder.fold(fcRecord, { uses: new Map() }, ['gamma'])).toThrow(/no parameter role 'gamma'/);
    records.forEach(disposeRecord);
  });

  it('a record beyond the uses counted in forward is an error naming the parameter', () => {
    const records: LayerRecord[] = [];
    recordedBackward(() => lossOf(ids, targets), { onRecord: (r) => records.push(r) }).loss.dispose();
    const folder = new StreamingSqNorms();
    const uses = new Map([[fc.weight.name, 1], [fc.bias!.name, 1]]);
    folder.fold(records[1]!, { uses }).complete.forEach((p) => p.sqNorms.dispose());
    expect(() => folder.fold(records[2]!, { uses })).toThrow(/record 2 of parameter fold_fc\.weight.*counts 1 use/);
    folder.dispose();
    records.forEach(disposeRecord);
  });
});
