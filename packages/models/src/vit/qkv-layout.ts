import type { ExpectedTensor } from '../safetensors/check-checkpoint.js';

/**
 * A packed ViT's q|k|v parameters (`VitOptions.qkv: 'packed'`) against the three tensors Hugging
 * Face's checkpoints hold: the packed weight [3d, d] is query's rows, then key's, then value's (timm's
 * order), the bias [3d] likewise. Checkpoints keep Hugging Face's names whichever layout loads them.
 */
const PACKED = /^(vit\.encoder\.layer\.\d+\.attention\.attention)\.qkv\.(weight|bias)$/;
const PARTS = ['query', 'key', 'value'] as const;

/**
 * The Hugging Face tensors a packed q|k|v parameter stands for, in row order, or null for any other
 * parameter.
 *
 * @example
 * qkvParts('vit.encoder.layer.0.attention.attention.qkv.bias');
 * // ['vit.encoder.layer.0.attention.attention.query.bias', '….key.bias', '….value.bias']
 */
export function qkvParts(paramName: string): string[] | null {
  const m = PACKED.exec(paramName);
  return m ? PARTS.map((part) => `${m[1]}.${part}.${m[2]}`) : null;
}

/** The checkpoint tensors a parameter stands for: itself, or a packed q|k|v's three thirds. */
export function checkpointTensorsOf(p: ExpectedTensor): ExpectedTensor[] {
  const parts = qkvParts(p.name);
  if (!parts) return [{ name: p.name, shape: p.shape }];
  const [rows, ...rest] = p.shape;
  return parts.map((name) => ({ name, shape: [rows! / 3, ...rest] }));
}

/** A packed parameter's values as its three parts' (contiguous thirds: the rows are q's, then k's, then v's). */
export function splitPacked(values: Float32Array): Float32Array[] {
  const third = values.length / 3;
  return PARTS.map((_, i) => values.subarray(i * third, (i + 1) * third));
}

/** The packed parameter's values from its three parts', in row order. */
export function joinPacked(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
