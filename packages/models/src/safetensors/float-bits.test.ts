import { describe, expect, it } from 'vitest';
import { e4m3ToFloatTable, e5m2ToFloat, floatToBfloat16Bits, floatToHalfBits, halfToFloatTable } from './float-bits.js';

describe('float16', () => {
  // Expected bits from numpy 2.4: np.float32(v).astype(np.float16).view(np.uint16), round-to-nearest-even.
  const numpyHalf: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: to even (0)
    [3 * 2 ** -26, 0x0001],
    [2 ** -26, 0x0000],
    [1 + 2 ** -11, 0x3c00], // tie: to even
    [1 + 3 * 2 ** -11, 0x3c02], // tie: to even (up)
    [6.1e-5, 0x03ff],
    [2 ** -14 - 2 ** -25, 0x0400], // subnormal rounds up into the first normal
    [0.1, 0x2e66],
    [-123.456, 0xd7b7],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1e-8, 0x0000],
  ];
  it.each(numpyHalf)('encodes %d like numpy', (value, bits) => {
    expect(floatToHalfBits(value)).toBe(bits);
  });

  it('decodes every non-NaN half exactly and re-encodes it to the same bits', () => {
    const table = halfToFloatTable();
    expect(table[0x3c00]).toBe(1);
    expect(table[0x0001]).toBe(2 ** -24);
    expect(table[0x7bff]).toBe(65504);
    expect(table[0xfc00]).toBe(-Infinity);
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const isNaNPattern = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaNPattern ? !Number.isNaN(table[h]) : floatToHalfBits(table[h]!) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps NaN a NaN', () => {
    expect(Number.isNaN(halfToFloatTable()[floatToHalfBits(NaN)])).toBe(true);
  });
});

describe('bfloat16', () => {
  it('takes the top 16 bits, rounding to nearest even', () => {
    expect(floatToBfloat16Bits(1)).toBe(0x3f80);
    expect(floatToBfloat16Bits(-2)).toBe(0xc000);
    expect(floatToBfloat16Bits(Math.PI)).toBe(0x4049); // f32 0x40490fdb: low half < 0x8000, down
    expect(floatToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie at 0x3f808000: to even (down)
    expect(floatToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie at 0x3f818000: to even (up)
    expect(floatToBfloat16Bits(3.3895313892515355e38)).toBe(0x7f7f); // largest bf16
    expect(floatToBfloat16Bits(3.4e38)).toBe(0x7f80); // rounds past it to infinity
    expect(floatToBfloat16Bits(-Infinity)).toBe(0xff80);
    expect(floatToBfloat16Bits(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe('float8', () => {
  it('decodes e4m3fn (bias 7, max 448, 0x7f NaN, no infinity)', () => {
    const t = e4m3ToFloatTable();
    expect(t[0x38]).toBe(1);
    expect(t[0x7e]).toBe(448);
    expect(t[0xfe]).toBe(-448);
    expect(t[0x01]).toBe(2 ** -9);
    expect(Number.isNaN(t[0x7f])).toBe(true);
    expect(Number.isNaN(t[0xff])).toBe(true);
    expect(t[0x78]).toBe(256); // exponent 15 is a normal exponent in the fn variant
  });

  it('decodes e5m2 (bias 15, max 57344, infinity at 0x7c)', () => {
    expect(e5m2ToFloat(0x3c)).toBe(1);
    expect(e5m2ToFloat(0x7b)).toBe(57344);
    expect(e5m2ToFloat(0x7c)).toBe(Infinity);
    expect(e5m2ToFloat(0x01)).toBe(2 ** -16);
  });
});
