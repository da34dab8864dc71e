import { describe, expect, it } from 'vitest';
import { linearWeightCost } from './kernels/linear';
import { mixedRuleMode } from './mixed-rule';

describe('mixedRuleMode', () => {
  // GPT-2 MLP weight 128 × 512 at T = 176: 2T² = 61,952 ≤ d·p = 65,536 (fastDP: ghost), but ghost
  // costs T²(d + p) = 19.8M against instantiate's T·d·p = 11.5M multiply-adds per sample
  const cost = linearWeightCost(8, 176, 128, 512);
  const ghost = cost.ghost!;
  const instantiate = cost.instantiate;

  it('keeps fastDP\'s rule on a GPU backend', () => {
    expect(mixedRuleMode({ ghost, instantiate }, true, 'webgpu')).toBe('ghost');
    expect(mixedRuleMode({ ghost, instantiate }, false, 'webgpu')).toBe('instantiate');
  });

  it('takes the mode of fewer flops on a CPU backend', () => {
    expect(ghost.flops).toBeGreaterThan(instantiate.flops);
    for (const backend of ['wasm', 'tensorflow']) expect(mixedRuleMode({ ghost, instantiate }, true, backend)).toBe('instantiate');
    expect(mixedRuleMode({ ghost, instantiate }, true, 'cpu')).toBe('ghost'); // the test backend keeps fastDP's rule
    // short sequences: ghost is cheaper in flops too
    const short = linearWeightCost(8, 16, 128, 512);
    expect(mixedRuleMode({ ghost: short.ghost!, instantiate: short.instantiate }, false, 'wasm')).toBe('ghost');
  });
});
