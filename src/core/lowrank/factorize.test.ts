// The low-rank math against scripts/fixtures/lowrank_reference.py (torch.linalg.svd, float64,
// following LoRD's plain SVD, ASVD4LLM and SVD-LLM). Singular vectors are defined up to sign, so
// the comparisons are of singular values, reconstructions and errors.
import { describe, expect, it } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import fixture from './fixtures/lowrank_reference.json';
import {
  asvdScaling,
  factorProduct,
  layerSpectrum,
  lowRankFactors,
  outputEnergy,
  svdLlmWhitening,
  truncationErrors,
  type InputScaling,
  type LowRankMethod,
} from './factorize.ts';
import { allocateRanks, energyRank, maxSavingRank, ratioRank } from './rank.ts';

type Case = (typeof fixture.cases)[number];

/** Σ_t x_t x_tᵀ (C_in × C_in), as SVD-LLM's profiling sums it. */
function gramOf(c: Case): Float64Array {
  const g = new Float64Array(c.cIn * c.cIn);
  for (let t = 0; t < c.tokens; t++) {
    for (let a = 0; a < c.cIn; a++) {
      const xa = c.inputs[t * c.cIn + a];
      for (let b = 0; b < c.cIn; b++) g[a * c.cIn + b] += xa * c.inputs[t * c.cIn + b];
    }
  }
  return g;
}

function scalingFor(method: LowRankMethod, c: Case): { scaling: InputScaling; damping: number | null } {
  if (method === 'svd') return { scaling: { kind: 'identity' }, damping: null };
  if (method === 'asvd') return { scaling: asvdScaling(c.absMean, 0.5), damping: null };
  const { scaling, damping } = svdLlmWhitening(gramOf(c), c.cIn);
  return { scaling, damping };
}

const METHODS: LowRankMethod[] = ['svd', 'asvd', 'svd-llm'];

describe.each(fixture.cases)('low rank on $name', (c) => {
  const gram = gramOf(c);

  it.each(METHODS)('%s: singular values, rank-r reconstruction and damping equal the reference', (method) => {
    const ref = c.methods[method as keyof Case['methods']];
    const { scaling, damping } = scalingFor(method, c);
    expect(damping === null).toBe(ref.damping === null);
    if (damping !== null) expectClose([damping], [ref.damping!], { atol: 1e-12, rtol: 1e-9 }, 'damping');
    const spectrum = layerSpectrum(c.weight, c.cOut, c.cIn, scaling);
    expectClose(spectrum.svd.s, ref.singularValues, { atol: 1e-10, rtol: 1e-10 }, 'σ of W S');
    const factors = lowRankFactors(spectrum, c.rank);
    expect(factors.left.length).toBe(c.cOut * c.rank);
    expect(factors.right.length).toBe(c.rank * c.cIn);
    // The damped whitening divides by a ~1e-3 pivot: 1e-9 relative to the largest entries.
    expectClose(factorProduct(factors, c.cOut, c.cIn), ref.reconstruction, { atol: 1e-9, rtol: 1e-9 }, 'U_r Σ_r V_rᵀ S⁻¹');
    expect(energyRank(spectrum.svd.s, 0.9)).toBe(ref.energyRank90);
  });

  it.each(METHODS)('%s: the output error at every rank is the tail sum of truncationErrors', (method) => {
    const ref = c.methods[method as keyof Case['methods']];
    const spectrum = layerSpectrum(c.weight, c.cOut, c.cIn, scalingFor(method, c).scaling);
    const errors = truncationErrors(spectrum, gram);
    const predicted = Array.from({ length: errors.length + 1 }, (_, r) => errors.slice(r).reduce((a, b) => a + b, 0));
    expectClose(predicted, ref.outputErrorByRank, { atol: 1e-7, rtol: 1e-8 }, '‖(W − Ŵ_r) X‖²');
    expectClose([outputEnergy(c.weight, c.cOut, c.cIn, gram)], [ref.outputErrorByRank[0]], { atol: 1e-8, rtol: 1e-10 }, '‖W X‖²');
  });

  it('SVD-LLM truncation is optimal: its error at the case rank is the smallest of the three', () => {
    const at = (m: string) => c.methods[m as keyof Case['methods']].outputErrorByRank[c.rank];
    expect(at('svd-llm')).toBeLessThanOrEqual(at('asvd'));
    expect(at('svd-llm')).toBeLessThanOrEqual(at('svd'));
  });

  it("ratio rank is SVD-LLM's num_s_after_trunc", () => {
    expect(ratioRank(0.7, c.cOut, c.cIn)).toBe(c.ratioRank07);
  });
});

describe('rank allocation', () => {
  it('full rank reproduces W exactly (no truncation)', () => {
    const c = fixture.cases[0];
    const spectrum = layerSpectrum(c.weight, c.cOut, c.cIn, { kind: 'identity' });
    expectClose(factorProduct(lowRankFactors(spectrum, 12), c.cOut, c.cIn), c.weight, { atol: 1e-13, rtol: 0 });
  });

  it('maxSavingRank is the last rank whose factors are smaller than W', () => {
    expect(maxSavingRank(128, 128)).toBe(63);
    expect(maxSavingRank(512, 128)).toBe(102);
    expect(maxSavingRank(1, 9)).toBe(0);
    for (const [m, n] of [[128, 128], [512, 128], [63, 128], [7, 3]]) {
      const r = maxSavingRank(m, n);
      expect(r * (m + n)).toBeLessThan(m * n);
      expect((r + 1) * (m + n)).toBeGreaterThanOrEqual(m * n);
    }
  });

  it('spends the budget where the relative error falls most per parameter, dense when cheaper', () => {
    // Layer 0's error sits in its first triplets, layer 1's is flat: layer 0 gets the ranks.
    const steep = { cOut: 16, cIn: 16, errors: Array.from({ length: 16 }, (_, i) => 2 ** -i), energy: 2 };
    const flat = { cOut: 16, cIn: 16, errors: Array.from({ length: 16 }, () => 1 / 16), energy: 4 };
    const ranks = allocateRanks([steep, flat], 8 * 32);
    expect(ranks[0]).toBeGreaterThan(ranks[1]!);
    const used = ranks.reduce<number>((sum, r) => sum + (r === null ? 256 : r * 32), 0);
    expect(used).toBeLessThanOrEqual(8 * 32);
    // A budget that covers both dense weights keeps both dense.
    expect(allocateRanks([steep, flat], 512)).toEqual([null, null]);
  });
});
