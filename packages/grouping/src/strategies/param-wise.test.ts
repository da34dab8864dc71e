import { describe, expect, it } from 'vitest';
import { gpt2LikeParams } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('param-wise', () => {
  const params = gpt2LikeParams({ blocks: 1 });

  it('makes one group per parameter tensor, named after it', () => {
    const g = resolveGrouping('param-wise', params, { clipNorm: 1 });
    expect(g.groups.map((x) => x.name)).toEqual(params.map((p) => p.name));
    expect(g.groups.every((x) => x.params.length === 1)).toBe(true);
    expect(g.groupIndexOf('transformer.h.0.ln_1.bias')).toBe(params.findIndex((p) => p.name === 'transformer.h.0.ln_1.bias'));
  });

  it("answers to the alias 'per-param'", () => {
    expect(resolveGrouping('per-param', params, { clipNorm: 1 }).strategy).toBe('param-wise');
  });
});
