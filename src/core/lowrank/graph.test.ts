// Factorised exports in onnxruntime-web: the bundled LM with its block layers written as two
// MatMuls gives the logits of the dense graph holding L·R (the math's model), and full rank gives
// the dense logits. The analysis of the factorised graph sees two linear layers per factorised
// one, with the layer's role and block.
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledModel, type BundledModel } from '../calibrate/fixtures/models.ts';
import { weightFromStored } from '../compress/weights.ts';
import { analyzeModel } from '../model/analyze.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { factorProduct, layerSpectrum, lowRankFactors } from './factorize.ts';
import { lmLogits, tokenWindows, withReconstructedWeights } from './fixtures/logits.ts';
import { factoriseLayers, type FactorisedLayer } from './graph.ts';

let lm: BundledModel;
const windows = tokenWindows(2, 24, 63);

beforeAll(() => {
  lm = bundledModel('kjv-charlm');
});

function factorised(rankOf: (cOut: number, cIn: number) => number): FactorisedLayer[] {
  const weights = initializerMap(lm.model.graph!);
  return lm.analysis.linears
    .filter((l) => l.block !== null)
    .map((layer) => {
      const w = weightFromStored(layer, tensorToFloat32(weights.get(layer.weight)!));
      const spectrum = layerSpectrum(w.data, w.rows, w.cols, { kind: 'identity' });
      return { layer, factors: lowRankFactors(spectrum, rankOf(w.rows, w.cols)) };
    });
}

describe('factoriseLayers on the bundled LM', () => {
  it('rank 24: ORT logits equal the dense graph holding L·R, the file is smaller, the input untouched', async () => {
    const before = writeModel(lm.model);
    const layers = factorised(() => 24);
    const model = factoriseLayers(lm.model, layers);
    const bytes = writeModel(model);
    expect(writeModel(lm.model)).toEqual(before);
    expect(bytes.length).toBeLessThan(before.length * 0.5);
    const math = withReconstructedWeights(lm.model, layers.map((f) => f.layer), new Map(layers.map((f) => [f.layer.id, factorProduct(f.factors, f.layer.outFeatures, f.layer.inFeatures)])));
    const [got, want] = [await lmLogits(readModel(bytes), windows), await lmLogits(math, windows)];
    // Two float32 products instead of one: rounding of order 1e-5 on logits of order 10.
    const report = expectClose(got, want, { atol: 2e-4, rtol: 1e-4 }, 'factorised vs reconstructed logits');
    expect(report.maxAbsError).toBeGreaterThan(0); // two products, not the same graph
  });

  it('full rank gives the dense logits', async () => {
    const model = factoriseLayers(lm.model, factorised((m, n) => Math.min(m, n)));
    expectClose(await lmLogits(model, windows), await lmLogits(lm.model, windows), { atol: 2e-4, rtol: 1e-4 }, 'full-rank vs dense logits');
  });

  it('the analysis sees each factorised layer as two linears with its role and block', () => {
    const layers = factorised(() => 16);
    const analysis = analyzeModel(factoriseLayers(lm.model, layers));
    const blockLinears = analysis.linears.filter((l) => l.block !== null);
    expect(blockLinears).toHaveLength(2 * layers.length);
    const q0 = blockLinears.filter((l) => l.block === 0 && l.role === 'attn.q');
    expect(q0.map((l) => [l.inFeatures, l.outFeatures])).toEqual([[128, 16], [16, 128]]);
    expect(analysis.attention.map((s) => [s.heads, s.headDim])).toEqual(lm.analysis.attention.map((s) => [s.heads, s.headDim]));
    expect(analysis.unsupported).toEqual(lm.analysis.unsupported);
  });
});
