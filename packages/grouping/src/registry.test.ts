import { afterEach, describe, expect, it } from 'vitest';
import { param } from './__fixtures__/params';
import { ClipwiseGroupingError } from './errors';
import {
  getGroupingStrategy,
  listGroupingStrategies,
  registerGroupingStrategy,
  unregisterGroupingStrategy,
} from './registry';
import { resolveGrouping } from './resolve-grouping';
import type { GroupingStrategy } from './types';

const evenOdd: GroupingStrategy = {
  name: 'even-odd',
  aliases: ['parity'],
  summary: 'layers at even and odd positions',
  group: (params) => [
    { name: 'even', params: params.filter((p) => p.order % 2 === 0) },
    { name: 'odd', params: params.filter((p) => p.order % 2 === 1) },
  ],
};

describe('grouping strategy registry', () => {
  afterEach(() => {
    unregisterGroupingStrategy('even-odd');
  });

  it('holds the built-ins, registered like any other strategy', () => {
    expect(listGroupingStrategies().map((s) => s.name)).toEqual([
      'all-layer',
      'layer-wise',
      'param-wise',
      'uniform',
      'non-uniform',
      'balanced',
      'per-device',
    ]);
    expect(getGroupingStrategy('per-layer').name).toBe('layer-wise');
  });

  it('makes a registered strategy usable by name and alias, and removable', () => {
    registerGroupingStrategy(evenOdd);
    const ps = [0, 1, 2].map((i) => param(`l${i}.w`, `l${i}`, i, [2]));
    expect(resolveGrouping('parity', ps, { clipNorm: 1 }).groups.map((g) => g.params)).toEqual([['l0.w', 'l2.w'], ['l1.w']]);
    expect(unregisterGroupingStrategy('even-odd')).toBe(true);
    expect(() => getGroupingStrategy('parity')).toThrow(/unknown grouping strategy 'parity'/);
  });

  it('rejects a taken name unless replacing on purpose', () => {
    registerGroupingStrategy(evenOdd);
    expect(() => registerGroupingStrategy(evenOdd)).toThrow(/'even-odd' is already taken by 'even-odd'.*replace: true/);
    expect(() => registerGroupingStrategy({ ...evenOdd, name: 'flat', aliases: [] })).toThrow(/'flat' is already taken by 'all-layer'/);
    registerGroupingStrategy({ ...evenOdd, summary: 'v2' }, { replace: true });
    expect(getGroupingStrategy('parity').summary).toBe('v2');
  });

  it('rejects names that are not kebab-case, naming them', () => {
    expect(() => registerGroupingStrategy({ ...evenOdd, name: 'Even:Odd' })).toThrow(ClipwiseGroupingError);
    expect(() => registerGroupingStrategy({ ...evenOdd, name: 'Even:Odd' })).toThrow(/"Even:Odd"; expected a kebab-case name/);
  });

  it('lists the registered strategies when a name is unknown', () => {
    expect(() => getGroupingStrategy('layerwise')).toThrow(
      /unknown grouping strategy 'layerwise'; expected one of 'all-layer', 'layer-wise', 'param-wise', 'uniform', 'non-uniform', 'balanced', 'per-device'/,
    );
  });
});
