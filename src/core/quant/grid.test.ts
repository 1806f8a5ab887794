// Grid levels for the views: the integer grid's levels contain every dequantized value of the
// group; an MX block's exponent recovered from its dequantized values equals the one mxQuantize
// chose, on seeded weights with outliers and tiny blocks, for every MX format.
import { describe, expect, test } from 'vitest';
import { seededWeight, tinyRtn } from './export/testing/exportFixtures.ts';
import { intGridLevels, mxBlockExponent, mxBlockLevels } from './grid.ts';
import { MX_BLOCK_SIZE, MX_FORMAT_NAMES, mxQuantize } from './mx.ts';
import { dequantize } from './types.ts';

describe('intGridLevels', () => {
  test('2^bits levels, ascending, zero among them; every dequantized value of the group is a level', () => {
    const w = seededWeight(4, 64, 9);
    const q = tinyRtn(w, 3, 16, false);
    const deq = dequantize(q);
    const [row, group] = [2, 1];
    const g = row * q.groups + group;
    const levels = intGridLevels(q.bits, q.scales[g], q.zeroPoints[g]);
    expect(levels).toHaveLength(8);
    expect([...levels].every((v, i) => i === 0 || v > levels[i - 1])).toBe(true);
    expect(levels).toContain(0);
    for (let c = 16; c < 32; c++) expect([...levels].some((l) => Math.fround(l) === deq.data[row * 64 + c])).toBe(true);
  });
});

describe('mxBlockExponent', () => {
  test.each(MX_FORMAT_NAMES)('%s: recovered from the dequantized block, equal to mxQuantize’s', (format) => {
    const w = seededWeight(6, 3 * MX_BLOCK_SIZE + 5, 21);
    // A tiny block and a block with one huge outlier.
    for (let c = 0; c < MX_BLOCK_SIZE; c++) w.data[1 * w.cols + c] *= 1e-30;
    w.data[2 * w.cols + 40] = 300;
    const mx = mxQuantize(w, format);
    for (let r = 0; r < w.rows; r++) {
      for (let b = 0; b < mx.blocksPerRow; b++) {
        const block = mx.weight.data.subarray(r * w.cols + b * MX_BLOCK_SIZE, r * w.cols + Math.min((b + 1) * MX_BLOCK_SIZE, w.cols));
        if (block.every((v) => v === 0)) continue; // an all-zero block: any exponent encodes it
        expect(mxBlockExponent(block, format), `row ${r} block ${b}`).toBe(mx.scaleExponents[r * mx.blocksPerRow + b]);
        const levels = mxBlockLevels(mx.scaleExponents[r * mx.blocksPerRow + b], format);
        for (const v of block) expect(levels).toContain(v);
      }
    }
  });
});
