import { describe, expect, it } from 'vitest';
import { gpt2LikeParams, param } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('non-uniform', () => {
  const params = gpt2LikeParams({ blocks: 12 });

  it('starts a new group at the first layer matching each boundary', () => {
    const g = resolveGrouping('non-uniform:transformer.h.4,transformer.h.8', params, { clipNorm: 1 });
    expect(g.groups.map((x) => x.name)).toEqual(['group-0', 'group-1', 'group-2']);
    expect(g.groups.map((x) => x.layers[0])).toEqual(['transformer.wte', 'transformer.h.4.ln_1', 'transformer.h.8.ln_1']);
    expect(g.groups[0]!.layers.at(-1)).toBe('transformer.h.3.mlp.c_proj');
    expect(g.groups[2]!.layers.at(-1)).toBe('transformer.ln_f');
  });

  it('matches at name segments: h.1 starts at h.1.*, never at h.10', () => {
    const g = resolveGrouping({ strategy: 'non-uniform', boundaries: ['transformer.h.1'] }, params, { clipNorm: 1 });
    expect(g.groups[1]!.layers[0]).toBe('transformer.h.1.ln_1');
    const skipOne = params.filter((p) => !p.layer.startsWith('transformer.h.1.'));
    expect(() => resolveGrouping('non-uniform:transformer.h.1', skipOne, { clipNorm: 1 })).toThrow(
      /boundary 'transformer\.h\.1' matches no layer/,
    );
  });

  it('accepts an exact layer name and slash-separated names', () => {
    const ps = [param('enc/d1/kernel', 'enc/d1', 0, [2]), param('enc/d2/kernel', 'enc/d2', 1, [2]), param('head/kernel', 'head', 2, [2])];
    const g = resolveGrouping('non-uniform:enc/d2,head', ps, { clipNorm: 1 });
    expect(g.groups.map((x) => x.params)).toEqual([['enc/d1/kernel'], ['enc/d2/kernel'], ['head/kernel']]);
  });

  it('gives one group for an empty boundary list', () => {
    expect(resolveGrouping({ strategy: 'non-uniform', boundaries: [] }, params, { clipNorm: 1 }).groups).toHaveLength(1);
  });

  it('rejects boundaries out of forward order, on the first layer, or empty, naming them', () => {
    expect(() => resolveGrouping('non-uniform:transformer.h.8,transformer.h.4', params, { clipNorm: 1 })).toThrow(
      /boundary 'transformer\.h\.4' .*does not come after/,
    );
    expect(() => resolveGrouping('non-uniform:transformer.h.4,transformer.h.4', params, { clipNorm: 1 })).toThrow(
      /does not come after/,
    );
    expect(() => resolveGrouping('non-uniform:transformer.wte', params, { clipNorm: 1 })).toThrow(
      /boundary 'transformer\.wte' matches the first layer/,
    );
    expect(() => resolveGrouping('non-uniform:a,,b', params, { clipNorm: 1 })).toThrow(/'non-uniform:a,,b' has an empty boundary/);
    expect(() => resolveGrouping('non-uniform', params, { clipNorm: 1 })).toThrow(/empty boundary/);
    expect(() => resolveGrouping({ strategy: 'non-uniform', boundaries: 'transformer.h.4' } as never, params, { clipNorm: 1 })).toThrow(
      /boundaries = "transformer\.h\.4"; expected an array/,
    );
  });
});
