// The bytes of a QuantizedWeight in the two layouts onnxruntime runs: com.microsoft.MatMulNBits'
// blocks and DequantizeLinear's (opset 21) blocked integer tensor. Pure array work, no graph:
// matMulNBits.ts and dequantizeLinear.ts put these tensors into a model. The layouts were
// checked against onnxruntime-web 1.30 (docs/quantized-export.md).
//
// MatMulNBits (ORT docs/ContribOperators.md, and the Python matmul_nbits_quantizer.py):
//   B            uint8 [N, n_blocks, blob], blob = block_size·bits/8; row n of W (C_out × C_in,
//                N = C_out, K = C_in) packed along K, first value in the least significant bits
//   scales       float32 [N, n_blocks]
//   zero_points  uint8 [N, ⌈n_blocks·bits/8⌉] packed like B (each row starts on a byte), or
//                float32 [N, n_blocks]; absent = 2^(bits−1)
//   g_idx        int32 [K]: the block of each input column (GPTQ act-order)
// DequantizeLinear (ONNX opset 21, blocked): q of the stored weight's shape, scale and zero point
// of that shape with dims[axis] = ⌈dims[axis] / block_size⌉, y = (q − zero_point)·scale.
import { packSubByte } from '../../onnx/tensor.ts';
import type { QuantizedWeight } from '../types.ts';

/** A QuantizedWeight a writer cannot store in the asked format; the message says why and what to use. */
export class QuantExportError extends Error {
  override name = 'QuantExportError';
}

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The smallest block_size MatMulNBits accepts (a power of two, ORT's MatMulNBits spec). */
export const MIN_NBITS_BLOCK = 16;

/**
 * The largest block_size MatMulNBits accepts: onnxruntime 1.30's kernel refuses anything but 16,
 * 32, 64, 128 and 256. A larger group (a per-row weight of C_in > 256) is written as several
 * blocks that repeat the group's scale and zero point, which dequantizes to the same Ŵ.
 */
export const MAX_NBITS_BLOCK = 256;

/** Widths onnxruntime-web 1.30's MatMulNBits kernel runs (its constructor refuses others). */
export const NBITS_WIDTHS: readonly number[] = [2, 4, 8];

/** Problems that make a QuantizedWeight unreadable whatever the format: shapes and code ranges. */
export function quantizedWeightProblem(q: QuantizedWeight): string | null {
  if (!(Number.isInteger(q.bits) && q.bits >= 1 && q.bits <= 8)) return `bits must be an integer in 1…8, got ${q.bits}`;
  if (!(q.groupSize >= 1) || q.groups !== Math.ceil(q.cols / q.groupSize)) return `groups ${q.groups} is not ⌈cols / groupSize⌉ = ⌈${q.cols} / ${q.groupSize}⌉`;
  if (q.codes.length !== q.rows * q.cols) return `codes hold ${q.codes.length} values, not rows·cols = ${q.rows * q.cols}`;
  if (q.scales.length !== q.rows * q.groups || q.zeroPoints.length !== q.rows * q.groups) return `scales and zeroPoints must hold rows·groups = ${q.rows * q.groups} values`;
  const max = 2 ** q.bits - 1;
  if (q.codes.some((c) => c > max)) return `a code exceeds 2^bits − 1 = ${max}`;
  if (q.zeroPoints.some((z) => z > max)) return `a zero point exceeds 2^bits − 1 = ${max}`;
  if (q.symmetric && q.zeroPoints.some((z) => z !== 2 ** (q.bits - 1))) return `symmetric, but a zero point is not 2^(bits−1) = ${2 ** (q.bits - 1)}`;
  if (q.groupIndex) {
    if (q.groupIndex.length !== q.cols) return `groupIndex holds ${q.groupIndex.length} entries, not cols = ${q.cols}`;
    if (q.groupIndex.some((g) => g < 0 || g >= q.groups)) return `a groupIndex entry is outside 0…${q.groups - 1}`;
  }
  return null;
}

/**
 * MatMulNBits' block_size for a weight: its group size, which must be a power of two ≥ 16, capped
 * at 256 (a group then spans several blocks); a per-row weight (one group) takes the next power of
 * two ≥ C_in up to 256, so its blocks — the last one padded — all carry the row's scale.
 */
export function nBitsBlockSize(q: Pick<QuantizedWeight, 'cols' | 'groupSize' | 'groups'>): number | string {
  if (q.groups === 1) return Math.min(MAX_NBITS_BLOCK, Math.max(MIN_NBITS_BLOCK, nextPowerOfTwo(q.cols)));
  if (isPowerOfTwo(q.groupSize) && q.groupSize >= MIN_NBITS_BLOCK) return Math.min(MAX_NBITS_BLOCK, q.groupSize);
  return `group size ${q.groupSize} is not a power of two ≥ ${MIN_NBITS_BLOCK}, which MatMulNBits' block_size must be (DequantizeLinear takes any block size)`;
}

/** The group whose scale and zero point block b of a row carries (blocks never straddle groups). */
const groupOfBlock = (q: Pick<QuantizedWeight, 'groupSize' | 'groups'>, blockSize: number, block: number) => Math.min(q.groups - 1, Math.floor((block * blockSize) / q.groupSize));

/** Why MatMulNBits on onnxruntime-web 1.30 cannot run this weight, or null. */
export function matMulNBitsProblem(q: QuantizedWeight): string | null {
  const shape = quantizedWeightProblem(q);
  if (shape) return shape;
  if (!NBITS_WIDTHS.includes(q.bits)) return `${q.bits}-bit codes: onnxruntime's MatMulNBits kernel runs 2, 4 and 8 bits only (use the simulated writer)`;
  const block = nBitsBlockSize(q);
  if (typeof block === 'string') return block;
  // Probed on onnxruntime-web 1.30 (quantized-export.md): with g_idx, 8 bits is refused at run
  // time and 2 bits gives wrong outputs; 4 bits is right with float (or absent) zero points.
  if (q.groupIndex && q.groupSize > MAX_NBITS_BLOCK) return `act-order groups (g_idx) of ${q.groupSize} inputs: MatMulNBits blocks hold at most ${MAX_NBITS_BLOCK}, and g_idx names one block per group`;
  if (q.groupIndex && q.bits !== 4) return `act-order groups (g_idx) at ${q.bits} bits: onnxruntime runs g_idx at 4 bits only (it refuses 8 bits and computes 2 bits wrongly)`;
  return null;
}

/** MatMulNBits' tensors for one weight; see the file header for the layouts. */
export interface NBitsPacked {
  /** N = C_out, K = C_in. */
  n: number;
  k: number;
  bits: number;
  blockSize: number;
  blocks: number;
  blobSize: number;
  /** [N, blocks, blobSize] */
  packed: Uint8Array;
  /** [N, blocks] */
  scales: Float32Array;
  /**
   * Absent when symmetric. 'packed' is [N, rowBytes] uint8; 'float' is [N, blocks] float32,
   * written with g_idx because onnxruntime 1.30's g_idx path ignores packed zero points.
   */
  zeroPoints: { kind: 'packed'; data: Uint8Array; rowBytes: number } | { kind: 'float'; data: Float32Array } | null;
  /** [K] block of each input column, or null. */
  groupIndex: Int32Array | null;
}

/**
 * Packs a QuantizedWeight for MatMulNBits. Groups map to blocks one to one (`scales` is q.scales)
 * unless a group is wider than 256 inputs, when its blocks repeat its scale and zero point; a last
 * block that runs past K is padded with its zero point (a 0 weight).
 * Throws QuantExportError when matMulNBitsProblem says no.
 */
export function packMatMulNBits(q: QuantizedWeight): NBitsPacked {
  const problem = matMulNBitsProblem(q);
  if (problem) throw new QuantExportError(`MatMulNBits: ${problem}`);
  const blockSize = nBitsBlockSize(q) as number;
  const { rows: n, cols: k, bits } = q;
  const blocks = Math.ceil(k / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const perByte = 8 / bits;
  const packed = new Uint8Array(n * blocks * blobSize);
  for (let row = 0; row < n; row++) {
    for (let block = 0; block < blocks; block++) {
      const blob = (row * blocks + block) * blobSize;
      const padding = q.zeroPoints[row * q.groups + groupOfBlock(q, blockSize, block)];
      for (let t = 0; t < blockSize; t++) {
        const col = block * blockSize + t;
        const code = col < k ? q.codes[row * k + col] : padding;
        packed[blob + Math.floor(t / perByte)] |= code << ((t % perByte) * bits);
      }
    }
  }
  const scales = new Float32Array(n * blocks);
  for (let row = 0; row < n; row++) for (let block = 0; block < blocks; block++) scales[row * blocks + block] = q.scales[row * q.groups + groupOfBlock(q, blockSize, block)];
  return { n, k, bits, blockSize, blocks, blobSize, packed, scales, zeroPoints: nBitsZeroPoints(q, blockSize, blocks), groupIndex: q.groupIndex ? Int32Array.from(q.groupIndex) : null };
}

function nBitsZeroPoints(q: QuantizedWeight, blockSize: number, blocks: number): NBitsPacked['zeroPoints'] {
  if (q.symmetric) return null;
  if (q.groupIndex) return { kind: 'float', data: Float32Array.from(q.zeroPoints) };
  const perByte = 8 / q.bits;
  const rowBytes = Math.ceil(blocks / perByte);
  const data = new Uint8Array(q.rows * rowBytes);
  for (let row = 0; row < q.rows; row++) {
    for (let block = 0; block < blocks; block++) {
      data[row * rowBytes + Math.floor(block / perByte)] |= q.zeroPoints[row * q.groups + groupOfBlock(q, blockSize, block)] << ((block % perByte) * q.bits);
    }
  }
  return { kind: 'packed', data, rowBytes };
}

/** Why DequantizeLinear (opset 21) cannot hold this weight, or null. */
export function dequantizeLinearProblem(q: QuantizedWeight): string | null {
  const shape = quantizedWeightProblem(q);
  if (shape) return shape;
  if (q.bits !== 4 && q.bits !== 8) return `${q.bits}-bit codes: DequantizeLinear stores int4/uint4 and int8/uint8 at opset 21 (int2/uint2 need opset 25, which the lab does not raise a model to)`;
  if (q.groupIndex) return 'act-order groups (g_idx): DequantizeLinear blocks are runs of consecutive inputs, so a column-to-group map cannot be expressed (use MatMulNBits at 4 bits)';
  return null;
}

/** DequantizeLinear's tensors for one weight in its stored orientation. */
export interface BlockedPacked {
  /** 'int4'/'int8' when symmetric (codes − 2^(bits−1), no zero point), else 'uint4'/'uint8'. */
  dtype: 'int4' | 'uint4' | 'int8' | 'uint8';
  /** The stored weight's dims: [C_in, C_out] for 'in_out', [C_out, C_in] for 'out_in'. */
  dims: [number, number];
  /** The axis along C_in, the one blocks run along. */
  axis: 0 | 1;
  blockSize: number;
  /** raw_data of the quantized weight (4-bit values two per byte, first in the low bits). */
  data: Uint8Array;
  /** Same rank as the weight, dims[axis] = groups. */
  scaleDims: [number, number];
  scales: Float32Array;
  /** raw_data of the zero point (same dtype and dims as the scales), or null when symmetric. */
  zeroPoints: Uint8Array | null;
}

/**
 * Packs a QuantizedWeight for DequantizeLinear, stored the way the layer stores its float weight
 * ('in_out': Wᵀ as [C_in, C_out], blocks along axis 0). Throws QuantExportError.
 */
export function packDequantizeLinear(q: QuantizedWeight, layout: 'in_out' | 'out_in'): BlockedPacked {
  const problem = dequantizeLinearProblem(q);
  if (problem) throw new QuantExportError(`DequantizeLinear: ${problem}`);
  const offset = q.symmetric ? 2 ** (q.bits - 1) : 0;
  const dtype = q.symmetric ? (q.bits === 4 ? 'int4' : 'int8') : q.bits === 4 ? 'uint4' : 'uint8';
  const inOut = layout === 'in_out';
  // Element (r, c) of W and entry (r, g) of the scales, at their place in the stored orientation.
  const at = (r: number, c: number, cols: number, rows: number) => (inOut ? c * rows + r : r * cols + c);
  const values = new Int32Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) for (let c = 0; c < q.cols; c++) values[at(r, c, q.cols, q.rows)] = q.codes[r * q.cols + c] - offset;
  const scales = new Float32Array(q.rows * q.groups);
  const zeros = new Int32Array(q.rows * q.groups);
  for (let r = 0; r < q.rows; r++) {
    for (let g = 0; g < q.groups; g++) {
      scales[at(r, g, q.groups, q.rows)] = q.scales[r * q.groups + g];
      zeros[at(r, g, q.groups, q.rows)] = q.zeroPoints[r * q.groups + g];
    }
  }
  const bytes = (v: Int32Array) => (q.bits === 4 ? packSubByte(v, 4) : Uint8Array.from(v, (x) => x & 0xff));
  return {
    dtype,
    dims: inOut ? [q.cols, q.rows] : [q.rows, q.cols],
    axis: inOut ? 0 : 1,
    blockSize: q.groupSize,
    data: bytes(values),
    scaleDims: inOut ? [q.groups, q.rows] : [q.rows, q.groups],
    scales,
    zeroPoints: q.symmetric ? null : bytes(zeros),
  };
}
