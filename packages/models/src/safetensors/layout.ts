// Internal helpers shared by the safetensors reader and writer (not part of the public API).
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from './dtype.js';

const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F8_E4M3', 'F8_E5M2', 'F16', 'BF16', 'F32', 'F64']);

/** True for the floating-point dtypes (decoded to `Float32Array`). */
export function isFloatDtype(dtype: SafetensorsDtype): boolean {
  return FLOAT_DTYPES.has(dtype);
}

/** Human-readable list of supported dtypes, for error messages. */
export const SUPPORTED_DTYPES_TEXT = Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ');

/**
 * Number of elements of a tensor of this shape (1 for the scalar shape `[]`), or `undefined` when
 * the product is not a safe integer.
 */
export function elementCount(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/** `[2, 3]` → `"[2, 3]"`, for error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Whether this machine stores multi-byte numbers little-endian (as safetensors does). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
