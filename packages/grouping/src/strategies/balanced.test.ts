import type { ParamSpec } from '@clipwise/core';
import { describe, expect, it } from 'vitest';
import { param } from '../__fixtures__/params';
import { resolveGrouping } from '../resolve-grouping';

describe('balanced', () => {
  // Five layers of equal size; the cost says the last one is expensive.
  const params = [0, 1, 2, 3, 4].map((i) => param(`l${i}.w`, `l${i}`, i, [3]));
  const cost = (p: ParamSpec) => (p.layer === 'l4' ? 10 : 1);

  it('balances whole layers by the cost function, not by size', () => {
    const g = resolveGrouping({ strategy: 'balanced', k: 2, cost }, params, { clipNorm: 1 });
    expect(g.strategy).toBe('balanced');
    expect(g.groups.map((x) => x.params)).toEqual([['l0.w', 'l1.w', 'l2.w', 'l3.w'], ['l4.w']]);
    // By size the same model splits in the middle (3 + 2 or 2 + 3 layers).
    const bySize = resolveGrouping('uniform:2', params, { clipNorm: 1 });
    expect(bySize.groups.map((x) => x.params.length).sort()).toEqual([2, 3]);
  });

  it('sums the cost over a layer\'s parameters', () => {
    const two = [param('a.w', 'a', 0, [1]), param('a.b', 'a', 0, [1]), param('b.w', 'b', 1, [1]), param('c.w', 'c', 2, [1])];
    const g = resolveGrouping({ strategy: 'balanced', k: 2, cost: () => 1 }, two, { clipNorm: 1 });
    expect(g.groups.map((x) => x.params)).toEqual([['a.w', 'a.b'], ['b.w', 'c.w']]);
  });

  it('rejects a negative or non-finite cost, naming the parameter and value', () => {
    const bad = (p: ParamSpec) => (p.name === 'l2.w' ? Number.NaN : 1);
    expect(() => resolveGrouping({ strategy: 'balanced', k: 2, cost: bad }, params, { clipNorm: 1 })).toThrow(
      /'l2\.w' is NaN/,
    );
    expect(() => resolveGrouping({ strategy: 'balanced', k: 2, cost: () => -1 }, params, { clipNorm: 1 })).toThrow(
      /is -1; expected a finite number ≥ 0/,
    );
  });

  it('rejects a missing cost function and the string form, pointing to uniform', () => {
    expect(() => resolveGrouping({ strategy: 'balanced', k: 2 } as never, params, { clipNorm: 1 })).toThrow(
      /cost = undefined; expected a function/,
    );
    expect(() => resolveGrouping('balanced:4', params, { clipNorm: 1 })).toThrow(/'balanced:4'.*'uniform:4'/);
  });
});
