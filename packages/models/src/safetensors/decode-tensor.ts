import { ClipwiseModelError } from '../clipwise-model-error.js';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from './dtype.js';
import { HOST_IS_LITTLE_ENDIAN } from './layout.js';
import type { SafetensorsTensorData } from './tensor.js';
import { e4m3ToFloatTable, e5m2ToFloat, halfToFloatTable } from './float-bits.js';

/**
 * Decodes little-endian tensor bytes. When `owned` is true and the layout allows it, the result is a
 * view of `bytes` (no copy); otherwise it is fresh memory, never aliasing the input.
 */
export function decodeTensorBytes(
  bytes: Uint8Array,
  dtype: SafetensorsDtype,
  name: string,
  source: string,
  owned: boolean,
): SafetensorsTensorData {
  const count = bytes.byteLength / SAFETENSORS_DTYPE_BYTES[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      if (HOST_IS_LITTLE_ENDIAN) {
        const aligned = owned && bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
        return new Float32Array(aligned.buffer, aligned.byteOffset, count);
      }
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const table = halfToFloatTable();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)];
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F8_E4M3': {
      const table = e4m3ToFloatTable();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[bytes[i]];
      return out;
    }
    case 'F8_E5M2': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = e5m2ToFloat(bytes[i]);
      return out;
    }
    case 'BOOL': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    }
    case 'U8':
      return Int32Array.from(bytes);
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, count));
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'U16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      return out;
    }
    case 'I32': {
      if (HOST_IS_LITTLE_ENDIAN) {
        const aligned = owned && bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
        return new Int32Array(aligned.buffer, aligned.byteOffset, count);
      }
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'U32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getUint32(i * 4, true);
        if (v > 0x7fffffff) throw outOfInt32(name, source, dtype, i, String(v));
        out[i] = v;
      }
      return out;
    }
    case 'I64':
    case 'U64': {
      // Fits int32 iff the high word is the sign extension of the low word (and, for U64, is 0).
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = view.getInt32(i * 8, true);
        const hi = view.getInt32(i * 8 + 4, true);
        const fits = dtype === 'I64' ? hi === lo >> 31 : hi === 0 && lo >= 0;
        if (!fits) {
          const big = dtype === 'I64' ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true);
          throw outOfInt32(name, source, dtype, i, big.toString());
        }
        out[i] = lo;
      }
      return out;
    }
  }
}

function outOfInt32(name: string, source: string, dtype: string, index: number, value: string): ClipwiseModelError {
  return new ClipwiseModelError(
    `tensor '${name}' in ${source}: ${dtype} element ${index} is ${value}, outside the int32 range ` +
      `[-2147483648, 2147483647] that decoded integer tensors use. Fix: read the raw little-endian ` +
      `bytes with readTensorBytes('${name}') and convert them yourself.`,
  );
}
