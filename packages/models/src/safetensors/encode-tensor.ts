import { ClipwiseModelError } from '../clipwise-model-error.js';
import { SAFETENSORS_DTYPE_BYTES, isSafetensorsDtype, type SafetensorsDtype } from './dtype.js';
import { HOST_IS_LITTLE_ENDIAN, SUPPORTED_DTYPES_TEXT, elementCount, formatShape, isFloatDtype } from './layout.js';
import type { SafetensorsTensorInput } from './tensor.js';
import { floatToBfloat16Bits, floatToHalfBits } from './float-bits.js';

const INT_RANGE: Partial<Record<SafetensorsDtype, readonly [number, number]>> = {
  BOOL: [0, 1],
  U8: [0, 0xff],
  I8: [-0x80, 0x7f],
  I16: [-0x8000, 0x7fff],
  U16: [0, 0xffff],
  I32: [-0x80000000, 0x7fffffff],
  U32: [0, 0xffffffff],
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  U64: [0, Number.MAX_SAFE_INTEGER],
};

const I64_RANGE = [-(1n << 63n), (1n << 63n) - 1n] as const;
const U64_RANGE = [0n, (1n << 64n) - 1n] as const;

/** Typed array whose memory already is the dtype's little-endian encoding (on a little-endian host). */
const SAME_LAYOUT: Partial<Record<SafetensorsDtype, Function>> = {
  F32: Float32Array,
  F64: Float64Array,
  U8: Uint8Array,
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

/** Checks one writer input (name, dtype, shape, data type and length); returns its size in bytes. */
export function validateTensorInput(name: string, tensor: SafetensorsTensorInput): number {
  const where = `tensor '${name}'`;
  if (name === '' || name === '__metadata__') {
    throw new ClipwiseModelError(`cannot write a tensor named '${name}': the name is reserved or empty. Fix: rename it.`);
  }
  if (!isSafetensorsDtype(tensor.dtype)) {
    throw new ClipwiseModelError(
      `${where} has dtype ${JSON.stringify(tensor.dtype)}; expected one of ${SUPPORTED_DTYPES_TEXT}. Fix: pick a supported dtype.`,
    );
  }
  if (!Array.isArray(tensor.shape) || !tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ClipwiseModelError(
      `${where} has shape ${JSON.stringify(tensor.shape)}; expected an array of non-negative integers ([] for a scalar).`,
    );
  }
  const count = elementCount(tensor.shape);
  if (count === undefined) throw new ClipwiseModelError(`${where} has shape ${formatShape(tensor.shape)} with more than 2^53 elements.`);
  const byteLength = count * SAFETENSORS_DTYPE_BYTES[tensor.dtype];
  if ('bytes' in tensor) {
    if (!(tensor.bytes instanceof Uint8Array) || tensor.bytes.byteLength !== byteLength) {
      throw new ClipwiseModelError(
        `${where}: bytes has length ${tensor.bytes?.byteLength}, but dtype ${tensor.dtype} with shape ` +
          `${formatShape(tensor.shape)} needs ${byteLength}. Fix: pass a Uint8Array of exactly that many bytes.`,
      );
    }
    return byteLength;
  }
  const data = tensor.data;
  const isFloatArray = data instanceof Float32Array || data instanceof Float64Array;
  const isBigArray = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const isIntArray = ArrayBuffer.isView(data) && !isFloatArray && !isBigArray && !(data instanceof DataView);
  const ok =
    tensor.dtype.startsWith('F8_')
      ? false
      : isFloatDtype(tensor.dtype)
        ? isFloatArray
        : isIntArray || (isBigArray && (tensor.dtype === 'I64' || tensor.dtype === 'U64'));
  if (!ok) {
    const wanted = tensor.dtype.startsWith('F8_')
      ? 'raw bytes: pass { bytes } instead of { data }'
      : isFloatDtype(tensor.dtype)
        ? 'a Float32Array or Float64Array of values (to store already-encoded bits, pass { bytes })'
        : `an integer typed array${tensor.dtype.endsWith('64') ? ' or BigInt64Array/BigUint64Array' : ''}`;
    throw new ClipwiseModelError(
      `${where} has dtype ${tensor.dtype} but data is ${data?.constructor?.name ?? typeof data}; expected ${wanted}.`,
    );
  }
  if (data.length !== count) {
    throw new ClipwiseModelError(
      `${where} has shape ${formatShape(tensor.shape)} (${count} elements) but data has ${data.length} elements. ` +
        'Fix: make the shape match the data.',
    );
  }
  return byteLength;
}

/**
 * Yields the little-endian bytes of a validated tensor in chunks of at most `chunkElements`
 * elements, so a large tensor is never converted in one piece. Where the input's memory already is
 * the encoding (F32 from Float32Array, I32 from Int32Array, ...) the chunks are views, not copies.
 */
export function* encodeTensorChunks(
  name: string,
  tensor: SafetensorsTensorInput,
  chunkElements = 1 << 20,
): Generator<Uint8Array> {
  if ('bytes' in tensor) {
    yield tensor.bytes;
    return;
  }
  const { dtype, data } = tensor;
  const size = SAFETENSORS_DTYPE_BYTES[dtype];
  if (HOST_IS_LITTLE_ENDIAN && dtype !== 'BOOL' && SAME_LAYOUT[dtype] === data.constructor) {
    yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return;
  }
  const range = INT_RANGE[dtype];
  const bigRange = dtype === 'I64' ? I64_RANGE : dtype === 'U64' ? U64_RANGE : range ? [BigInt(range[0]), BigInt(range[1])] : [0n, 0n];
  for (let start = 0; start < data.length; start += chunkElements) {
    const end = Math.min(data.length, start + chunkElements);
    const out = new Uint8Array((end - start) * size);
    const view = new DataView(out.buffer);
    for (let i = start; i < end; i++) {
      const value = data[i];
      const at = (i - start) * size;
      if (range) {
        const inRange =
          typeof value === 'bigint' ? value >= bigRange[0] && value <= bigRange[1] : value >= range[0] && value <= range[1];
        if (!inRange) {
          throw new ClipwiseModelError(
            `tensor '${name}': element ${i} is ${value}, outside the ${dtype} range [${bigRange[0]}, ${bigRange[1]}]. ` +
              'Fix: choose a wider dtype or clamp the values.',
          );
        }
        writeInt(view, at, dtype, value);
      } else {
        writeFloat(view, at, dtype, value as number);
      }
    }
    yield out;
  }
}

function writeFloat(view: DataView, at: number, dtype: SafetensorsDtype, value: number): void {
  if (dtype === 'F32') view.setFloat32(at, value, true);
  else if (dtype === 'F64') view.setFloat64(at, value, true);
  else if (dtype === 'F16') view.setUint16(at, floatToHalfBits(value), true);
  else view.setUint16(at, floatToBfloat16Bits(value), true); // BF16
}

function writeInt(view: DataView, at: number, dtype: SafetensorsDtype, value: number | bigint): void {
  switch (dtype) {
    case 'BOOL':
    case 'U8':
      return view.setUint8(at, Number(value));
    case 'I8':
      return view.setInt8(at, Number(value));
    case 'I16':
      return view.setInt16(at, Number(value), true);
    case 'U16':
      return view.setUint16(at, Number(value), true);
    case 'I32':
      return view.setInt32(at, Number(value), true);
    case 'U32':
      return view.setUint32(at, Number(value), true);
    case 'I64':
      return view.setBigInt64(at, BigInt(value), true);
    case 'U64':
      return view.setBigUint64(at, BigInt(value), true);
  }
}
