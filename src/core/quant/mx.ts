// OCP Microscaling Formats (MX) v1.0: blocks of 32 consecutive weights along C_in share one
// power-of-two scale X (an E8M0 exponent); each weight is stored as an element of a narrow format.
// Quantize-dequantize only (the lab simulates MX: the dequantized weights are stored in fp32).
//
// Follows microsoft/microxcaling's `_quantize_mx` (mx/mx_ops.py) and `_quantize_elemwise_core`
// (mx/elemwise_ops.py), with two deliberate differences, both toward the spec:
//   - elements round to nearest, ties to even (the reference's default round='nearest' sends
//     ties away from zero; its round='even' is what this file does);
//   - floor(log2(amax)) is exact. The reference takes torch.log2 in float32, which rounds a value
//     one ulp below a power of two up to that power, doubling the scale of such blocks.
// See docs/quantization.md, "Microscaling (MX)".
import type { Matrix } from './types.ts';

/** An MX element format, as the spec's table gives it. */
export interface MxElementFormat {
  /** Exponent bits; 0 for INT8. */
  ebits: number;
  /** Stored mantissa (fraction) bits. INT8: 6, the fraction bits of its fixed point (scale 2^-6). */
  mbits: number;
  /** emax_elem: exponent of the largest normal; the shared scale is 2^(⌊log₂ amax⌋ − emax). */
  emax: number;
  /** Exponent of the smallest normal (1 − bias); values below it are subnormals. INT8: 0 (fixed point). */
  emin: number;
  /** Largest magnitude; conversion saturates here (E4M3 has no infinities: 448; E5M2: 57344). */
  max: number;
  /** Bits per stored element. */
  elementBits: number;
}

/**
 * The concrete MX formats by the recipe's names (recipe/stages/quantize.ts MxFormatName); their
 * element types are microxcaling's fp4_e2m1, fp6_e2m3, fp6_e3m2, fp8_e4m3, fp8_e5m2 and int8.
 */
export const MX_FORMATS = {
  mxfp4: { ebits: 2, mbits: 1, emax: 2, emin: 0, max: 6, elementBits: 4 },
  'mxfp6-e2m3': { ebits: 2, mbits: 3, emax: 2, emin: 0, max: 7.5, elementBits: 6 },
  'mxfp6-e3m2': { ebits: 3, mbits: 2, emax: 4, emin: -2, max: 28, elementBits: 6 },
  'mxfp8-e4m3': { ebits: 4, mbits: 3, emax: 8, emin: -6, max: 448, elementBits: 8 },
  'mxfp8-e5m2': { ebits: 5, mbits: 2, emax: 15, emin: -14, max: 57344, elementBits: 8 },
  // Two's complement with an implicit scale of 2^-6. Saturates symmetrically at ±127/64, as the
  // reference does: −2 (code −128) is representable but never produced.
  mxint8: { ebits: 0, mbits: 6, emax: 0, emin: 0, max: 127 / 64, elementBits: 8 },
} as const satisfies Record<string, MxElementFormat>;

export type MxFormat = keyof typeof MX_FORMATS;

export const MX_FORMAT_NAMES = Object.keys(MX_FORMATS) as MxFormat[];

/** Elements per block (k = 32 for every concrete MX format). */
export const MX_BLOCK_SIZE = 32;

/** Unbiased E8M0 exponents run from −127 to 127; code 0xFF (here 128) is NaN. */
export const MX_SCALE_MIN_EXPONENT = -127;
export const MX_SCALE_MAX_EXPONENT = 127;
export const MX_SCALE_NAN_EXPONENT = 128;

/** ⌊log₂ x⌋ for a positive finite x, exactly (Math.log2 alone may round across a power of two). */
export function floorLog2(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e -= 1;
  else if (2 ** (e + 1) <= x) e += 1;
  return e;
}

/** Round a non-negative number to the nearest integer, ties to even. */
function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const fraction = q - floor; // exact: q and floor share an exponent range
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The element value nearest to `value` (ties to even), saturating at ±max. Subnormals are kept.
 * NaN stays NaN; ±Infinity saturates to ±max (a saturating conversion; inside mxQuantize a block
 * holding an infinity gets a NaN scale instead, so elements never see one).
 */
export function castToMxElement(value: number, format: MxFormat): number {
  if (Number.isNaN(value)) return NaN;
  const f: MxElementFormat = MX_FORMATS[format];
  const magnitude = Math.abs(value);
  let rounded = f.max;
  if (magnitude !== Infinity) {
    // The step between neighbours in the binade of `magnitude` (fixed 2^-mbits for INT8; below
    // the smallest normal the subnormal step). Values past max round on the coarser grid of
    // their own binade, then saturate — as the reference's _quantize_elemwise_core does.
    const exponent = f.ebits === 0 || magnitude === 0 ? f.emin : Math.max(floorLog2(magnitude), f.emin);
    const step = 2 ** (exponent - f.mbits);
    rounded = Math.min(roundHalfEven(magnitude / step) * step, f.max);
  }
  return value < 0 || Object.is(value, -0) ? -rounded : rounded;
}

/** Every non-negative value of the element format, ascending (zero, subnormals, normals up to max). */
export function mxElementValues(format: MxFormat): Float64Array {
  const f: MxElementFormat = MX_FORMATS[format];
  const values: number[] = [];
  if (f.ebits === 0) {
    for (let k = 0; k * 2 ** -f.mbits <= f.max; k++) values.push(k * 2 ** -f.mbits);
    return Float64Array.from(values);
  }
  const mantissas = 2 ** f.mbits;
  for (let k = 0; k < mantissas; k++) values.push(k * 2 ** (f.emin - f.mbits)); // zero, subnormals
  for (let e = f.emin; 2 ** e <= f.max; e++) {
    for (let k = 0; k < mantissas; k++) {
      const v = (1 + k / mantissas) * 2 ** e;
      if (v <= f.max) values.push(v);
    }
  }
  return Float64Array.from(values);
}

/**
 * The block's shared exponent: ⌊log₂ amax⌋ − emax, clamped below at −127 (tiny blocks then
 * underflow to subnormal elements or zero). NaN or ±Infinity in the block (amax not finite) gives
 * the NaN scale, and every value of the block decodes to NaN. An all-zero block: any scale encodes
 * it; like the reference, take log₂ of FP32's smallest normal (−126), so −127 (INT8: −126).
 */
export function mxSharedExponent(amax: number, format: MxFormat): number {
  if (!Number.isFinite(amax)) return MX_SCALE_NAN_EXPONENT;
  const exponent = (amax === 0 ? -126 : floorLog2(amax)) - MX_FORMATS[format].emax;
  if (exponent > MX_SCALE_MAX_EXPONENT) return MX_SCALE_NAN_EXPONENT; // not reachable from float32
  return Math.max(exponent, MX_SCALE_MIN_EXPONENT);
}

export interface MxQuantized {
  format: MxFormat;
  /** The dequantized weight, C_out × C_in: element · 2^exponent, exact in float32. */
  weight: Matrix;
  /** C_out × blocksPerRow unbiased E8M0 exponents, row-major; MX_SCALE_NAN_EXPONENT for NaN. */
  scaleExponents: Int16Array;
  blocksPerRow: number;
  elementBits: number;
  /** (32 · elementBits + 8) / 32: elements plus one 8-bit scale per full block. */
  bitsPerWeight: number;
}

/**
 * MX quantize-dequantize of a weight, blocks of 32 along each row (C_in). When C_in is not a
 * multiple of 32 the last block of each row is shorter (the reference pads it with zeros, which
 * changes nothing); bitsPerWeight still counts full blocks.
 */
export function mxQuantize(weight: Matrix, format: MxFormat): MxQuantized {
  const { rows, cols, data } = weight;
  if (data.length !== rows * cols) throw new RangeError(`mxQuantize: ${rows} x ${cols} weight has ${data.length} values`);
  const blocksPerRow = Math.ceil(cols / MX_BLOCK_SIZE);
  const out = new Float32Array(rows * cols);
  const scaleExponents = new Int16Array(rows * blocksPerRow);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocksPerRow; b++) {
      const start = r * cols + b * MX_BLOCK_SIZE;
      const end = r * cols + Math.min((b + 1) * MX_BLOCK_SIZE, cols);
      let amax = 0;
      for (let i = start; i < end; i++) {
        const magnitude = Math.abs(data[i]);
        if (!(magnitude <= amax)) amax = Number.isNaN(magnitude) ? NaN : magnitude; // NaN sticks
        if (Number.isNaN(amax)) break;
      }
      const exponent = mxSharedExponent(amax, format);
      scaleExponents[r * blocksPerRow + b] = exponent;
      if (exponent === MX_SCALE_NAN_EXPONENT) {
        out.fill(NaN, start, end);
        continue;
      }
      // V / X and P · X are exact in float64 (X is a power of two); P · X is a float32 value.
      const scale = 2 ** exponent;
      for (let i = start; i < end; i++) out[i] = castToMxElement(data[i] / scale, format) * scale;
    }
  }
  const { elementBits } = MX_FORMATS[format];
  return {
    format,
    weight: { rows, cols, data: out },
    scaleExponents,
    blocksPerRow,
    elementBits,
    bitsPerWeight: (MX_BLOCK_SIZE * elementBits + 8) / MX_BLOCK_SIZE,
  };
}
