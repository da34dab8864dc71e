import { describe, expect, it } from 'vitest';
import type { GroupingSpec } from './types';

// Compile-time checks of the object form: tsc fails if a valid spec stops type-checking or an invalid
// one starts to.
describe('GroupingSpec object form types', () => {
  it('accepts every built-in spec and rejects malformed ones at compile time', () => {
    const valid: GroupingSpec[] = [
      'anything:goes-at-compile-time',
      { strategy: 'all-layer' },
      { strategy: 'layer-wise' },
      { strategy: 'param-wise' },
      { strategy: 'uniform', k: 4 },
      { strategy: 'non-uniform', boundaries: ['transformer.h.4'] },
      { strategy: 'balanced', k: 2, cost: (p) => p.size },
      { strategy: 'per-device' },
    ];
    // @ts-expect-error uniform needs k
    const noK: GroupingSpec = { strategy: 'uniform' };
    // @ts-expect-error k is a number
    const stringK: GroupingSpec = { strategy: 'uniform', k: '4' };
    // @ts-expect-error not a registered strategy (without declaration merging)
    const unknown: GroupingSpec = { strategy: 'nope' };
    expect(valid).toHaveLength(8);
    expect([noK, stringK, unknown]).toHaveLength(3);
  });
});
