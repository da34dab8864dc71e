import { describe, expect, it } from 'vitest';
import { ElementwiseProgram } from './elementwise-program';
import { PhiloxNoiseProgram } from './philox-noise-program';
import { RowProgram } from './row-program';

// WGSL's reserved words and keywords (WGSL spec §15.3, §15.4) and the built-in functions our
// shaders call: a declaration with one of these names fails shader compilation on the GPU only,
// which CI (no GPU) would not see. Both 'std' and 'active' bit us once.
const RESERVED = new Set(
  `NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become binding_array cast catch
  class co_await co_return co_yield coherent column_major common compile compile_fragment concept const_cast consteval
  constexpr constinit crate debugger decltype delete demote demote_to_helper do dynamic_cast enum explicit export extends
  extern external fallthrough filter final finally friend from fxgroup get goto groupshared highp impl implements import
  inline instanceof interface layout lowp macro macro_rules match mediump meta mod module move mut mutable namespace new nil
  noexcept noinline nointerpolation noperspective null nullptr of operator package packoffset partition pass patch
  pixelfragment precise precision premerge priv protected pub public readonly ref regardless register reinterpret_cast
  require resource restrict self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target
  template this thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized use using
  varying virtual volatile wgsl where with writeonly yield
  alias break case const const_assert continue continuing default diagnostic discard else enable false fn for if let loop
  override requires return struct switch true var while
  dot max min exp log sqrt select clamp tanh cos sin abs inverseSqrt arrayLength`.split(/\s+/),
);

function declaredNames(code: string, uniforms = ''): string[] {
  const names = [...code.matchAll(/\b(?:let|var|fn|const)\s+([A-Za-z_]\w*)/g)].map((m) => m[1]!);
  const fields = [...uniforms.matchAll(/([A-Za-z_]\w*)\s*:/g)].map((m) => m[1]!);
  return [...names, ...fields];
}

describe('WGSL programs declare no reserved or built-in names', () => {
  const programs = [
    new PhiloxNoiseProgram(10, true),
    new ElementwiseProgram([3, 4], [{ name: 'H', broadcast: 'full' }, { name: 'G', broadcast: 'suffix' }], 'h * g', 'affine'),
    new RowProgram(4, 8, {
      key: 'lnGrad',
      inputs: [{ name: 'H', kind: 'row' }, { name: 'R', kind: 'scalar' }, { name: 'Y', kind: 'row' }, { name: 'G', kind: 'vec' }],
      phases: [[{ name: 'mg', op: 'sum', expr: 'y * g / d' }, { name: 'mgx', op: 'sum', expr: 'y * g * h / d' }]],
      out: 'r * (y * g - mg - h * mgx)',
    }),
    new RowProgram(4, 8, { key: 'stat', inputs: [{ name: 'S', kind: 'row' }], phases: [[{ name: 'm', op: 'max', expr: 's' }], [{ name: 'z', op: 'sum', expr: 'exp(s - m)' }]], out: 'z', perRow: true }),
  ];
  for (const p of programs) {
    it(p.shaderKey, () => {
      const names = declaredNames(p.getUserCode(), (p as { uniforms?: string }).uniforms);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => RESERVED.has(n))).toEqual([]);
    });
  }

  it('the check itself catches a reserved name', () => {
    expect(declaredNames('let active = 1;', 'std : f32,').filter((n) => RESERVED.has(n))).toEqual(['active', 'std']);
  });
});
