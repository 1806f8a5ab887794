// Mixed precision against fixtures/mixed.json (scripts/fixtures/mixed_reference.py): each layer's
// sensitivity tr((W − Ŵ_b) H (W − Ŵ_b)ᵀ) with the lab's RTN and GPTQ at 2/3/4/8 bits against the
// same measure on the reference quantizers (IST-DASLab/gptq Quantizer and fasterquant), and the DP
// allocation against the reference's brute force over all 4⁴ choices; then the DP against an
// in-test brute force on seeded random cases, with fixed layers and duplicate candidates.
//
// Tolerances. The codes are those of quant_reference's fixtures (bit-identical for per-row fits;
// dynamic groups ≤ 2 ulps in the scale, gptq.test.ts), and the trace is a float32 product with a
// float64 sum (linalg/gemm.ts): rtol 1e-4 on each error. The allocation is compared on the
// reference's own errors, so the widths must be equal (no near-ties in the fixture: the
// reference's best and second-best totals differ by far more than float64 rounding).
import { describe, expect, test } from 'vitest';
import { gptqQuantize } from './gptq.ts';
import { allocateBits, layerSensitivity, MAX_BUDGET_UNITS, type MixedLayerCost } from './mixed.ts';
import { quantizeRtn } from './rtn.ts';
import { dequantize, type Granularity, type Matrix } from './types.ts';
import { float32FromBase64, readQuantFixture } from './fixtures/load.ts';
import { expectClose } from '../testing/expectClose.ts';
import { mulberry32 } from '../calibrate/random.ts';

interface MixedFixture {
  widths: number[];
  blockSize: number;
  percDamp: number;
  layers: { rows: number; cols: number; weight: string; hessian: string }[];
  cases: {
    method: 'rtn' | 'gptq';
    granularity: Granularity;
    errors: number[][];
    allocations: ({ target: number; widths: number[]; error: number; averageBits: number } | null)[];
  }[];
}

const fixture = readQuantFixture<MixedFixture>('mixed.json');
const layers = fixture.layers.map((l) => ({
  weight: { rows: l.rows, cols: l.cols, data: float32FromBase64(l.weight) } satisfies Matrix,
  hessian: Float64Array.from(float32FromBase64(l.hessian)),
}));

describe('sensitivity against the reference quantizers', () => {
  for (const c of fixture.cases) {
    test(`${c.method} ${c.granularity.kind === 'group' ? `g${c.granularity.size}` : c.granularity.kind}`, () => {
      layers.forEach(({ weight, hessian }, l) => {
        const quantizeAt = (bits: number): Matrix =>
          c.method === 'rtn'
            ? dequantize(quantizeRtn(weight, { bits, symmetric: false }, c.granularity))
            : gptqQuantize(weight, hessian, { grid: { bits, symmetric: false }, granularity: c.granularity, blockSize: fixture.blockSize, percDamp: fixture.percDamp }).weight;
        expectClose(layerSensitivity(weight, hessian, fixture.widths, quantizeAt), c.errors[l], { atol: 1e-9, rtol: 1e-4 }, `layer ${l}`);
      });
    });
  }
});

describe('allocation against the reference brute force', () => {
  const numels = layers.map(({ weight }) => weight.rows * weight.cols);
  for (const c of fixture.cases) {
    test(`${c.method} ${c.granularity.kind}`, () => {
      for (const reference of c.allocations) {
        if (reference === null) continue;
        const costs = numels.map((numel, l) => ({ numel, errors: c.errors[l] }));
        const got = allocateBits(costs, fixture.widths, reference.target);
        expect(got.widths, `target ${reference.target}`).toEqual(reference.widths);
        expectClose([got.error, got.averageBits], [reference.error, reference.averageBits], { atol: 1e-12, rtol: 1e-12 }, `target ${reference.target}`);
        expect(got.exact).toBe(true);
      }
    });
  }
});

/** Every choice of widths for the free layers; the least summed error within the budget. */
function bruteForce(layers: MixedLayerCost[], candidates: number[], target: number): number | null {
  const total = layers.reduce((s, l) => s + l.numel, 0);
  let best: number | null = null;
  const walk = (l: number, bits: number, error: number): void => {
    if (l === layers.length) {
      if (bits <= target * total + 1e-9 && (best === null || error < best)) best = error;
      return;
    }
    const layer = layers[l];
    if (layer.fixedBits !== undefined) return walk(l + 1, bits + layer.fixedBits * layer.numel, error);
    candidates.forEach((b, k) => walk(l + 1, bits + b * layer.numel, error + layer.errors[k]));
  };
  walk(0, 0, 0);
  return best;
}

describe('allocation against brute force on random cases', () => {
  test('is optimal, stays under the target and keeps fixed layers', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const candidates = trial % 3 === 0 ? [8, 3, 4, 3] : trial % 3 === 1 ? [2, 3, 4, 8] : [3, 5];
      const count = 1 + (trial % 6);
      const layers: MixedLayerCost[] = Array.from({ length: count }, (_, l) => {
        const numel = 8 * (1 + Math.floor(random() * 40));
        // Errors fall with the width, as a quantizer's do, but at layer-specific rates.
        const rate = 0.5 + random() * 4;
        const errors = candidates.map((b) => (random() + 0.1) * 2 ** (-rate * b) * 100);
        return trial % 4 === 0 && l === 0 ? { numel, errors: [], fixedBits: 6 } : { numel, errors };
      });
      const target = 2 + random() * 6;
      const best = bruteForce(layers, candidates, target);
      if (best === null) {
        expect(() => allocateBits(layers, candidates, target)).toThrow(/below the least possible average/);
        continue;
      }
      const got = allocateBits(layers, candidates, target);
      expect(got.averageBits).toBeLessThanOrEqual(target + 1e-12);
      expectClose([got.error], [best], { atol: 1e-12, rtol: 1e-12 }, `trial ${trial}`);
      layers.forEach((l, i) => l.fixedBits !== undefined && expect(got.widths[i]).toBe(l.fixedBits));
    }
  });

  test('a budget too large for exact DP is rounded conservatively and says so', () => {
    // Co-prime sizes: unit 1, so the budget has millions of units.
    const layers = [{ numel: 1_000_003, errors: [4, 1] }, { numel: 999_983, errors: [9, 2] }];
    const got = allocateBits(layers, [3, 4], 3.6);
    expect(got.exact).toBe(false);
    expect(got.averageBits).toBeLessThanOrEqual(3.6);
    expect(got.widths).toEqual([3, 4]);
    expect(MAX_BUDGET_UNITS).toBeLessThan(2_000_000);
  });

  test('an impossible target is refused with the least possible average', () => {
    expect(() => allocateBits([{ numel: 10, errors: [1, 0] }, { numel: 30, errors: [], fixedBits: 8 }], [3, 4], 4)).toThrow(/below the least possible average 6\.750/);
    expect(() => allocateBits([{ numel: 10, errors: [NaN, 0] }], [3, 4], 4)).toThrow(/no finite error at 3 bits/);
  });
});
