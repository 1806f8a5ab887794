// The byte layouts, written out by hand from the specs (ORT ContribOperators.md MatMulNBits; ONNX
// DequantizeLinear-21), and the analytic sizes against the packed arrays' lengths.
import { describe, expect, test } from 'vitest';
import type { QuantizedWeight } from '../types.ts';
import { dequantizeLinearProblem, matMulNBitsProblem, nBitsBlockSize, packDequantizeLinear, packMatMulNBits } from './pack.ts';
import { analyticPackedBytes, formatOf } from './size.ts';
import { seededWeight, tinyRtn } from './testing/exportFixtures.ts';

/** A weight given by its codes, one scale 1 per group, zero points `zp` per group. */
function fromCodes(codes: number[][], bits: number, groupSize: number, zp: number[][] | null): QuantizedWeight {
  const rows = codes.length;
  const cols = codes[0].length;
  const groups = Math.ceil(cols / groupSize);
  const half = 2 ** (bits - 1);
  return {
    rows, cols, bits, groupSize, groups, symmetric: zp === null,
    codes: Uint8Array.from(codes.flat()),
    scales: new Float32Array(rows * groups).fill(1),
    zeroPoints: Uint8Array.from(zp ? zp.flat() : new Array<number>(rows * groups).fill(half)),
  };
}

const ramp = (row: number, cols: number, bits: number) => Array.from({ length: cols }, (_, c) => (row * 3 + c) % 2 ** bits);

describe('MatMulNBits layout', () => {
  test('4 bits: two codes a byte, first in the low nibble; blocks follow each other within a row', () => {
    const codes = [ramp(0, 32, 4), ramp(1, 32, 4)];
    const p = packMatMulNBits(fromCodes(codes, 4, 16, null));
    expect(p).toMatchObject({ n: 2, k: 32, blockSize: 16, blocks: 2, blobSize: 8, zeroPoints: null, groupIndex: null });
    // Row 0: codes 0,1,2,…,15 | 0,1,… → bytes 0x10, 0x32, 0x54, …
    expect([...p.packed.subarray(0, 3)]).toEqual([0x10, 0x32, 0x54]);
    // Row 1 starts at byte N-stride 2·8 = 16 with codes 3,4 → 0x43.
    expect(p.packed[16]).toBe(0x43);
  });

  test('2 bits: four codes a byte, first in the lowest bits', () => {
    const p = packMatMulNBits(fromCodes([[1, 2, 3, 0, ...new Array(12).fill(0)]], 2, 16, null));
    expect(p.packed[0]).toBe(1 | (2 << 2) | (3 << 4));
    expect(p.blobSize).toBe(4);
  });

  test('8 bits: one code a byte', () => {
    const p = packMatMulNBits(fromCodes([ramp(0, 16, 8)], 8, 16, null));
    expect([...p.packed]).toEqual(ramp(0, 16, 8));
  });

  test('asymmetric zero points: packed like B, each row starting on a byte', () => {
    // 3 blocks a row: ⌈3·4/8⌉ = 2 bytes a row, the high nibble of the second byte unused.
    const zp = [[1, 2, 3], [4, 5, 6]];
    const p = packMatMulNBits(fromCodes([ramp(0, 48, 4), ramp(1, 48, 4)], 4, 16, zp));
    expect(p.zeroPoints).toEqual({ kind: 'packed', rowBytes: 2, data: Uint8Array.from([0x21, 0x03, 0x54, 0x06]) });
  });

  test('a short last block is padded with its zero point; per row takes one block of the next power of two ≥ 16', () => {
    const p = packMatMulNBits(fromCodes([new Array(20).fill(15)], 4, 16, [[7, 9]]));
    expect(p.blocks).toBe(2);
    // Block 1 holds codes 16…19 (15) then 12 paddings of zero point 9.
    expect([...p.packed.subarray(8, 12)]).toEqual([0xff, 0xff, 0x99, 0x99]);
    expect(nBitsBlockSize({ cols: 40, groupSize: 40, groups: 1 })).toBe(64);
    expect(nBitsBlockSize({ cols: 8, groupSize: 8, groups: 1 })).toBe(16);
    expect(nBitsBlockSize({ cols: 96, groupSize: 48, groups: 2 })).toMatch(/not a power of two/);
    // ORT's kernel takes blocks of at most 256: wider groups span several blocks.
    expect(nBitsBlockSize({ cols: 512, groupSize: 512, groups: 1 })).toBe(256);
    expect(nBitsBlockSize({ cols: 300, groupSize: 300, groups: 1 })).toBe(256);
    expect(nBitsBlockSize({ cols: 1024, groupSize: 512, groups: 2 })).toBe(256);
  });

  test('a group of 512 is written as two blocks carrying its scale and zero point', () => {
    const codes = [Array.from({ length: 1024 }, (_, c) => c % 16)];
    const p = packMatMulNBits(fromCodes(codes, 4, 512, [[3, 12]]));
    expect(p).toMatchObject({ blockSize: 256, blocks: 4 });
    expect(p.zeroPoints).toEqual({ kind: 'packed', rowBytes: 2, data: Uint8Array.from([0x33, 0xcc]) });
  });

  test('what ORT 1.30 cannot run is named', () => {
    const w = seededWeight(8, 64, 1);
    expect(matMulNBitsProblem(tinyRtn(w, 3, 16, true))).toMatch(/2, 4 and 8 bits only/);
    const gIdx = Int32Array.from({ length: 64 }, (_, c) => (c * 5) % 4);
    expect(matMulNBitsProblem(tinyRtn(w, 8, 16, true, gIdx))).toMatch(/g_idx/);
    expect(matMulNBitsProblem(tinyRtn(w, 4, 16, true, gIdx))).toBeNull();
    const broken = { ...tinyRtn(w, 4, 16, true), zeroPoints: new Uint8Array(8 * 4).fill(7) };
    expect(matMulNBitsProblem(broken)).toMatch(/symmetric, but a zero point is not 2\^\(bits−1\) = 8/);
  });
});

describe('DequantizeLinear layout', () => {
  test("symmetric 4 bits: int4 values code − 8 in the layer's stored orientation, no zero point", () => {
    const q = fromCodes([[0, 1, 15, 8], [9, 10, 11, 12]], 4, 2, null);
    const inOut = packDequantizeLinear(q, 'in_out');
    // Stored Wᵀ [4, 2]: rows are inputs. Values −8, 1 | −7, 2 | 7, 3 | 0, 4 → two's-complement nibbles.
    expect(inOut).toMatchObject({ dtype: 'int4', dims: [4, 2], axis: 0, blockSize: 2, scaleDims: [2, 2], zeroPoints: null });
    expect([...inOut.data]).toEqual([0x18, 0x29, 0x37, 0x40]);
    const outIn = packDequantizeLinear(q, 'out_in');
    expect(outIn).toMatchObject({ dims: [2, 4], axis: 1, scaleDims: [2, 2] });
    expect([...outIn.data]).toEqual([0x98, 0x07, 0x21, 0x43]);
  });

  test('asymmetric 8 bits: uint8 codes and zero points, scales transposed with the weight', () => {
    const q = { ...fromCodes([[1, 2, 3], [4, 5, 6]], 8, 2, [[10, 11], [12, 13]]), scales: Float32Array.from([1, 2, 3, 4]) };
    const p = packDequantizeLinear(q, 'in_out');
    expect(p).toMatchObject({ dtype: 'uint8', dims: [3, 2], scaleDims: [2, 2] });
    expect([...p.data]).toEqual([1, 4, 2, 5, 3, 6]);
    expect([...p.scales]).toEqual([1, 3, 2, 4]);
    expect([...p.zeroPoints!]).toEqual([10, 12, 11, 13]);
  });

  test('2 bits and act-order groups are refused with the reason', () => {
    const w = seededWeight(8, 32, 2);
    expect(dequantizeLinearProblem(tinyRtn(w, 2, 16, true))).toMatch(/opset 25/);
    expect(dequantizeLinearProblem(tinyRtn(w, 4, 16, true, Int32Array.from({ length: 32 }, (_, c) => c % 2)))).toMatch(/g_idx/);
  });
});

describe('analytic sizes', () => {
  test('by hand: 48 × 128, 4 bits, groups of 32, asymmetric, with and without g_idx', () => {
    const format = { rows: 48, cols: 128, bits: 4, groupSize: 32, symmetric: false, hasGroupIndex: false };
    // 48·128·4/8 code bytes, 48·4 groups × 4-byte scales, 48·4 zero points of 4 bits.
    expect(analyticPackedBytes(format)).toEqual({ weights: 3072, scales: 768, zeroPoints: 96, groupIndex: 0, total: 3936 });
    expect(analyticPackedBytes({ ...format, hasGroupIndex: true }).total).toBe(3936 + 128 * 4);
    // An MX-like format: 8-bit scales, symmetric.
    expect(analyticPackedBytes({ ...format, symmetric: true, scaleBits: 8 })).toMatchObject({ scales: 192, zeroPoints: 0, total: 3264 });
  });

  test.each([2, 4, 8])('%i bits: equals the bytes MatMulNBits stores when blocks fill C_in', (bits) => {
    const q = tinyRtn(seededWeight(48, 128, 3), bits, 32, false);
    const p = packMatMulNBits(q);
    const zeroPoints = p.zeroPoints?.kind === 'packed' ? p.zeroPoints.data.length : 0;
    const analytic = analyticPackedBytes(formatOf(q));
    expect([p.packed.length, p.scales.length * 4, zeroPoints]).toEqual([analytic.weights, analytic.scales, analytic.zeroPoints]);
  });
});
