// The same cases through the CPU reference and the GPU kernel; masks must match exactly. The
// references are first tied to the CPU paths they stand for (keepPerLayer, blockThresholdKeep).
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { keepPerLayer } from '../../../prune/masks';
import { blockThresholdKeep } from '../../../prune/sparsegpt.setup';
import { GpuContext } from '../../context';
import { describeGpu } from '../../testing/describeGpu';
import { globalSelectCases as cases, globalSelectCountViolation } from '../../testing/cases/globalSelect';
import { globalSelectGpu, thresholdSelectGpu } from './globalSelect.gpu';
import { globalSelectRef, thresholdRank, thresholdSelectRef } from './globalSelect.ref';

const referenceOf = (c: (typeof cases)[number]) => (c.mode === 'exact' ? globalSelectRef(c.scores, c.pruneCount) : thresholdSelectRef(c.scores, c.sparsity));

describe('globalSelect reference', () => {
  test('exact: lowest pruned, lower flat index first among ties, NaN last', () => {
    expect(Array.from(globalSelectRef(new Float32Array([3, 1, 2, 1]), 2))).toEqual([1, 0, 1, 0]);
    expect(Array.from(globalSelectRef(new Float32Array([1, 1, 1]), 2))).toEqual([0, 0, 1]);
    expect(Array.from(globalSelectRef(new Float32Array([NaN, 5, -0, 0]), 3))).toEqual([1, 0, 0, 0]);
  });

  test('exact equals keepPerLayer, the CPU path, on every finite case', () => {
    for (const c of cases) {
      if (c.mode !== 'exact' || c.scores.some((v) => !Number.isFinite(v)) || c.scores.length > 100_000) continue;
      const sparsity = c.pruneCount / c.scores.length;
      // keepPerLayer prunes ⌊n·s⌋; choose s so that it is pruneCount.
      expect(Math.floor(c.scores.length * sparsity)).toBe(c.pruneCount);
      expect(globalSelectRef(c.scores, c.pruneCount)).toEqual(keepPerLayer({ rows: 1, cols: c.scores.length, data: c.scores }, sparsity).data);
    }
  });

  test("threshold: blockThresholdKeep by hand, and thresholdRank is the rank it thresholds at", () => {
    // sorted [0, 1, 1, 2, NaN]: ⌊5·0.4⌋ = 2 → t = 1, pruned ≤ 1; ⌊5·0.9⌋ = 4 → t = NaN, none pruned.
    const scores = new Float32Array([1, NaN, 0, 2, 1]);
    expect(Array.from(thresholdSelectRef(scores, 0.4))).toEqual([0, 1, 0, 1, 0]);
    expect(Array.from(thresholdSelectRef(scores, 0.9))).toEqual([1, 1, 1, 1, 1]);
    expect(thresholdSelectRef).toBe(blockThresholdKeep);
    // Distinct scores: blockThresholdKeep prunes exactly rank + 1.
    const distinct = Float32Array.from({ length: 101 }, (_, i) => (i * 37) % 101);
    for (const s of [0, 0.1, 0.29, 0.5, 0.999, 1]) {
      const pruned = blockThresholdKeep(distinct, s).reduce((n, k) => n + 1 - k, 0);
      expect(pruned).toBe(thresholdRank(101, s) + 1);
    }
  });
});

describeGpu('globalSelect kernel vs reference', (gpu) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const ctx = c.caps ? new GpuContext(gpu().device, { limitCaps: c.caps }) : gpu();
    const got = c.mode === 'exact' ? await globalSelectGpu(ctx, c.scores, c.pruneCount) : await thresholdSelectGpu(ctx, c.scores, c.sparsity);
    expectClose(got, referenceOf(c), { atol: 0, rtol: 0 }, `${c.name}: keep mask`);
    expect(globalSelectCountViolation(c, got)).toBeNull();
  });
});
