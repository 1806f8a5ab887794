// A quantized file's analytic size split by part: every stage row carries its parts beside its
// packedBytes (they must add up — the quantize stage, QUIK, AWQ's Mul scale and the joint prune
// stage compute both from one place), and the file's parts are their sum plus the unquantized rest.
import { describe, expect, test } from 'vitest';
import { analyticPackedBytes } from '../quant/export/size.ts';
import type { LayerPackedParts, LayerQuantReport } from './report.ts';
import { analyticFileParts, analyticPartRows, analyticPartsTotal, layerPartsTotal, packedParts } from './sizeParts.ts';

const [ROWS, COLS] = [96, 256];
const row = (id: string, parts: LayerPackedParts, packedBytes = layerPartsTotal(parts)): LayerQuantReport => ({
  id, name: `blocks.0.${id}`, block: 0, role: 'mlp.up', stage: 0, shape: [ROWS, COLS], method: 'gptq', format: '', bitsPerWeight: (packedBytes * 8) / (ROWS * COLS), export: 'packed', packedBytes, parts,
  relativeError: null, relativeErrorBasis: null, relativeErrorTokens: null, zerosKept: 0, rezeroed: 0, ms: 0, backend: { requested: 'cpu', ran: 'cpu' },
});
const format = { rows: ROWS, cols: COLS, bits: 4, groupSize: 32, symmetric: false };

describe('analytic size parts', () => {
  test("a packed weight's parts are analyticPackedBytes', nothing in float", () => {
    const bytes = analyticPackedBytes({ ...format, hasGroupIndex: true });
    const parts = packedParts(bytes);
    expect(parts).toEqual({ weights: bytes.weights, scales: bytes.scales, zeroPoints: bytes.zeroPoints, groupIndex: COLS * 4, floatColumns: 0 });
    expect(layerPartsTotal(parts)).toBe(bytes.total);
  });

  test('the file: the latest row per layer summed, plus the rest; g_idx and float columns listed only when stored', () => {
    const gptq = packedParts(analyticPackedBytes({ ...format, hasGroupIndex: false }));
    const quik = { ...gptq, floatColumns: ROWS * 8 * 4 + 300 };
    // Layer a was quantized twice (a later stage supersedes the earlier row).
    const rows = [row('a', { ...gptq, weights: 1 }), row('b', quik), row('a', gptq)];
    const file = analyticFileParts(rows, 10_000);
    expect(file).toEqual({ weights: 2 * gptq.weights, scales: 2 * gptq.scales, zeroPoints: 2 * gptq.zeroPoints, groupIndex: 0, floatColumns: quik.floatColumns, rest: 10_000 });
    expect(analyticPartsTotal(file)).toBe(layerPartsTotal(gptq) + layerPartsTotal(quik) + 10_000);
    expect(analyticPartRows(file).map((r) => r.key)).toEqual(['weights', 'scales', 'zeroPoints', 'floatColumns', 'rest']);
    expect(analyticPartRows({ ...file, floatColumns: 0 }).map((r) => r.key)).toEqual(['weights', 'scales', 'zeroPoints', 'rest']);
  });

  test('a row whose parts do not add up to its packedBytes is a bug, named', () => {
    const parts = packedParts(analyticPackedBytes({ ...format, hasGroupIndex: false }));
    expect(() => analyticFileParts([row('a', parts, layerPartsTotal(parts) + 4)], 0)).toThrow(/blocks\.0\.a add up to \d+ bytes, not its \d+/);
  });
});
