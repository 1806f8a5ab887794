// Bit conversions for the 16-bit float formats ONNX stores as uint16 bit patterns
// (onnx.proto: "(b)float16 values MUST be converted bit-wise into an unsigned integer").

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits → number (exact: every half is a float32). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * number → binary16 bits, rounding to nearest even (the value is first rounded to float32).
 * Overflow gives ±Infinity, underflow ±0; NaN stays a quiet NaN.
 */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent32 = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent32 === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const exponent = exponent32 - 127 + 15;
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    // Subnormal half: value / 2^-24 = (1.mantissa) * 2^(exponent - 14 + 24) → shift right.
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    return sign | roundShift(mantissa, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  return sign | (((exponent << 10) | (mantissa >>> 13)) + roundingIncrement(mantissa, 13));
}

function roundingIncrement(value: number, shift: number): number {
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  const kept = value >>> shift;
  return remainder > half || (remainder === half && (kept & 1) === 1) ? 1 : 0;
}

function roundShift(value: number, shift: number): number {
  return (value >>> shift) + roundingIncrement(value, shift);
}

/** bfloat16 bits → number: the upper half of a float32. */
export function bfloat16ToFloat32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

/** number → bfloat16 bits, rounding to nearest even; NaN stays a quiet NaN. */
export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

let float16Table: Float32Array | undefined;

/** Converts many float16 bit patterns at once through a 65536-entry table built on first use. */
export function float16ArrayToFloat32(bits: Uint16Array): Float32Array {
  if (float16Table === undefined) {
    float16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) float16Table[i] = float16ToFloat32(i);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16Table[bits[i]];
  return out;
}

export function bfloat16ArrayToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}
