import { describe, expect, it } from 'vitest';
import { parseGroupingSpec } from './parse-grouping-spec';

describe('parseGroupingSpec', () => {
  it('parses every built-in spec string into its object form', () => {
    expect(parseGroupingSpec('all-layer')).toEqual({ strategy: 'all-layer' });
    expect(parseGroupingSpec('flat')).toEqual({ strategy: 'all-layer' });
    expect(parseGroupingSpec('layer-wise')).toEqual({ strategy: 'layer-wise' });
    expect(parseGroupingSpec('per-layer')).toEqual({ strategy: 'layer-wise' });
    expect(parseGroupingSpec('param-wise')).toEqual({ strategy: 'param-wise' });
    expect(parseGroupingSpec('uniform:4')).toEqual({ strategy: 'uniform', k: 4 });
    expect(parseGroupingSpec(' uniform : 12 ')).toEqual({ strategy: 'uniform', k: 12 });
    expect(parseGroupingSpec('non-uniform:transformer.h.4, transformer.h.8')).toEqual({
      strategy: 'non-uniform',
      boundaries: ['transformer.h.4', 'transformer.h.8'],
    });
    expect(parseGroupingSpec('per-device')).toEqual({ strategy: 'per-device' });
  });

  it('rejects bad specs, naming the bad part', () => {
    expect(() => parseGroupingSpec('')).toThrow(/grouping spec is ""; expected a strategy name such as 'all-layer'/);
    expect(() => parseGroupingSpec('uniform-4')).toThrow(/unknown grouping strategy 'uniform-4'; expected one of/);
    expect(() => parseGroupingSpec('layer-wise:2')).toThrow(/gives 'layer-wise' the argument '2', but it takes none/);
    expect(() => parseGroupingSpec('uniform:-1')).toThrow(/has '-1'; expected a whole number/);
    expect(() => parseGroupingSpec('balanced:4')).toThrow(/'balanced:4' cannot be written as a string/);
  });
});
