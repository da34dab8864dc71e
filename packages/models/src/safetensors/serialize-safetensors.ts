import { planSafetensors } from './build-header.js';
import { encodeTensorChunks } from './encode-tensor.js';
import type { SafetensorsTensorInput } from './tensor.js';

/**
 * Serialises tensors to safetensors bytes in memory, byte-identical to what
 * {@link writeSafetensors} writes to disk. For small files, tests and browsers.
 *
 * @example
 * ```ts
 * import { serializeSafetensors } from '@clipwise/models';
 * const bytes = serializeSafetensors({ bias: { dtype: 'F16', shape: [3], data: new Float32Array([0.5, -1, 2]) } });
 * ```
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, SafetensorsTensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array<ArrayBuffer> {
  const plan = planSafetensors(tensors, metadata);
  const out = new Uint8Array(plan.totalBytes);
  out.set(plan.headerBytes, 0);
  let at = plan.headerBytes.byteLength;
  for (const { name, tensor } of plan.order) {
    for (const chunk of encodeTensorChunks(name, tensor)) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
  }
  return out;
}
