import { describe, expect, it } from 'vitest';
import { gpt2LikeParams, param } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('uniform', () => {
  it('splits whole layers into k contiguous groups minimising the largest parameter count', () => {
    // Layer sizes 4, 1, 1, 1, 1: the best 2-split is [4] [1 1 1 1] (max 4).
    const params = [4, 1, 1, 1, 1].map((n, i) => param(`l${i}.w`, `l${i}`, i, [n]));
    const g = resolveGrouping('uniform:2', params, { clipNorm: 1 });
    expect(g.groups.map((x) => x.params)).toEqual([['l0.w'], ['l1.w', 'l2.w', 'l3.w', 'l4.w']]);
    expect(g.groups.map((x) => x.name)).toEqual(['group-0', 'group-1']);
  });

  it('keeps a layer\'s weight and bias in the same group', () => {
    const params = gpt2LikeParams({ blocks: 3 });
    const g = resolveGrouping({ strategy: 'uniform', k: 5 }, params, { clipNorm: 1 });
    expect(g.groups).toHaveLength(5);
    for (const p of params) {
      const sameLayer = params.filter((q) => q.layer === p.layer);
      expect(new Set(sameLayer.map((q) => g.groupIndexOf(q.name))).size).toBe(1);
    }
    // Contiguous: group indices never decrease in forward order.
    const indices = params.map((p) => g.groupIndexOf(p.name));
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
  });

  it('with k = number of layers equals layer-wise, and with k = 1 equals all-layer', () => {
    const params = gpt2LikeParams({ blocks: 1 });
    const layers = new Set(params.map((p) => p.layer)).size;
    const u = resolveGrouping(`uniform:${layers}`, params, { clipNorm: 1 });
    const lw = resolveGrouping('layer-wise', params, { clipNorm: 1 });
    expect(u.groups.map((x) => x.params)).toEqual(lw.groups.map((x) => x.params));
    expect(resolveGrouping('uniform:1', params, { clipNorm: 1 }).groups[0]!.params).toHaveLength(params.length);
  });

  it('rejects k above the number of layers, naming the maximum', () => {
    const params = gpt2LikeParams({ blocks: 1 }); // 9 layers
    expect(() => resolveGrouping('uniform:10', params, { clipNorm: 1 })).toThrow(/k = 10 .*9 layer\(s\).*k ≤ 9/);
  });

  it('rejects a k that is not a whole number ≥ 1, naming it', () => {
    const params = gpt2LikeParams({ blocks: 1 });
    expect(() => resolveGrouping({ strategy: 'uniform', k: 0 }, params, { clipNorm: 1 })).toThrow(/k = 0/);
    expect(() => resolveGrouping({ strategy: 'uniform', k: 2.5 }, params, { clipNorm: 1 })).toThrow(/k = 2\.5/);
    expect(() => resolveGrouping('uniform:two', params, { clipNorm: 1 })).toThrow(/'two'/);
    expect(() => resolveGrouping('uniform', params, { clipNorm: 1 })).toThrow(/no group count.*'uniform:4'/);
  });
});
