// OWL against luuyin/OWL (fixtures/owl.json): outlier ratios of four blocks and the allocation.
import { describe, expect, test } from 'vitest';
import { owlAllocation, owlOutlierRatio } from './owl.ts';
import { plainMean } from './redistribute.ts';
import { matrix, readFixture, type OwlFixture } from '../fixtures/load.ts';
import { expectClose } from '../../testing/expectClose.ts';

const fixture = readFixture<OwlFixture>('owl.json');

describe('OWL matches prune_wanda_outlier', () => {
  test('outlier ratio per block: #{A > 5·mean(A)} / numel over all its linears', () => {
    const ratios = fixture.blocks.map((block) =>
      owlOutlierRatio(block.layers.map((l) => ({ weight: matrix(l.rows, l.cols, l.weight), sqNorm: Float64Array.from(l.sqNorm) })), fixture.hyperM),
    );
    // The reference's mean is a float32 mean of float32 scores: one score may sit on the other
    // side of 5·mean, so allow one element per block (100/numel percent).
    const numel = fixture.blocks[0].layers.reduce((n, l) => n + l.rows * l.cols, 0);
    expectClose(ratios.map((d) => d * 100), fixture.outlierPercent, { atol: 100 / numel + 1e-9, rtol: 0 }, 'outlier percent');
    expect(new Set(fixture.outlierPercent).size).toBe(4);
  });

  test.each(fixture.allocations.map((a) => [a.target, a] as const))('allocation at S = %s from the reference ratios', (target, a) => {
    const sparsity = owlAllocation(fixture.outlierPercent, target, { lambda: fixture.lambda });
    expectClose(sparsity, a.sparsity, { atol: 1e-12, rtol: 0 }, 'sparsity per block');
    expect(Math.abs(plainMean(sparsity) - target)).toBeLessThan(1e-9);
    // More outliers, less pruning.
    const byRatio = fixture.outlierPercent.map((d, i) => [d, sparsity[i]]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < byRatio.length; i++) expect(byRatio[i][1]).toBeLessThan(byRatio[i - 1][1]);
  });
});

describe('OWL allocation when bounds bind', () => {
  test('a low target shifts and clamps at 0, keeping the mean (the reference would set 0.01 and drift)', () => {
    const sparsity = owlAllocation(fixture.outlierPercent, 0.05);
    expect(Math.min(...sparsity)).toBe(0);
    expect(Math.abs(plainMean(sparsity) - 0.05)).toBeLessThan(1e-9);
  });

  test('a high target clamps at maxSparsity', () => {
    const sparsity = owlAllocation(fixture.outlierPercent, 0.95, { maxSparsity: 0.99 });
    expect(Math.max(...sparsity)).toBeLessThanOrEqual(0.99);
    expect(Math.abs(plainMean(sparsity) - 0.95)).toBeLessThan(1e-9);
  });

  test('equal ratios (the reference divides by zero) and a single block give the uniform allocation', () => {
    expect(owlAllocation([2, 2, 2], 0.5)).toEqual([0.5, 0.5, 0.5]);
    expect(owlAllocation([7], 0.3)).toEqual([0.3]);
  });

  test('a target outside [0, maxSparsity] is refused', () => {
    expect(() => owlAllocation([1, 2], 1)).toThrow(/OWL allocation: target sparsity must be in \[0, 0.99\], got 1/);
  });
});
