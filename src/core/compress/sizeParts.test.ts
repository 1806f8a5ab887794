// A quantized layer's analytic bytes split by part, from its stage's format: each split adds up to
// the row's packedBytes (the quantize stage's sum); a row the split cannot explain gives null and
// a note, never a wrong breakdown.
import { describe, expect, test } from 'vitest';
import { analyticPackedBytes } from '../quant/export/size.ts';
import { defaultQuantizeStage, type QuantizeStage } from '../recipe/stages/quantize.ts';
import type { LayerQuantReport } from './report.ts';
import { analyticFileParts, quantizedLayerParts } from './sizeParts.ts';

const [ROWS, COLS] = [96, 256];
const row = (packedBytes: number): LayerQuantReport => ({
  id: 'l', name: 'blocks.0.mlp.up', block: 0, role: 'mlp.up', stage: 0, shape: [ROWS, COLS], method: 'gptq', format: '', bitsPerWeight: (packedBytes * 8) / (ROWS * COLS), export: 'packed', packedBytes,
  relativeError: null, relativeErrorBasis: null, relativeErrorTokens: null, zerosKept: 0, rezeroed: 0, ms: 0, backend: { requested: 'cpu', ran: 'cpu' },
});
const stage = (patch: Partial<QuantizeStage>): QuantizeStage => ({ ...defaultQuantizeStage(), ...patch });
const format = { rows: ROWS, cols: COLS, bits: 4, groupSize: 32, symmetric: false };

describe('quantizedLayerParts', () => {
  test('GPTQ 4-bit asym g32, with and without act-order g_idx', () => {
    const plain = analyticPackedBytes({ ...format, hasGroupIndex: false });
    expect(quantizedLayerParts(row(plain.total), stage({}))).toEqual(plain);
    const actOrder = analyticPackedBytes({ ...format, hasGroupIndex: true });
    expect(quantizedLayerParts(row(actOrder.total), stage({}))).toEqual(actOrder);
    expect(actOrder.groupIndex).toBe(COLS * 4);
  });

  test('AWQ: its per-input-channel float32 scale counts as scales', () => {
    const base = analyticPackedBytes({ ...format, hasGroupIndex: false });
    const parts = quantizedLayerParts(row(base.total + COLS * 4), stage({ method: 'awq' }))!;
    expect(parts).toEqual({ ...base, scales: base.scales + COLS * 4, total: base.total + COLS * 4 });
  });

  test('MXFP4: 4-bit elements and one byte of scale per block of 32', () => {
    const parts = quantizedLayerParts(row((ROWS * COLS) / 2 + ROWS * (COLS / 32)), stage({ method: 'mx', mxFormat: 'mxfp4' }))!;
    expect([parts.weights, parts.scales, parts.zeroPoints]).toEqual([(ROWS * COLS) / 2, ROWS * 8, 0]);
  });

  test('a row the stage cannot explain (another width) is not split; the note names the layer', () => {
    const threeBit = analyticPackedBytes({ ...format, bits: 3, hasGroupIndex: false }).total;
    expect(quantizedLayerParts(row(threeBit), stage({ bits: 4 }))).toBeNull();
    const notes: string[] = [];
    expect(analyticFileParts([row(threeBit)], () => stage({ bits: 4 }), 1000, notes)).toBeNull();
    expect(notes[0]).toMatch(/blocks\.0\.mlp\.up: .* could not be split/);
  });
});
