import { describe, expect, it } from 'vitest';
import { param } from './__fixtures__/params';
import { layerBlocks, sortForward } from './forward-order';

describe('sortForward', () => {
  it('sorts by layer order, keeping the given order inside a layer', () => {
    const ps = [param('b.w', 'b', 1, [2]), param('a.w', 'a', 0, [2]), param('b.bias', 'b', 1, [2]), param('a.bias', 'a', 0, [1])];
    expect(sortForward(ps).map((p) => p.name)).toEqual(['a.w', 'a.bias', 'b.w', 'b.bias']);
    expect(layerBlocks(sortForward(ps)).map((b) => [b.layer, b.params.length])).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
  });

  it('rejects an empty list, duplicate names and a layer with two orders, naming the value', () => {
    expect(() => sortForward([])).toThrow(/no parameters/);
    expect(() => sortForward([param('a.w', 'a', 0, [2]), param('a.w', 'a', 0, [2])])).toThrow(/'a\.w' appears twice/);
    expect(() => sortForward([param('a.w', 'a', 0, [2]), param('a.b', 'a', 3, [2])])).toThrow(
      /layer 'a' has parameters with order 0 and 3 \(parameter 'a\.b'\)/,
    );
    expect(() => sortForward([param('a.w', 'a', Number.NaN, [2])])).toThrow(/'a\.w' has order NaN/);
  });
});
