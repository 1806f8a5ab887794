// Which stored weight elements stand for an exact zero: a float that is ±0, or a quantized integer
// equal to its zero point (DequantizeLinear, MatMulInteger and friends: y = (q − zp)·scale, so
// q = zp is exactly 0 whatever the scale), or a MatMulNBits nibble equal to its block's zero point.
// Each reader returns one flag per stored element (1 = non-zero) and throws when the values are
// not in the file; keepMaskOfStored turns the flags into W's orientation (C_out × C_in).
import { readTensor, tensorToFloat32, type TensorArray } from '../onnx/tensor.ts';
import { DataType, type TensorProto } from '../onnx/types.ts';
import type { KeepMask } from '../prune/types.ts';
import { isExternal, tensorDims } from './proto.ts';
import type { WeightLayout } from './types.ts';

/** A weight whose values cannot be read; the message says why, for the analysis notes. */
export class UnreadableWeight extends Error {
  override name = 'UnreadableWeight';
}

/** Why the tensor's values are not in the file, or null when they are (checked without throwing). */
export function payloadProblem(tensor: TensorProto): string | null {
  if (isExternal(tensor)) return 'its values are in an external data file';
  const held =
    tensor.rawData !== undefined || tensor.floatData !== undefined || tensor.int32Data !== undefined ||
    tensor.int64Data !== undefined || tensor.doubleData !== undefined || tensor.uint64Data !== undefined;
  return held ? null : 'the file holds its shape but no values';
}

/** The tensor's values; throws UnreadableWeight (not a format error) when they are elsewhere. */
function values(tensor: TensorProto): TensorArray {
  const problem = payloadProblem(tensor);
  if (problem !== null) throw new UnreadableWeight(problem);
  try {
    return readTensor(tensor).data;
  } catch (error) {
    throw new UnreadableWeight((error as Error).message);
  }
}

/** The sign bit of a 16-bit or 8-bit float: ±0 are the patterns with every other bit clear. */
const MAGNITUDE_BITS: Partial<Record<number, number>> = {
  [DataType.FLOAT16]: 0x7fff,
  [DataType.BFLOAT16]: 0x7fff,
  [DataType.FLOAT8E4M3FN]: 0x7f,
  [DataType.FLOAT8E5M2]: 0x7f,
  // The FNUZ formats have no −0: 0x80 is their NaN.
  [DataType.FLOAT8E4M3FNUZ]: 0xff,
  [DataType.FLOAT8E5M2FNUZ]: 0xff,
};

/** Flags of a plain (float or integer) tensor: non-zero elements. */
export function plainNonZero(tensor: TensorProto): Uint8Array {
  const data = values(tensor);
  const flags = new Uint8Array(data.length);
  const mask = MAGNITUDE_BITS[tensor.dataType ?? 0];
  if (mask !== undefined) {
    const bits = data as Uint16Array | Uint8Array;
    for (let i = 0; i < bits.length; i++) flags[i] = (bits[i] & mask) === 0 ? 0 : 1;
  } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) flags[i] = data[i] === 0n ? 0 : 1;
  } else {
    const numbers = data as Float32Array;
    for (let i = 0; i < numbers.length; i++) flags[i] = numbers[i] === 0 ? 0 : 1;
  }
  return flags;
}

function numbers(tensor: TensorProto): ArrayLike<number> {
  const data = values(tensor);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return data as ArrayLike<number>;
}

/**
 * Flags of a 2-D quantized tensor [d0, d1] against its zero point, which is per tensor (absent,
 * or one element), per axis (1-D of dims[axis]) or blocked along `axis` (DequantizeLinear
 * opset 21: same rank, dims[axis] / blockSize rounded up).
 */
export function quantizedNonZero(quantized: TensorProto, zeroPoint: TensorProto | undefined, axis: number, blockSize: number): Uint8Array {
  const q = numbers(quantized);
  const dims = tensorDims(quantized);
  if (dims.length !== 2) throw new UnreadableWeight(`a ${dims.length}-D quantized weight is not read`);
  const d1 = dims[1];
  const flags = new Uint8Array(q.length);
  const zp = zeroPoint === undefined ? [0] : numbers(zeroPoint);
  const zpDims = zeroPoint === undefined ? [] : tensorDims(zeroPoint);
  const along = axis < 0 ? axis + 2 : axis;
  if (zp.length === 1) {
    for (let i = 0; i < q.length; i++) flags[i] = q[i] === zp[0] ? 0 : 1;
  } else if (zpDims.length === 1 && zp.length === dims[along]) {
    for (let i = 0; i < q.length; i++) flags[i] = q[i] === zp[along === 0 ? Math.floor(i / d1) : i % d1] ? 0 : 1;
  } else if (blockSize > 0 && zpDims.length === 2) {
    const zpCols = zpDims[1];
    for (let i = 0; i < q.length; i++) {
      const [r, c] = [Math.floor(i / d1), i % d1];
      const at = along === 0 ? Math.floor(r / blockSize) * zpCols + c : r * zpCols + Math.floor(c / blockSize);
      flags[i] = q[i] === zp[at] ? 0 : 1;
    }
  } else {
    throw new UnreadableWeight(`its zero point [${zpDims.join(', ')}] is neither per tensor, per axis ${along} nor blocked`);
  }
  return flags;
}

/** MatMulNBits' B: [N, blocks, blob] bytes, K values per row in blocks of blockSize, `bits` each. */
export interface NBitsWeight {
  packed: TensorProto;
  /** uint8 packed like B (one value per block) or floats like the scales; absent: 2^(bits−1). */
  zeroPoints: TensorProto | undefined;
  n: number;
  k: number;
  bits: number;
  blockSize: number;
}

/** Flags of MatMulNBits' weight in W's orientation [N, K] (com.microsoft MatMulNBits spec). */
export function nBitsNonZero(weight: NBitsWeight): Uint8Array {
  const { n, k, bits, blockSize } = weight;
  if (![2, 4, 8].includes(bits)) throw new UnreadableWeight(`${bits}-bit packing is not read`);
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const bytes = values(weight.packed) as Uint8Array;
  if (bytes.length < n * blocks * blob) throw new UnreadableWeight(`B holds ${bytes.length} bytes, fewer than N·blocks·blob = ${n * blocks * blob}`);
  const zeroPoint = nBitsZeroPoints(weight, blocks);
  const flags = new Uint8Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < k; col++) {
      const block = Math.floor(col / blockSize);
      const t = col % blockSize;
      const byte = bytes[row * blocks * blob + block * blob + Math.floor(t / perByte)];
      const q = (byte >> ((t % perByte) * bits)) & mask;
      flags[row * k + col] = q === zeroPoint(row, block) ? 0 : 1;
    }
  }
  return flags;
}

function nBitsZeroPoints(weight: NBitsWeight, blocks: number): (row: number, block: number) => number {
  const { zeroPoints, bits } = weight;
  if (zeroPoints === undefined) return () => 1 << (bits - 1);
  if (zeroPoints.dataType === DataType.UINT8) {
    const perByte = 8 / bits;
    const bytesPerRow = Math.ceil(blocks / perByte);
    const packed = values(zeroPoints) as Uint8Array;
    return (row, block) => (packed[row * bytesPerRow + Math.floor(block / perByte)] >> ((block % perByte) * bits)) & ((1 << bits) - 1);
  }
  try {
    const floats = tensorToFloat32(zeroPoints);
    return (row, block) => floats[row * blocks + block];
  } catch (error) {
    throw new UnreadableWeight(`its zero points are unreadable: ${(error as Error).message}`);
  }
}

/** Stored-order flags → keep mask of W (C_out × C_in); 'in_out' stores Wᵀ. */
export function keepMaskOfStored(flags: Uint8Array, layout: WeightLayout, rows: number, cols: number): KeepMask {
  if (flags.length !== rows * cols) throw new UnreadableWeight(`${flags.length} values do not fill ${rows} x ${cols}`);
  if (layout === 'out_in') return { rows, cols, data: flags };
  const data = new Uint8Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) data[r * cols + c] = flags[c * rows + r];
  return { rows, cols, data };
}

export function countZeroFlags(flags: Uint8Array): number {
  let zeros = 0;
  for (let i = 0; i < flags.length; i++) zeros += 1 - flags[i];
  return zeros;
}
