// A packed layer read back from the file it was written to: readMatMulNBits inverts
// writeMatMulNBits (codes, scales, zero points, g_idx) for every width and grid the writer stores,
// so what the quantization views show for a packed layer is what the file holds.
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../../model/analyze.ts';
import { dequantize } from '../types.ts';
import { writeMatMulNBits } from './matMulNBits.ts';
import { nBitsNodeOf, nBitsStoredBytes, readMatMulNBits } from './read.ts';
import { analyticPackedBytes, formatOf } from './size.ts';
import { oneLayerModel, seededWeight, tinyRtn } from './testing/exportFixtures.ts';

const [OUT, IN] = [12, 80];
const weight = seededWeight(OUT, IN, 3);
const bias = new Float32Array(OUT);

function writtenAndRead(bits: number, group: number | null, symmetric: boolean, groupIndex?: Int32Array) {
  const q = tinyRtn(weight, bits, group, symmetric, groupIndex);
  const source = oneLayerModel(weight, bias, 'matmul-transposed');
  const layer = analyzeModel(source).linears[0];
  const { model } = writeMatMulNBits(source, [{ layer, weight: q }]);
  const node = nBitsNodeOf(model.graph!, layer);
  if (!node) throw new Error('no MatMulNBits node found for the layer');
  return { q, read: readMatMulNBits(model.graph!, node), bytes: nBitsStoredBytes(model.graph!, node) };
}

describe('readMatMulNBits', () => {
  test.each([
    [2, 16, false],
    [4, 16, true],
    [4, 32, false],
    [8, 16, false],
    [4, null, false],
    [8, null, true],
  ] as const)('%i bits, group %s, symmetric %s: the codes, scales and zero points come back; the dequantized weight is equal', (bits, group, symmetric) => {
    const { q, read, bytes } = writtenAndRead(bits, group, symmetric);
    // C_in = 80 is not a multiple of 32 or of the per-row block (128): the short last block's padding is dropped.
    expect(read.codes).toEqual(q.codes);
    expect(read.scales).toEqual(q.scales);
    expect(read.zeroPoints).toEqual(q.zeroPoints);
    expect(read.symmetric).toBe(symmetric);
    expect(dequantize(read).data).toEqual(dequantize(q).data);
    // The stored tensors are the analytic bytes plus at most the padding of short blocks and byte-aligned zero-point rows.
    const analytic = analyticPackedBytes(formatOf(q)).total;
    expect(bytes).toBeGreaterThanOrEqual(analytic);
    expect(bytes - analytic).toBeLessThanOrEqual(OUT * (group === null ? 128 - IN : 32) * bits / 8 + OUT);
  });

  test('act-order groups: g_idx and the float zero points come back', () => {
    const groupIndex = Int32Array.from({ length: IN }, (_, c) => (c * 7) % 5);
    const { q, read } = writtenAndRead(4, 16, false, groupIndex);
    expect(read.groupIndex).toEqual(groupIndex);
    expect(read.zeroPoints).toEqual(q.zeroPoints);
    expect(dequantize(read).data).toEqual(dequantize(q).data);
  });
});
