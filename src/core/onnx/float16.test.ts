import { describe, expect, test } from 'vitest';
import {
  bfloat16ArrayToFloat32,
  bfloat16ToFloat32,
  float16ArrayToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from './float16.ts';

const isNaNBits16 = (bits: number) => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

describe('float16', () => {
  test('special values and subnormals', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0x7bff)).toBe(65504); // largest finite
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(float16ToFloat32(0xfc00)).toBe(-Infinity);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(float16ToFloat32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(float16ToFloat32(0x0400)).toBe(2 ** -14); // smallest normal
  });

  test('every non-NaN bit pattern survives float16 → float32 → float16', () => {
    for (let bits = 0; bits < 65536; bits++) {
      const back = float32ToFloat16(float16ToFloat32(bits));
      if (isNaNBits16(bits)) expect(isNaNBits16(back)).toBe(true);
      else if (back !== bits) throw new Error(`0x${bits.toString(16)} came back as 0x${back.toString(16)}`);
    }
  });

  test('rounding to nearest even, overflow and underflow', () => {
    expect(float32ToFloat16(65519)).toBe(0x7bff);
    expect(float32ToFloat16(65520)).toBe(0x7c00); // tie between 65504 and 65536 → even → Infinity
    expect(float32ToFloat16(1e10)).toBe(0x7c00);
    expect(float32ToFloat16(-1e10)).toBe(0xfc00);
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (rounds up)
    expect(float32ToFloat16(2 ** -25)).toBe(0x0000); // tie between 0 and min subnormal → 0
    expect(float32ToFloat16(2 ** -25 * 1.5)).toBe(0x0001);
    expect(float32ToFloat16(2 ** -26)).toBe(0x0000);
    expect(float32ToFloat16(-(2 ** -26))).toBe(0x8000);
    expect(float32ToFloat16(3 * 2 ** -25)).toBe(0x0002); // subnormal tie 1.5 ulp → 2 (even)
    expect(isNaNBits16(float32ToFloat16(NaN))).toBe(true);
  });

  test('the table conversion matches the scalar one', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const table = float16ArrayToFloat32(bits);
    for (let i = 0; i < 65536; i++) {
      const scalar = Math.fround(float16ToFloat32(i));
      if (!(Object.is(table[i], scalar) || (Number.isNaN(table[i]) && Number.isNaN(scalar)))) throw new Error(`0x${i.toString(16)}`);
    }
  });
});

describe('bfloat16', () => {
  test('known values and round trip of every non-NaN pattern', () => {
    expect(bfloat16ToFloat32(0x3f80)).toBe(1);
    expect(bfloat16ToFloat32(0xc000)).toBe(-2);
    expect(bfloat16ToFloat32(0x7f80)).toBe(Infinity);
    for (let bits = 0; bits < 65536; bits++) {
      const isNaN = (bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0;
      const back = float32ToBfloat16(bfloat16ToFloat32(bits));
      if (isNaN) expect(Number.isNaN(bfloat16ToFloat32(back))).toBe(true);
      else if (back !== bits) throw new Error(`0x${bits.toString(16)} came back as 0x${back.toString(16)}`);
    }
  });

  test('rounds to nearest even', () => {
    expect(float32ToBfloat16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(float32ToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie → even (up)
    expect(float32ToBfloat16(1 + 2 ** -8 + 2 ** -12)).toBe(0x3f81);
    expect(Array.from(bfloat16ArrayToFloat32(new Uint16Array([0x3f80, 0xbf80])))).toEqual([1, -1]);
  });
});
