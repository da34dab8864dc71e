import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gpt2LikeParams, param } from './__fixtures__/params';
import { ClipwiseGroupingError } from './errors';
import { registerGroupingStrategy, unregisterGroupingStrategy } from './registry';
import { resolveGrouping } from './resolve-grouping';
import type { GroupDraft } from './types';

const params = gpt2LikeParams({ blocks: 2 });

describe('resolveGrouping', () => {
  it('gives each group C / sqrt(M) by default, so the sensitivity is C (rel. tol. 1e-12)', () => {
    const g = resolveGrouping('layer-wise', params, { clipNorm: 1.5 });
    const m = g.groups.length;
    for (const group of g.groups) expect(group.threshold).toBeCloseTo(1.5 / Math.sqrt(m), 14);
    expect(g.thresholds).toEqual(g.groups.map((x) => x.threshold));
    expect(Math.abs(g.sensitivity - 1.5) / 1.5).toBeLessThan(1e-12);
    expect(g.clipNorm).toBe(1.5);
  });

  it('uses explicit thresholds, and reports sqrt(Σ C_m²) as computed directly (rel. tol. 1e-12)', () => {
    const arr = resolveGrouping('uniform:3', params, { clipNorm: 1, thresholds: [0.2, 0.5, 1.1] });
    expect(arr.thresholds).toEqual([0.2, 0.5, 1.1]);
    const direct = Math.sqrt(0.2 * 0.2 + 0.5 * 0.5 + 1.1 * 1.1);
    expect(Math.abs(arr.sensitivity - direct) / direct).toBeLessThan(1e-12);
    const rec = resolveGrouping('uniform:3', params, { clipNorm: 1, thresholds: { 'group-2': 1.1, 'group-0': 0.2, 'group-1': 0.5 } });
    expect(rec.thresholds).toEqual([0.2, 0.5, 1.1]);
  });

  it('maps each parameter to its group', () => {
    const g = resolveGrouping('non-uniform:transformer.h.1', params, { clipNorm: 1 });
    expect(g.groupIndexOf('transformer.wte.weight')).toBe(0);
    expect(g.groupIndexOf('transformer.h.1.ln_1.bias')).toBe(1);
    for (const [m, group] of g.groups.entries()) for (const p of group.params) expect(g.groupIndexOf(p)).toBe(m);
    expect(() => g.groupIndexOf('lm_head.weight')).toThrow(/'lm_head\.weight' is in no group/);
  });

  it('updates thresholds immutably with withThresholds', () => {
    const g = resolveGrouping('uniform:2', params, { clipNorm: 1 });
    const h = g.withThresholds([3, 4]);
    expect(h.thresholds).toEqual([3, 4]);
    expect(h.sensitivity).toBe(5);
    expect(h.groups.map((x) => x.params)).toEqual(g.groups.map((x) => x.params));
    expect(h.groupIndexOf('transformer.ln_f.bias')).toBe(1);
    expect(g.thresholds).toEqual([1 / Math.SQRT2, 1 / Math.SQRT2]);
    expect(Object.isFrozen(g.groups[0])).toBe(true);
    expect(() => g.withThresholds([1])).toThrow(/got 1 threshold\(s\) for 2 group\(s\)/);
    expect(g.withThresholds({ 'group-1': 2, 'group-0': 1 }).thresholds).toEqual([1, 2]);
  });

  it('reports sizes, layers, a description and a JSON snapshot', () => {
    const g = resolveGrouping('uniform:2', params, { clipNorm: 1 });
    expect(g.groups.reduce((s, x) => s + x.size, 0)).toBe(params.reduce((s, p) => s + p.size, 0));
    const text = g.describe();
    expect(text).toMatch(/^uniform: 2 groups, clipNorm C = 1, sensitivity S = sqrt\(Σ C_m²\) = 1\n/);
    expect(text).toContain('group-0  C_m = 0.7071');
    expect(text).toContain(`${g.groups[1]!.layers.length} layers: ${g.groups[1]!.layers[0]} … transformer.ln_f`);
    const json = JSON.parse(JSON.stringify(g));
    expect(json.strategy).toBe('uniform');
    expect(json.groups[1].params).toEqual(g.groups[1]!.params);
  });

  it('rejects a bad clipNorm or spec, naming it', () => {
    expect(() => resolveGrouping('layer-wise', params, { clipNorm: 0 })).toThrow(/clipNorm is 0; expected a finite number > 0/);
    expect(() => resolveGrouping('layer-wise', params, { clipNorm: Number.POSITIVE_INFINITY })).toThrow(/clipNorm is Infinity/);
    expect(() => resolveGrouping({ k: 2 } as never, params, { clipNorm: 1 })).toThrow(/grouping spec is \{"k":2\}/);
    expect(() => resolveGrouping({ strategy: 'nope' } as never, params, { clipNorm: 1 })).toThrow(
      /unknown grouping strategy 'nope'; expected one of 'all-layer',/,
    );
  });
});

describe('resolveGrouping checks the partition a strategy returns', () => {
  let groups: (ps: readonly ReturnType<typeof param>[]) => readonly GroupDraft[] = () => [];
  beforeAll(() => {
    registerGroupingStrategy({ name: 'test-broken', summary: 'returns whatever the test sets', group: (ps) => groups(ps) });
  });
  afterAll(() => {
    unregisterGroupingStrategy('test-broken');
  });
  afterEach(() => {
    groups = () => [];
  });
  const ps = [param('a.w', 'a', 0, [2]), param('b.w', 'b', 1, [2]), param('c.w', 'c', 2, [2])];
  const resolve = () => resolveGrouping('test-broken', ps, { clipNorm: 1 });

  it('every parameter in exactly one group, naming the culprit', () => {
    groups = (p) => [{ name: 'x', params: [p[0]!, p[1]!] }];
    expect(resolve).toThrow(/left parameter\(s\) 'c\.w' out of every group/);
    groups = (p) => [{ name: 'x', params: [p[0]!, p[1]!] }, { name: 'y', params: [p[1]!, p[2]!] }];
    expect(resolve).toThrow(/put parameter 'b\.w' in both group 'x' and group 'y'/);
    groups = (p) => [{ name: 'x', params: [...p, param('z.w', 'z', 3, [1])] }];
    expect(resolve).toThrow(/put parameter "z\.w" in group 'x', but it is not one of the parameters/);
  });

  it('no empty group, no duplicate or empty group name, at least one group', () => {
    groups = (p) => [{ name: 'x', params: p }, { name: 'y', params: [] }];
    expect(resolve).toThrow(/group 'y' with no parameters/);
    groups = (p) => [{ name: 'x', params: [p[0]!] }, { name: 'x', params: [p[1]!, p[2]!] }];
    expect(resolve).toThrow(/two groups named 'x'/);
    groups = (p) => [{ name: '', params: p }];
    expect(resolve).toThrow(/a group named ""/);
    groups = () => [];
    expect(resolve).toThrow(ClipwiseGroupingError);
    expect(resolve).toThrow(/'test-broken' returned no groups/);
  });

  it('lays out members in forward order whatever order the strategy used', () => {
    groups = (p) => [{ name: 'x', params: [p[2]!, p[0]!] }, { name: 'y', params: [p[1]!] }];
    expect(resolve().groups[0]!.params).toEqual(['a.w', 'c.w']);
  });
});
