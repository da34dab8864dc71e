import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Gpt2Model } from '@clipwise/models';
import { traceTape } from './tape-trace';

describe('traceTape', () => {
  // A GPT-2 whose LM head dominates: vocabulary 512, width 4. The trace runs each record's clipped
  // sum on arrival to measure it (clipTempBytes); those kernels (a view of dy [B·T, V], the [V, d]
  // sum and its reshape) are not the gradient function's temporaries: the step runs the sum as an
  // event of its own (simulateStep's clipped-sums), or not there at all (a group that waits).
  it("does not count a record's measured clipped sum among its gradient function's temporaries", async () => {
    const model = new Gpt2Model({ vocab_size: 512, n_positions: 8, n_embd: 4, n_layer: 1, n_head: 1 }, { seed: 1 });
    const ids = tf.randomUniform([2, 8], 0, 512, 'int32', 5) as tf.Tensor2D;
    const trace = await traceTape(() => model.perSampleLoss(ids));
    const head = trace.records.findIndex((r) => r.layer === 'lm_head');
    expect(head).toBeGreaterThanOrEqual(0);
    const node = trace.nodes.find((n) => n.record === head)!;
    const dyBytes = trace.records[head]!.gradOutputBytes; // [B, T, V] floats
    expect(dyBytes).toBe(2 * 8 * 512 * 4);
    // the clipped sum alone held a [B·T, V] view and two [V, d] tensors (24 KiB here)
    expect(trace.records[head]!.clipTempBytes['weight']).toBeGreaterThan(0);
    expect(node.gradientExtraBytes).toBeLessThan(dyBytes / 4);
    tf.dispose(ids);
    model.dispose();
  });
});
