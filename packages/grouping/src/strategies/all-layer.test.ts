import { describe, expect, it } from 'vitest';
import { gpt2LikeParams } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('all-layer', () => {
  const params = gpt2LikeParams();

  it('puts every parameter, in forward order, in one group with the whole clipping norm', () => {
    const g = resolveGrouping('all-layer', params, { clipNorm: 2 });
    expect(g.strategy).toBe('all-layer');
    expect(g.groups).toHaveLength(1);
    expect(g.groups[0]!.name).toBe('all');
    expect(g.groups[0]!.params).toEqual(params.map((p) => p.name));
    expect(g.groups[0]!.threshold).toBe(2);
    expect(g.groups[0]!.size).toBe(params.reduce((s, p) => s + p.size, 0));
    expect(g.sensitivity).toBe(2);
  });

  it("answers to the alias 'flat'", () => {
    expect(resolveGrouping('flat', params, { clipNorm: 1 }).strategy).toBe('all-layer');
  });

  it('rejects options it does not have, naming them', () => {
    expect(() => resolveGrouping({ strategy: 'all-layer', k: 2 } as never, params, { clipNorm: 1 })).toThrow(
      /unknown option 'k'/,
    );
  });
});
