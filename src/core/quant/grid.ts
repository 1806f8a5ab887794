// The grids a quantized group's values lie on, for the views (docs/quantization.md, "Weight
// histogram"): an integer grid's levels (q − z)·s, q = 0 … 2^b − 1, from a group's scale and zero
// point; an MX block's levels ±element · 2^e, its shared exponent recovered from the block's
// dequantized values.
import { mxElementValues, mxSharedExponent, MX_FORMATS, MX_SCALE_NAN_EXPONENT, type MxFormat } from './mx.ts';

/** Every value a group with this scale and zero point can take, ascending (a negative scale is not produced by the quantizers). */
export function intGridLevels(bits: number, scale: number, zeroPoint: number): Float64Array {
  const levels = new Float64Array(2 ** bits);
  for (let q = 0; q < levels.length; q++) levels[q] = (q - zeroPoint) * scale;
  return scale < 0 ? levels.reverse() : levels;
}

/**
 * An MX block's shared exponent from its DEQUANTIZED values. Exact: the block's largest input
 * x has ⌊log₂ |x|⌋ = e + emax, its element |x| / 2^e lies in [2^emax, max] after rounding and
 * saturation (max < 2^(emax+1) for every MX element format), so ⌊log₂⌋ of the largest
 * dequantized value gives e back. Blocks that underflowed to all zeros give the all-zero exponent.
 */
export function mxBlockExponent(values: ArrayLike<number>, format: MxFormat): number {
  let amax = 0;
  for (let i = 0; i < values.length; i++) {
    const magnitude = Math.abs(values[i]);
    if (!(magnitude <= amax)) amax = magnitude; // NaN sticks
  }
  return mxSharedExponent(amax, format);
}

/** The block's levels: ±(every element value) · 2^exponent, ascending; empty for the NaN scale. */
export function mxBlockLevels(exponent: number, format: MxFormat): Float64Array {
  if (exponent === MX_SCALE_NAN_EXPONENT) return new Float64Array(0);
  const positive = mxElementValues(format);
  const scale = 2 ** exponent;
  const levels = new Float64Array(positive.length * 2 - 1);
  positive.forEach((v, i) => {
    levels[positive.length - 1 - i] = -v * scale;
    levels[positive.length - 1 + i] = v * scale;
  });
  return levels;
}

/** The largest magnitude an MX block with this exponent represents (values beyond saturate). */
export const mxBlockMax = (exponent: number, format: MxFormat): number => MX_FORMATS[format].max * 2 ** exponent;
