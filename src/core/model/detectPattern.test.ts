// Structured patterns recognised in a keep mask: masks made by the prune module's own mask
// builders (keepNM, keepVNM, keepPerRow) on seeded random importances are recognised as what
// built them, and the hostile shapes (dead rows, an all-zero layer, C_in not a multiple of M,
// 1 x 1) give the right answer or none.
import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../calibrate/random.ts';
import { keepNM, keepPerRow } from '../prune/masks.ts';
import type { KeepMask } from '../prune/types.ts';
import { keepVNM } from '../prune/vnm.ts';
import { keepBlocks } from '../prune/blocks.ts';
import { detectNM, detectPattern } from './detectPattern.ts';

function importance(rows: number, cols: number, seed: number) {
  const random = mulberry32(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => random() + 1e-3) };
}

describe('detectPattern', () => {
  test.each([
    [1, 4, 'row'],
    [4, 1, 'row'],
    [1, 4, 'layer'],
  ] as const)('keepBlocks %i×%i (%s) on a 64 x 128 weight is recognised as blocks with its sparsity', (rows, cols, group) => {
    const keep = keepBlocks(importance(64, 128, rows * 10 + cols), { kind: 'block', rows, cols, sparsity: 0.5 }, group);
    expect(detectPattern(keep)).toEqual({ kind: 'block', rows, cols, sparsity: 0.5 });
  });

  test('one all-zero row of a dense layer is not blocks', () => {
    const keep = { rows: 8, cols: 16, data: new Uint8Array(128).fill(1).fill(0, 0, 16) };
    expect(detectPattern(keep)).toBeNull();
  });

  test.each([
    [2, 4],
    [1, 4],
    [3, 4],
    [2, 8],
    [4, 8],
    [1, 8],
    [6, 8],
    [4, 16],
  ])('keepNM %i:%i on a 64 x 128 weight is recognised as itself', (n, m) => {
    const keep = keepNM(importance(64, 128, n * 100 + m), n, m);
    expect(detectPattern(keep)).toEqual({ kind: 'nm', n, m });
  });

  test('4:8 made as 2:4 is reported as 2:4, the tighter statement', () => {
    expect(detectPattern(keepNM(importance(32, 64, 1), 2, 4))).toEqual({ kind: 'nm', n: 2, m: 4 });
  });

  test.each([16, 64])('keepVNM %i:2:8 is recognised with its V, not 2:8 and not a larger V', (v) => {
    const keep = keepVNM(importance(128, 64, v), v, 8);
    expect(detectPattern(keep)).toEqual({ kind: 'vnm', v, n: 2, m: 8 });
  });

  test('plain 2:8 (each row on its own) is 2:8, not V:2:8', () => {
    expect(detectPattern(keepNM(importance(128, 64, 3), 2, 8))).toEqual({ kind: 'nm', n: 2, m: 8 });
  });

  test.each([0.5, 0.7, 0.9])('unstructured %f per row is no N:M pattern', (sparsity) => {
    expect(detectPattern(keepPerRow(importance(64, 64, 7), sparsity))).toBeNull();
  });

  test('dead rows and columns do not hide a 2:4 pattern', () => {
    const keep = keepNM(importance(64, 64, 5), 2, 4);
    for (let c = 0; c < 64; c++) for (const r of [0, 1, 17, 40]) keep.data[r * 64 + c] = 0;
    expect(detectPattern(keep)).toEqual({ kind: 'nm', n: 2, m: 4 });
  });

  const mask = (rows: number, cols: number, fill: number): KeepMask => ({ rows, cols, data: new Uint8Array(rows * cols).fill(fill) });

  test.each([
    ['an all-zero layer', mask(8, 16, 0)],
    ['a dense layer', mask(8, 16, 1)],
    ['1 x 1', mask(1, 1, 0)],
    ['C_in = 10, a multiple of no group size', { ...keepNM(importance(4, 10, 2), 1, 5) }],
  ])('%s has no pattern', (_, keep) => {
    expect(detectNM(keep)).toBeNull();
    expect(detectPattern(keep)).toBeNull();
  });

  test('C_in = 12: 1:4 found, no group of 8 or 16 tried', () => {
    expect(detectPattern(keepNM(importance(8, 12, 4), 1, 4))).toEqual({ kind: 'nm', n: 1, m: 4 });
  });
});
