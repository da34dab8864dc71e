import { describe, expect, it } from 'vitest';
import { gpt2LikeParams, param } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('layer-wise', () => {
  const params = gpt2LikeParams({ blocks: 1 });

  it('makes one group per layer, named after it, weight and bias together, in forward order', () => {
    const g = resolveGrouping('layer-wise', params, { clipNorm: 1 });
    const layers = [...new Set(params.map((p) => p.layer))];
    expect(g.groups.map((x) => x.name)).toEqual(layers);
    expect(g.groups[3]!.params).toEqual(['transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_attn.bias']);
    expect(g.groups[3]!.layers).toEqual(['transformer.h.0.attn.c_attn']);
  });

  it('orders groups by forward order even when parameters arrive shuffled', () => {
    const shuffled = [params[5]!, params[0]!, params[2]!, params[1]!, ...params.slice(3, 5), ...params.slice(6)].reverse();
    const g = resolveGrouping('layer-wise', shuffled, { clipNorm: 1 });
    expect(g.groups.map((x) => x.name)).toEqual([...new Set(params.map((p) => p.layer))]);
  });

  it("answers to the alias 'per-layer'", () => {
    const g = resolveGrouping('per-layer', [param('a.w', 'a', 0, [2]), param('b.w', 'b', 1, [2])], { clipNorm: 1 });
    expect(g.strategy).toBe('layer-wise');
    expect(g.groups).toHaveLength(2);
  });
});
