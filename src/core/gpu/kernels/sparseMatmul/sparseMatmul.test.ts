// The dense, 2:4 and block-sparse matmul kernels against their CPU references, and each sparse
// result against the dense one on the same pruned weight.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { describeGpu } from '../../testing/describeGpu';
import { denseMatmulCases, matmulTolerance, pruneGroups, pruneTwoOfFour, sparseMatmulCases } from '../../testing/cases/sparseMatmul';
import { matmulGpu } from './sparseMatmul.gpu';
import { blockSparseMatmulRef, denseMatmulRef, sparse24MatmulRef } from './sparseMatmul.ref';
import { packBlockSparse, packSparse24, sparse24Problems, storedBytes, unpackBlockSparse, unpackSparse24, type BlockShape } from './sparseFormats';

const SHAPES: BlockShape[] = [
  { rows: 1, cols: 4 },
  { rows: 4, cols: 1 },
];

describe('sparse layouts', () => {
  test('2:4 by hand: values in column order, positions 4 bits per group', () => {
    const weight = { outFeatures: 1, inFeatures: 8, data: new Float32Array([0, 5, 0, -1, 2, 0, 0, 0]) };
    const packed = packSparse24(weight);
    expect(Array.from(packed.values)).toEqual([5, -1, 2, 0]);
    // group 0: positions 1 and 3 → 0b1101; group 1: position 0 and the filler 1 → 0b0100.
    expect(packed.positions[0]).toBe(0b1101 | (0b0100 << 4));
    expect(Array.from(unpackSparse24(packed).data)).toEqual(Array.from(weight.data));
  });

  test('2:4 refuses three non-zeros in a group, and a C_in that 4 does not divide', () => {
    expect(sparse24Problems({ outFeatures: 1, inFeatures: 4, data: new Float32Array([1, 1, 1, 0]) })).toEqual(['2:4: row 0, columns 0..3 hold 3 non-zeros (at most 2)']);
    expect(sparse24Problems({ outFeatures: 1, inFeatures: 6, data: new Float32Array(6) })[0]).toMatch(/multiple of 4/);
  });

  test.each(SHAPES)('block $rows×$cols round trip keeps exactly the non-zero groups', (shape) => {
    const c = sparseMatmulCases[2];
    const pruned = pruneGroups(c.weight, shape, 0.5, 7);
    const packed = packBlockSparse(pruned, shape);
    expect(unpackBlockSparse(packed).data).toEqual(pruned.data);
    const groups = (pruned.outFeatures * pruned.inFeatures) / 4;
    expect(packed.groupColumn.length).toBeGreaterThan(0.4 * groups);
    expect(packed.groupColumn.length).toBeLessThan(0.6 * groups);
    expect(storedBytes(packed)).toBeLessThan(0.7 * storedBytes(pruned));
  });

  test('the sparse references equal the dense reference on the pruned weight', () => {
    for (const c of sparseMatmulCases) {
      const tolerance = matmulTolerance(c);
      const two = pruneTwoOfFour(c.weight);
      expectClose(sparse24MatmulRef(c.x, c.tokens, packSparse24(two)), denseMatmulRef(c.x, c.tokens, two), tolerance, `${c.name}, 2:4`);
      for (const shape of SHAPES) {
        const blocked = pruneGroups(c.weight, shape, 0.5, 3);
        expectClose(blockSparseMatmulRef(c.x, c.tokens, packBlockSparse(blocked, shape)), denseMatmulRef(c.x, c.tokens, blocked), tolerance, `${c.name}, ${shape.rows}×${shape.cols}`);
      }
    }
  });
});

describeGpu('matmul kernels vs references', (gpu) => {
  test.each(denseMatmulCases.map((c) => [c.name, c] as const))('dense: %s', async (_, c) => {
    const got = await matmulGpu(gpu(), c.x, c.tokens, { layout: 'dense', weight: c.weight });
    expectClose(got, denseMatmulRef(c.x, c.tokens, c.weight), matmulTolerance(c), c.name);
  });

  test.each(sparseMatmulCases.map((c) => [c.name, c] as const))('2:4 (and 1:4): %s', async (_, c) => {
    for (const keepOne of [false, true]) {
      const pruned = pruneTwoOfFour(c.weight, keepOne);
      const packed = packSparse24(pruned);
      const got = await matmulGpu(gpu(), c.x, c.tokens, { layout: '2:4', weight: packed });
      expectClose(got, sparse24MatmulRef(c.x, c.tokens, packed), matmulTolerance(c), `${c.name}, keep ${keepOne ? 1 : 2}`);
      const dense = await matmulGpu(gpu(), c.x, c.tokens, { layout: 'dense', weight: pruned });
      expectClose(got, dense, { atol: 2 * matmulTolerance(c).atol, rtol: 0 }, `${c.name}: 2:4 vs dense kernel`);
    }
  });

  test.each(sparseMatmulCases.map((c) => [c.name, c] as const))('block 1×4 and 4×1: %s', async (_, c) => {
    for (const shape of SHAPES) {
      for (const sparsity of [0.5, 0, 1]) {
        const pruned = pruneGroups(c.weight, shape, sparsity, 5);
        const packed = packBlockSparse(pruned, shape);
        const label = `${c.name}, ${shape.rows}×${shape.cols} at ${sparsity}`;
        const got = await matmulGpu(gpu(), c.x, c.tokens, { layout: 'block', weight: packed });
        expectClose(got, blockSparseMatmulRef(c.x, c.tokens, packed), matmulTolerance(c), label);
        const dense = await matmulGpu(gpu(), c.x, c.tokens, { layout: 'dense', weight: pruned });
        expectClose(got, dense, { atol: 2 * matmulTolerance(c).atol, rtol: 0 }, `${label}: vs dense kernel`);
      }
    }
  });

  test('an all-zero row gives zero outputs, and NaN in x reaches only its token', async () => {
    const c = sparseMatmulCases[1];
    const x = c.x.slice();
    x[2 * c.weight.inFeatures + 5] = NaN;
    const pruned = pruneGroups(c.weight, { rows: 1, cols: 4 }, 0.5, 9);
    pruned.data.fill(0, 3 * c.weight.inFeatures, 4 * c.weight.inFeatures);
    const got = await matmulGpu(gpu(), x, c.tokens, { layout: 'block', weight: packBlockSparse(pruned, { rows: 1, cols: 4 }) });
    const n = c.weight.outFeatures;
    for (let t = 0; t < c.tokens; t++) {
      if (t !== 2) expect(got[t * n + 3]).toBe(0);
      for (let o = 0; o < n; o++) expect(Number.isNaN(got[t * n + o])).toBe(t === 2 && o !== 3 && hasColumn5(pruned.data, o, c.weight.inFeatures));
    }
  });
});

/** Whether row o keeps the group holding column 5 (so NaN · w reaches it). */
function hasColumn5(data: Float32Array, o: number, cols: number): boolean {
  return [4, 5, 6, 7].some((c) => data[o * cols + c] !== 0);
}
