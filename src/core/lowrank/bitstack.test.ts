// BitStack's decomposition and stacking against scripts/fixtures/bitstack_reference.py (following
// xinghaow99/BitStack's decompose_weight, sort_layers_and_bits_average, generate_configs and
// retrieve_compression_config; float64).
import { describe, expect, it } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import fixture from './fixtures/bitstack_reference.json';
import { bitStackBlockBytes, bitStackOrder, blocksWithinBudget, decomposeBitStack, reconstructBitStack, stackSizes } from './bitstack.ts';

const unpackSigns = (packed: Uint8Array, count: number) => Array.from({ length: count }, (_, e) => ((packed[e >> 3] >> (e & 7)) & 1 ? 1 : -1));

describe.each(fixture.cases)('BitStack decomposition, $name', (c) => {
  const blocks = decomposeBitStack(c.weight, c.cOut, c.cIn, c.steps, c.k);

  it('gives the reference signs at every step', () => {
    blocks.forEach((block, step) => expect(unpackSigns(block.signs, c.cOut * c.cIn)).toEqual(c.signs[step]));
  });

  it('gives the reference reconstruction after every step (stored float16 u, vᵀ)', () => {
    for (let step = 0; step < c.steps; step++) {
      // u vᵀ is unique up to the joint sign of (u, v); float16 rounding of two runs can differ by
      // one ulp (2^-11 relative) where the float64 values straddle a rounding boundary.
      expectClose(reconstructBitStack(blocks, step + 1, c.cOut, c.cIn, c.k), c.reconstruction[step], { atol: 1e-6, rtol: 2e-3 }, `step ${step + 1}`);
    }
  });

  it('each step shrinks the residual ‖W − Ŵ‖', () => {
    const error = (n: number) => {
      const w = reconstructBitStack(blocks, n, c.cOut, c.cIn, c.k);
      return w.reduce((sum, v, i) => sum + (c.weight[i] - v) ** 2, 0);
    };
    for (let n = 1; n <= c.steps; n++) expect(error(n)).toBeLessThan(error(n - 1));
  });
});

describe('BitStack stacking', () => {
  const { scores, blockBytes, order, memory, budgets, kept } = fixture.sort;

  it("orders the blocks level by level, each by ascending score, ties in layer order (the reference's sort)", () => {
    expect(bitStackOrder(scores)).toEqual(order);
  });

  it("gives the reference's memory per configuration and the configuration within each budget", () => {
    expect(stackSizes(order, blockBytes)).toEqual(memory);
    budgets.forEach((budget, i) => expect(blocksWithinBudget(order, blockBytes, budget)).toEqual(kept[i]));
  });

  it('counts a block as its sign bits plus u and v in float16', () => {
    expect(bitStackBlockBytes(128, 128, 1)).toBe(2048 + 512);
    expect(bitStackBlockBytes(512, 128, 1)).toBe(8192 + 1280);
    expect(bitStackBlockBytes(10, 7, 2)).toBe(9 + 68);
  });
});
