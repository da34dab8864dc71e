import { describe, expect, it } from 'vitest';
import { gpt2LikeParams } from '../__fixtures__/params';
import { resolveGrouping } from '../index';
import './attention-mlp';

describe('attention-mlp (the README example strategy)', () => {
  const params = gpt2LikeParams({ blocks: 2 });

  it('groups attention, MLP and the rest', () => {
    const g = resolveGrouping('attention-mlp', params, { clipNorm: 1 });
    expect(g.groups.map((x) => x.name)).toEqual(['attention', 'mlp', 'other']);
    expect(g.groups[0]!.layers).toEqual([
      'transformer.h.0.attn.c_attn',
      'transformer.h.0.attn.c_proj',
      'transformer.h.1.attn.c_attn',
      'transformer.h.1.attn.c_proj',
    ]);
    expect(g.groups[2]!.layers).toContain('transformer.wte');
    expect(g.sensitivity).toBeCloseTo(1, 12);
  });

  it('joins the rest to the MLP group on request, in both spec forms', () => {
    const fromString = resolveGrouping('attention-mlp:mlp', params, { clipNorm: 1 });
    const fromObject = resolveGrouping({ strategy: 'attention-mlp', rest: 'mlp' }, params, { clipNorm: 1 });
    expect(fromString.groups.map((x) => x.name)).toEqual(['attention', 'mlp']);
    expect(fromObject.toJSON()).toEqual(fromString.toJSON());
  });

  it('rejects an unknown rest, naming it', () => {
    expect(() => resolveGrouping('attention-mlp:head', params, { clipNorm: 1 })).toThrow(/rest = 'head'/);
  });
});
