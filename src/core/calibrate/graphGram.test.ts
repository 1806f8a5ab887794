// Statistics reduced inside the ORT graph (float32 Gemm per batch, float64 across batches)
// against float64 sums computed here from the same activations: Gram entries within Higham's
// bound γ_{n_b}·√(G_aa G_bb) for a float32 sum of n_b products, Σ x² the same, max|x| exact.
import { describe, expect, test } from 'vitest';
import { pipelineSteps as pipelineStages } from '../compress/steps.ts';
import type { HostTensor, ModelRunner } from '../eval/runner.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { openSequentialCalibration } from './blockwise.ts';
import { bundledModel, openRunner } from './fixtures/models.ts';
import { gramOutputNames, ReducedGramAccumulator, withGramOutputs } from './graphGram.ts';
import { mulberry32 } from './random.ts';

const u = 2 ** -24;
const gamma = (n: number) => (n * u) / (1 - n * u);

/** |got − want| ≤ γ·√(want_aa·want_bb) for every (a, b): expectClose on the scaled entries. */
function expectWithinGramBound(got: Float64Array, want: Float64Array, channels: number, bound: number, label: string): number {
  const scale = (k: number) => Math.sqrt(want[Math.floor(k / channels) * (channels + 1)] * want[(k % channels) * (channels + 1)]) || 1;
  const { maxAbsError } = expectClose(got.map((g, k) => g / scale(k)), want.map((w, k) => w / scale(k)), { atol: bound, rtol: 0 }, label);
  return maxAbsError / bound;
}

/** x (batch, T, C) → Identity → y, at the given opset, reduced in the graph. */
function identityModel(opset: number): ModelProto {
  const dims = [{ dimParam: 'batch' }, { dimParam: 'T' }, { dimValue: 5 }];
  return withGramOutputs(
    {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: 'identity',
        node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: dims } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: dims } } } }],
      },
    },
    [{ tensor: 'y', channels: 5 }],
  );
}

describe('withGramOutputs', () => {
  test.each([17, 18])('opset %i: XᵀX, max|x| and the token count of a (batch, T, C) tensor; a dead channel, a large offset', async (opset) => {
    const [batch, T, C] = [3, 50, 5];
    const random = mulberry32(opset);
    // Channel 1 dead; channel 3 a large offset with small variation (a cancellation-free sum, but
    // products near 1e8 each).
    const x = Float32Array.from({ length: batch * T * C }, (_, k) => [random() * 2 - 1, 0, random() - 0.5, 1e4 + random(), -3 * random()][k % C]);
    const runner = await openRunner(writeModel(identityModel(opset)));
    const out = await runner.run({ x: { dtype: 'float32', dims: [batch, T, C], data: x } as HostTensor });
    await runner.release();
    const names = gramOutputNames('y');
    expect(Array.from(out[names.shape].data as BigInt64Array)).toEqual([BigInt(batch * T), BigInt(C)]);
    const gram = new Float64Array(C * C);
    const maxAbs = new Float64Array(C);
    for (let t = 0; t < batch * T; t++) {
      for (let a = 0; a < C; a++) {
        maxAbs[a] = Math.max(maxAbs[a], Math.abs(x[t * C + a]));
        for (let b = 0; b < C; b++) gram[a * C + b] += x[t * C + a] * x[t * C + b];
      }
    }
    const accumulator = new ReducedGramAccumulator(C);
    accumulator.add(out[names.gram].data as Float32Array, out[names.maxAbs].data as Float32Array, batch * T);
    const sums = accumulator.finish();
    expect(sums.tokens).toBe(batch * T);
    expectClose(sums.maxAbs, maxAbs, { atol: 0, rtol: 0 }, 'max|x|');
    expectWithinGramBound(sums.gram!, gram, C, gamma(batch * T), 'Gram');
    expect(sums.gram![1 * C + 1]).toBe(0);
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) expect(sums.gram![a * C + b]).toBe(sums.gram![b * C + a]);
  });
});

describe('gramInGraph through block-by-block calibration on the digits ViT', () => {
  test('every layer of every block within the bound of the float64 JS sums; activations stay in ORT', async () => {
    const vit = bundledModel('digits-vit');
    const stages = pipelineStages(vit.analysis.linears.filter((l) => l.role !== 'embed' && l.role !== 'head')).map((s) => ({ layers: s.layers }));
    const returned: string[][] = [];
    const spying = async (bytes: Uint8Array): Promise<ModelRunner> => {
      const runner = await openRunner(bytes);
      returned.push([...runner.outputNames]);
      return runner;
    };
    const sampleIndices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const batchSize = 4;
    const run = async (gramInGraph: boolean) => {
      const sequence = openSequentialCalibration({ model: vit.model, stages, createRunner: spying, dataset: vit.calib, sampleIndices, batchSize, gramInGraph });
      const stats = [];
      for (let s = 0; s < stages.length; s++) {
        stats.push(await sequence.stats(s, {}));
        await sequence.advance(s, {});
      }
      return stats;
    };
    const reference = await run(false);
    returned.length = 0;
    const reduced = await run(true);
    const tapped = new Set(stages.flatMap((s) => s.layers.map((l) => l.input)));
    expect(returned.flat().filter((name) => tapped.has(name))).toEqual([]);
    const tokensPerBatch = batchSize * 17;
    for (const [s, stats] of reduced.entries()) {
      for (const layer of stages[s].layers) {
        const [got, want] = [stats.layers.get(layer.id)!, reference[s].layers.get(layer.id)!];
        expect(got.tokens).toBe(want.tokens);
        expectClose(got.maxAbs, want.maxAbs, { atol: 0, rtol: 0 }, `${layer.name} max|x|`);
        expectClose(got.sqNorm, want.sqNorm, { atol: 0, rtol: gamma(tokensPerBatch) }, `${layer.name} Σx²`);
        const used = expectWithinGramBound(got.hessian, want.hessian, layer.inFeatures, gamma(tokensPerBatch), `${layer.name} H`);
        if (s === 1) console.log(`[graph Gram] ${layer.name}: max error ${(100 * used).toFixed(2)} % of γ_${tokensPerBatch}·√(H_aa H_bb)`);
      }
    }
  });
});
