import { describe, expect, it } from 'vitest';
import { gpt2LikeParams, param } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('per-device', () => {
  it('makes one group per device tag, named after it, in order of first appearance', () => {
    const params = gpt2LikeParams({ blocks: 4, devices: 2 });
    const g = resolveGrouping('per-device', params, { clipNorm: 1 });
    expect(g.groups.map((x) => x.name)).toEqual(['gpu:0', 'gpu:1']);
    for (const [m, group] of g.groups.entries()) {
      expect(group.params).toEqual(params.filter((p) => p.device === group.name).map((p) => p.name));
      expect(group.threshold).toBeCloseTo(1 / Math.SQRT2, 15);
      expect(m).toBe(g.groupIndexOf(group.params[0]!));
    }
  });

  it('groups parameters that are not contiguous in forward order', () => {
    const params = [
      param('a.w', 'a', 0, [2], { device: 'x' }),
      param('b.w', 'b', 1, [2], { device: 'y' }),
      param('c.w', 'c', 2, [2], { device: 'x' }),
    ];
    const g = resolveGrouping('per-device', params, { clipNorm: 1 });
    expect(g.groups.map((x) => [x.name, x.params])).toEqual([
      ['x', ['a.w', 'c.w']],
      ['y', ['b.w']],
    ]);
  });

  it('rejects an untagged parameter, naming it', () => {
    const params = [param('a.w', 'a', 0, [2], { device: 'x' }), param('b.bias', 'b', 1, [2])];
    expect(() => resolveGrouping('per-device', params, { clipNorm: 1 })).toThrow(/'b\.bias' has none/);
  });
});
