// Sensitivity-based allocation against GATECH-EIC/Edge-LLM get_pruning_schedular
// (fixtures/sensitivity.json), plus the clamp to [0, 0.95] the reference does not have.
import { describe, expect, test } from 'vitest';
import { sensitivityAllocation, SENSITIVITY_RATIOS } from './sensitivity.ts';
import { plainMean } from './redistribute.ts';
import { uniformAllocation } from './uniform.ts';
import { readFixture, type SensitivityFixture } from '../fixtures/load.ts';
import { expectClose } from '../../testing/expectClose.ts';

const fixture = readFixture<SensitivityFixture>('sensitivity.json');

describe('sensitivity allocation matches get_pruning_schedular', () => {
  test('the measured ratios are the reference list', () => {
    expect(SENSITIVITY_RATIOS).toEqual(fixture.ratios);
  });

  const unclamped = fixture.allocations.filter((a) => Math.max(...a.reference) <= 0.95);
  test.each(unclamped.map((a) => [a.target, a] as const))('S = %s: p = u/Σu·S·L exactly (no clamp binds)', (target, a) => {
    const sparsity = sensitivityAllocation(fixture.errors, target);
    expectClose(sparsity, a.reference, { atol: 1e-12, rtol: 0 }, 'sparsity per layer');
    expect(Math.abs(plainMean(sparsity) - target)).toBeLessThan(1e-9);
  });

  test('S = 0.7: the reference exceeds 1 on one layer; here capped at 0.95 and the excess shared by u', () => {
    const a = fixture.allocations.find((x) => x.target === 0.7);
    if (!a) throw new Error('fixture lacks S = 0.7');
    expect(Math.max(...a.reference)).toBeGreaterThan(1);
    const sparsity = sensitivityAllocation(fixture.errors, 0.7);
    expect(Math.abs(plainMean(sparsity) - 0.7)).toBeLessThan(1e-9);
    expect(Math.max(...sparsity)).toBeLessThanOrEqual(0.95);
    expect(Math.min(...sparsity)).toBeGreaterThanOrEqual(0);
    // The most sensitive layer (u = 0) stays dense; uncapped layers keep the reference's proportions.
    const free = sparsity.flatMap((s, i) => (s > 0 && s < 0.95 ? [s / a.reference[i]] : []));
    expect(free.length).toBeGreaterThan(1);
    for (const ratio of free) expect(ratio).toBeCloseTo(free[0], 12);
    expect(sparsity[a.reference.indexOf(0)]).toBe(0);
  });
});

describe('sensitivity allocation edge cases', () => {
  test('when only u = 0 layers have room left they share the rest evenly', () => {
    const sparsity = sensitivityAllocation([[1, 1], [5, 5]], 0.9);
    expect(sparsity[0]).toBe(0.95);
    expect(sparsity[1]).toBeCloseTo(0.85, 12);
  });

  test('equal errors give the uniform allocation; bad targets and errors are refused', () => {
    expect(sensitivityAllocation([[1, 2], [2, 1]], 0.4)).toEqual([0.4, 0.4]);
    expect(() => sensitivityAllocation([[1], [2]], 0.96)).toThrow(/target sparsity must be in \[0, 0.95\], got 0.96/);
    expect(() => sensitivityAllocation([[1], [NaN]], 0.5)).toThrow(/layer 1 needs finite errors/);
  });

  test('uniform allocation', () => {
    expect(uniformAllocation(3, 0.5)).toEqual([0.5, 0.5, 0.5]);
    expect(() => uniformAllocation(3, 1)).toThrow(/uniform allocation: target sparsity must be in \[0, 0.99\]/);
  });
});
