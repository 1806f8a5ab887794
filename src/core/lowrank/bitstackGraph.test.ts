// BitStack exports in onnxruntime-web: the bundled LM with its block layers stored as packed sign
// blocks gives the logits of the dense graph holding the reconstruction (the math's model), and
// the file is really smaller.
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledModel, type BundledModel } from '../calibrate/fixtures/models.ts';
import { weightFromStored } from '../compress/weights.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { bitStackBlockBytes, decomposeBitStack, reconstructBitStack } from './bitstack.ts';
import { writePackedBitStack, type BitStackLayer } from './bitstackGraph.ts';
import { lmLogits, tokenWindows, withReconstructedWeights } from './fixtures/logits.ts';

let lm: BundledModel;
let layers: BitStackLayer[];
const windows = tokenWindows(2, 24, 63);

beforeAll(() => {
  lm = bundledModel('kjv-charlm');
  const weights = initializerMap(lm.model.graph!);
  // Blocks 0 and 1 (every role), with 1–4 blocks kept: the ops read 1 and several blocks.
  layers = lm.analysis.linears
    .filter((l) => l.block !== null && l.block < 2)
    .map((layer, i) => {
      const w = weightFromStored(layer, tensorToFloat32(weights.get(layer.weight)!));
      return { layer, blocks: decomposeBitStack(w.data, w.rows, w.cols, 1 + (i % 4), 1), k: 1 };
    });
});

describe('writePackedBitStack on the bundled LM', () => {
  it('ORT logits equal the dense graph holding the reconstruction; the file shrinks by the blocks', async () => {
    const model = writePackedBitStack(lm.model, layers);
    const bytes = writeModel(model);
    const reconstructed = new Map(layers.map(({ layer, blocks, k }) => [layer.id, reconstructBitStack(blocks, blocks.length, layer.outFeatures, layer.inFeatures, k)]));
    const math = withReconstructedWeights(lm.model, layers.map((l) => l.layer), reconstructed);
    const report = expectClose(await lmLogits(bytes, windows), await lmLogits(math, windows), { atol: 2e-4, rtol: 1e-4 }, 'packed BitStack vs reconstructed logits');
    expect(report.maxAbsError).toBeLessThan(2e-4);
    const dense = layers.reduce((sum, { layer }) => sum + 4 * layer.outFeatures * layer.inFeatures, 0);
    const stored = layers.reduce((sum, { layer, blocks }) => sum + blocks.length * bitStackBlockBytes(layer.outFeatures, layer.inFeatures, 1), 0);
    // The shape constants and nodes cost a few hundred bytes per layer (measured ≈ 850 bytes).
    const saved = lm.bytes.length - bytes.length;
    expect(saved).toBeGreaterThan(dense - stored - 1000 * layers.length);
    expect(saved).toBeLessThanOrEqual(dense - stored);
  });

  it('refuses a model whose opset is older than 13, naming it', () => {
    const old = { ...lm.model, opsetImport: [{ domain: '', version: 11 }] };
    expect(() => writePackedBitStack(old, layers)).toThrow("BitStack's packed export needs ONNX opset 13 or later; the model imports 11");
  });
});
