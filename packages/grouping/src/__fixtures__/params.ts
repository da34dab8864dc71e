import type { ParamSpec } from '@clipwise/core';

/** A ParamSpec without a variable: grouping only reads names, shapes, order and device. */
export function param(
  name: string,
  layer: string,
  order: number,
  shape: readonly number[],
  extra: Partial<Pick<ParamSpec, 'kind' | 'role' | 'device'>> = {},
): ParamSpec {
  return {
    name,
    layer,
    order,
    shape,
    size: shape.reduce((a, b) => a * b, 1),
    kind: extra.kind ?? 'linear',
    role: extra.role ?? name.slice(name.lastIndexOf('.') + 1),
    ...(extra.device === undefined ? {} : { device: extra.device }),
    variable: undefined as never,
  };
}

/**
 * Parameters of a small GPT-2 with Hugging Face names, forward order: wte, wpe, `blocks` blocks of
 * (ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj), ln_f. With `devices`, block b and the
 * layers before/after it are tagged `gpu:<device>` as a pipeline split would.
 */
export function gpt2LikeParams({ blocks = 2, d = 4, vocab = 10, positions = 6, devices = 0 } = {}): ParamSpec[] {
  const out: ParamSpec[] = [];
  let order = 0;
  const deviceOf = (block: number) =>
    devices > 0 ? `gpu:${Math.min(devices - 1, Math.floor((block * devices) / blocks))}` : undefined;
  const layer = (name: string, kind: string, shapes: Record<string, readonly number[]>, device?: string) => {
    for (const [role, shape] of Object.entries(shapes)) {
      out.push(param(`${name}.${role}`, name, order, shape, { kind, role, device }));
    }
    order++;
  };
  layer('transformer.wte', 'embedding', { weight: [vocab, d] }, deviceOf(0));
  layer('transformer.wpe', 'positional', { weight: [positions, d] }, deviceOf(0));
  for (let b = 0; b < blocks; b++) {
    const h = `transformer.h.${b}`;
    const dev = deviceOf(b);
    layer(`${h}.ln_1`, 'layernorm', { weight: [d], bias: [d] }, dev);
    layer(`${h}.attn.c_attn`, 'linear', { weight: [d, 3 * d], bias: [3 * d] }, dev);
    layer(`${h}.attn.c_proj`, 'linear', { weight: [d, d], bias: [d] }, dev);
    layer(`${h}.ln_2`, 'layernorm', { weight: [d], bias: [d] }, dev);
    layer(`${h}.mlp.c_fc`, 'linear', { weight: [d, 4 * d], bias: [4 * d] }, dev);
    layer(`${h}.mlp.c_proj`, 'linear', { weight: [4 * d, d], bias: [d] }, dev);
  }
  layer('transformer.ln_f', 'layernorm', { weight: [d], bias: [d] }, deviceOf(blocks - 1));
  return out;
}

/** Names of the parameters of each group, for compact assertions. */
export function namesOf(groups: readonly { readonly params: readonly { name: string }[] | readonly string[] }[]): string[][] {
  return groups.map((g) => g.params.map((p) => (typeof p === 'string' ? p : p.name)));
}
