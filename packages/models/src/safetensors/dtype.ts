/**
 * Element types of the safetensors format (https://github.com/huggingface/safetensors), as spelled
 * in a file's header. `F8_E4M3` is PyTorch's `float8_e4m3fn` (no infinities; 0x7f/0xff are NaN),
 * `F8_E5M2` is `float8_e5m2` (IEEE-like). Sub-byte types (`F4`, `F6_*`, `F8_E8M0`) are not supported.
 */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'I16'
  | 'U16'
  | 'I32'
  | 'U32'
  | 'I64'
  | 'U64'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'F16'
  | 'BF16'
  | 'F32'
  | 'F64';

/**
 * Bytes per element of each supported dtype.
 *
 * @example
 * ```ts
 * SAFETENSORS_DTYPE_BYTES.BF16; // 2
 * ```
 */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = Object.freeze({
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  I32: 4,
  U32: 4,
  I64: 8,
  U64: 8,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F16: 2,
  BF16: 2,
  F32: 4,
  F64: 8,
});

/**
 * True when `value` is a dtype name this package reads and writes.
 *
 * @example
 * ```ts
 * isSafetensorsDtype('BF16'); // true
 * isSafetensorsDtype('F4'); // false
 * ```
 */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BYTES, value);
}
