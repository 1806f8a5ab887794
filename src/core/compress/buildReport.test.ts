// The report's totals on the bundled LM without calibration (magnitude pruning, RTN): the file is
// serialised once even when a stage packs weights; "pruned layers" counts only layers a prune
// stage changed; the analytic size splits into codes, scales, zero points and the unquantized
// rest, which add up to the analytic total and lie within 3 % of the measured file.
import { describe, expect, test, vi } from 'vitest';
import { bundledModel } from '../calibrate/fixtures/models.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { analyticPackedBytes } from '../quant/export/size.ts';
import { writeModel, writtenModelSize } from '../onnx/write.ts';
import { compressModel } from './pipeline.ts';
import { analyticPartsTotal } from './sizeParts.ts';

const writes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../onnx/write.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../onnx/write.ts')>();
  return { ...actual, writeModel: (...args: Parameters<typeof actual.writeModel>) => (writes.count++, actual.writeModel(...args)) };
});

const lm = bundledModel('kjv-charlm');
const blockLayers = lm.analysis.linears.filter((l) => l.role !== 'embed' && l.role !== 'head');
const skipped = blockLayers.slice(0, 6).map((l) => l.id);
const run = (recipe: unknown) => compressModel({ model: lm.model, analysis: lm.analysis, recipe: parseRecipe(recipe) });

describe('buildReport totals', () => {
  test("the float file is sized by the encoder's measuring pass: the length writeModel would write", () => {
    expect(writtenModelSize(lm.model)).toBe(writeModel(lm.model).byteLength);
  });

  test('magnitude 50 % on some layers, then RTN 4-bit g32 packed on all: one write, pruned layers counted apart, analytic parts add up', async () => {
    writes.count = 0;
    const { report, bytes } = await run({
      version: 2,
      stages: [
        { kind: 'prune', method: 'magnitude', magnitudeScope: 'layer', pattern: 'unstructured', sparsity: 0.5, layers: { skip: skipped } },
        { kind: 'quantize', method: 'rtn', bits: 4, granularity: 'group', groupSize: 32, symmetric: false, export: 'packed' },
      ],
    });
    expect(writes.count).toBe(1);
    const t = report.totals;
    expect(t.packedLayers).toBe(blockLayers.length);
    expect(t.prunedLayers).toBe(blockLayers.length - skipped.length);
    expect(t.prunedParams).toBe(blockLayers.slice(6).reduce((n, l) => n + l.outFeatures * l.inFeatures, 0));
    expect(t.achievedSparsityPruned).toBeCloseTo(0.5, 2);
    const parts = t.analyticParts!;
    expect(analyticPartsTotal(parts)).toBe(t.analyticQuantizedFileBytes);
    const expected = blockLayers.map((l) => analyticPackedBytes({ rows: l.outFeatures, cols: l.inFeatures, bits: 4, groupSize: 32, symmetric: false, hasGroupIndex: false }));
    expect(parts.weights).toBe(expected.reduce((n, p) => n + p.weights, 0));
    expect(parts.scales).toBe(expected.reduce((n, p) => n + p.scales, 0));
    expect(parts.zeroPoints).toBe(expected.reduce((n, p) => n + p.zeroPoints, 0));
    expect(parts.groupIndex).toBe(0);
    // The rest (embeddings, norms, biases, head, graph) is the float file less the quantized float
    // weights: independent of how the export stored them, so the measured file is checked against it.
    const floatWeights = blockLayers.reduce((n, l) => n + 4 * l.outFeatures * l.inFeatures, 0);
    expect(parts.rest).toBeGreaterThan(0);
    expect(parts.rest).toBe(t.estimatedSparseFileBytes + report.layers.reduce((n, l) => n + 4 * l.shape[0] * l.shape[1] - l.estimatedSparseBytes, 0) - floatWeights);
    const off = bytes.byteLength / t.analyticQuantizedFileBytes! - 1;
    expect(Math.abs(off)).toBeLessThan(0.03);
    expect(off).not.toBe(0);
  });

  test('prune only: the sparse estimate swaps each pruned float weight for its sparse encoding; nothing analytic', async () => {
    const { report, bytes } = await run({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', magnitudeScope: 'layer', pattern: 'unstructured', sparsity: 0.5 }] });
    const t = report.totals;
    expect(t.prunedLayers).toBe(blockLayers.length);
    expect(t.estimatedSparseFileBytes).toBe(bytes.byteLength - report.layers.reduce((n, l) => n + 4 * l.shape[0] * l.shape[1] - l.estimatedSparseBytes, 0));
    expect([t.analyticQuantizedFileBytes, t.analyticParts]).toEqual([null, null]);
  });

  test('quantize only, simulated (3-bit): no pruned layers; the analytic parts use 3-bit codes and the rest excludes the float weights', async () => {
    const { report, bytes } = await run({ version: 2, stages: [{ kind: 'quantize', method: 'rtn', bits: 3, granularity: 'row', symmetric: true, export: 'simulated' }] });
    const t = report.totals;
    expect(t.prunedLayers).toBe(0);
    expect(t.prunedParams).toBe(0);
    expect(t.simulatedLayers).toBe(blockLayers.length);
    const floatWeights = blockLayers.reduce((n, l) => n + 4 * l.outFeatures * l.inFeatures, 0);
    expect(t.analyticParts!.rest).toBe(bytes.byteLength - floatWeights);
    expect(t.analyticParts!.weights).toBe(blockLayers.reduce((n, l) => n + Math.ceil((l.outFeatures * l.inFeatures * 3) / 8), 0));
    expect(t.analyticParts!.zeroPoints).toBe(0);
    expect(analyticPartsTotal(t.analyticParts!)).toBe(t.analyticQuantizedFileBytes);
  });
});
