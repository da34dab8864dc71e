import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { getNormKernel, registerNormKernel, type NormKernel } from '@clipwise/ghost-norm';
import type { LayerRecord } from '@clipwise/core';
import { withKernelProbe } from './kernel-probe';
import { PhaseProbe } from './phase-probe';

describe('withKernelProbe', () => {
  it('hands the kernels every argument the group clipper passes (a joint group\'s `joint` included, deferred ghost norms too)', async () => {
    const calls: unknown[][] = [];
    const fake = {
      kind: 'probe-forwarding',
      perSampleSqNorms: () => ({}),
      sqNormTerms: (...args: unknown[]) => (calls.push(args), {}),
      deferredGhost: (...args: unknown[]) => (calls.push(['deferredGhost', ...args]), null),
      clippedSum: () => ({}),
      perSampleGrads: () => ({}),
      cost: () => ({}),
    } as unknown as NormKernel;
    registerNormKernel(fake);
    const record = { layer: 'l', kind: 'probe-forwarding', params: {}, attrs: {}, gradOutput: tf.zeros([1, 1]) } as unknown as LayerRecord;
    await withKernelProbe(new PhaseProbe(), async () => {
      getNormKernel('probe-forwarding').sqNormTerms!(record, 'ghost', ['weight', 'bias'], true);
      expect(getNormKernel('probe-forwarding').deferredGhost!(record, 'auto', ['weight'], false)).toBeNull();
    });
    expect(calls).toEqual([[record, 'ghost', ['weight', 'bias'], true], ['deferredGhost', record, 'auto', ['weight'], false]]);
    expect(getNormKernel('probe-forwarding')).toBe(fake);
    record.gradOutput.dispose();
  });
});
