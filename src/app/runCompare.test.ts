import { describe, expect, test } from 'vitest';
import type { CompressReport, LayerPruneReport, LayerQuantReport } from '../core/compress/report';
import { layerDifferences, layerSides } from './runCompare';

const prune = (id: string, stage: number, achievedSparsity: number, relativeError: number | null) => ({ id, name: `layer ${id}`, stage, achievedSparsity, relativeError }) as LayerPruneReport;
const quant = (id: string, stage: number, bitsPerWeight: number, relativeError: number | null) => ({ id, name: `layer ${id}`, stage, bitsPerWeight, relativeError }) as LayerQuantReport;
const report = (layers: LayerPruneReport[], quantized: LayerQuantReport[] = []) => ({ layers, quantized }) as unknown as CompressReport;

describe('comparing two runs layer by layer', () => {
  test('a layer pruned then quantized: its sparsity from the prune stage, bits and error from the later quantize stage', () => {
    const sides = layerSides(report([prune('q', 0, 0.5, 0.1)], [quant('q', 1, 4.5, 0.2)]));
    expect(sides.get('q')).toEqual({ name: 'layer q', side: { sparsity: 0.5, relativeError: 0.2, bits: 4.5 } });
  });

  test('a later stage without an error keeps the earlier error; an unmeasured side stays null', () => {
    const sides = layerSides(report([prune('k', 0, 0.5, 0.1)], [quant('k', 1, 8, null)]));
    expect(sides.get('k')!.side.relativeError).toBe(0.1);
    expect(layerSides(report([prune('v', 0, 0.5, null)])).get('v')!.side).toEqual({ sparsity: 0.5, relativeError: null, bits: null });
  });

  test('only layers in both reports, largest error difference first, then sparsity', () => {
    const a = report([prune('a', 0, 0.5, 0.1), prune('b', 0, 0.5, 0.1), prune('c', 0, 0.5, 0.1), prune('only-a', 0, 0.5, 0.1)]);
    const b = report([prune('a', 0, 0.5, 0.15), prune('b', 0, 0.7, 0.1), prune('c', 0, 0.5, 0.4), prune('only-b', 0, 0.5, 0.1)]);
    const rows = layerDifferences(a, b);
    expect(rows.map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(rows[0].delta.relativeError).toBeCloseTo(0.3, 12);
    expect(rows[2].delta).toEqual({ sparsity: expect.closeTo(0.2, 12), relativeError: 0, bits: null });
  });

  test('a pruned-only run against a quantized-only run: the layers meet, sides the run did not measure stay null', () => {
    const rows = layerDifferences(report([prune('a', 0, 0.5, 0.1)]), report([], [quant('a', 0, 4, 0.05)]));
    expect(rows).toEqual([{ id: 'a', name: 'layer a', a: { sparsity: 0.5, relativeError: 0.1, bits: null }, b: { sparsity: null, relativeError: 0.05, bits: 4 }, delta: { sparsity: null, relativeError: expect.closeTo(-0.05, 12), bits: null } }]);
  });
});
