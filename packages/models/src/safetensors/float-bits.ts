// Conversions between float32 and the narrow float formats of safetensors. Decoding is exact (every
// F16/BF16/F8 value is representable in float32); encoding rounds to nearest, ties to even, as
// PyTorch's `tensor.to(torch.float16 / torch.bfloat16)` does.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let halfTable: Float32Array | undefined;

/** Float32 value of every 16-bit IEEE half pattern; built once, on first use (256 KiB). */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) table[h] = mant ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  halfTable = table;
  return table;
}

let e4m3Table: Float32Array | undefined;

/** Float32 value of every `float8_e4m3fn` byte (bias 7, no infinities, S.1111.111 is NaN). */
export function e4m3ToFloatTable(): Float32Array {
  if (e4m3Table) return e4m3Table;
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const sign = b & 0x80 ? -1 : 1;
    const exp = (b >>> 3) & 0xf;
    const mant = b & 0x7;
    if (exp === 0xf && mant === 0x7) table[b] = NaN;
    else if (exp === 0) table[b] = sign * (mant / 8) * 2 ** -6;
    else table[b] = sign * (1 + mant / 8) * 2 ** (exp - 7);
  }
  e4m3Table = table;
  return table;
}

/** `float8_e5m2` is the top byte of an IEEE half, so its value is the half table at `b << 8`. */
export function e5m2ToFloat(b: number): number {
  return halfToFloatTable()[(b & 0xff) << 8];
}

/** IEEE half bits of `value` (rounded to float32 first, then to half, ties to even). */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): value = m * 2^-24 with m = (1.mant * 2^23) >> (14 - e).
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and overflows to infinity at the top).
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** bfloat16 bits of `value`: the top half of its float32 bits, rounded to nearest even. */
export function floatToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff; // keep NaN a (quiet) NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}
