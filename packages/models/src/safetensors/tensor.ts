import type { SafetensorsDtype } from './dtype.js';

/**
 * Decoded tensor values. Float dtypes (F64, F32, F16, BF16, F8_*) become `Float32Array`: exact for
 * F32/F16/BF16/F8, rounded to nearest float32 for F64. Integer and BOOL dtypes become `Int32Array`:
 * exact, and a value outside the int32 range (possible for U32, I64, U64) is an error naming the
 * tensor (read its raw bytes with `readTensorBytes` instead). TF.js computes in float32 and int32, so
 * these are the types a model needs.
 */
export type SafetensorsTensorData = Float32Array | Int32Array;

/** One decoded tensor. */
export interface SafetensorsTensor {
  /** The dtype stored in the file (not the type of `data`). */
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: SafetensorsTensorData;
}

/** Typed arrays accepted as tensor values by the writer. */
export type SafetensorsWritableData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A tensor to write: either values (`data`) converted to `dtype`, or the exact little-endian bytes
 * (`bytes`) to store as they are.
 *
 * Value rules: F32/F64/F16/BF16 take a `Float32Array` or `Float64Array` (F16 and BF16 round to
 * nearest even; F32 from Float64 rounds likewise). Integer dtypes and BOOL take an integer typed array
 * (I64/U64 also `BigInt64Array`/`BigUint64Array`); every value must fit the dtype (BOOL: 0 or 1).
 * F8 dtypes, or already-encoded F16/BF16 bits, are written with `bytes`.
 */
export type SafetensorsTensorInput =
  | { readonly dtype: SafetensorsDtype; readonly shape: readonly number[]; readonly data: SafetensorsWritableData }
  | { readonly dtype: SafetensorsDtype; readonly shape: readonly number[]; readonly bytes: Uint8Array };
