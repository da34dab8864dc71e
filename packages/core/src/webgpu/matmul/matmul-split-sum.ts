/**
 * Adds split-K partials [batch, splits, size] into [batch, size] (+ bias over the last axis, + a
 * residual [batch, size]); with ones (one batch entry, no bias or residual), the row of ones' sums
 * (elements from `boundary` on) or the column of ones' (every (N + 1)th element) go to DB.
 */
export function splitSumWgsl(vec: boolean, bias: boolean, residual: boolean, onesSide: 'row' | 'col' | null, act: string | null): string {
  const t = vec ? 'vec4<f32>' : 'f32';
  const ones = onesSide !== null;
  const dbAt = 2 + +bias + +residual;
  const hAt = dbAt + +ones;
  // a column of ones: each row of the partials has N + 1 elements, the last one DB's (no vec4: N + 1 wide)
  const route =
    onesSide === 'row'
      ? 'if (j >= u.boundary) { DB[j - u.boundary] = s; return; }\n  '
      : onesSide === 'col'
        ? 'let r = j / (u.n + 1u); let c = j % (u.n + 1u);\n  if (c == u.n) { DB[r] = s; return; }\n  C[r * u.n + c] = s;\n  return;\n  '
        : '';
  return /* wgsl */ `
struct U { per : u32, splits : u32, total : u32, n : u32, boundary : u32 };
@group(0) @binding(0) var<storage, read_write> C : array<${t}>;
@group(0) @binding(1) var<storage, read> P : array<${t}>;
${bias ? `@group(0) @binding(2) var<storage, read> bias : array<${t}>;\n` : ''}${residual ? `@group(0) @binding(${bias ? 3 : 2}) var<storage, read> R : array<${t}>;\n` : ''}${ones ? `@group(0) @binding(${dbAt}) var<storage, read_write> DB : array<${t}>;\n` : ''}${act ? `@group(0) @binding(${hAt}) var<storage, read_write> H : array<${t}>;\nfn act(x : f32) -> f32 { return ${act}; }\n` : ''}@group(0) @binding(${hAt + +(act !== null)}) var<uniform> u : U;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.total) { return; }
  let b = i / u.per;
  let j = i % u.per;
  var s = ${t}(0.0);
  for (var p = 0u; p < u.splits; p = p + 1u) { s = s + P[(b * u.splits + p) * u.per + j]; }
  ${route}${
    act
      ? `let v = s${bias ? ' + bias[j % u.n]' : ''};\n  H[i] = v;\n  C[i] = ${vec ? 'vec4<f32>(act(v.x), act(v.y), act(v.z), act(v.w))' : 'act(v)'};`
      : `C[i] = s${bias ? ' + bias[j % u.n]' : ''}${residual ? ' + R[i]' : ''};`
  }
}
`;
}
