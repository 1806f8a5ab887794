// The analytic size of a quantized file split by what its bytes hold: codes, scales, zero points,
// act-order group indices, and the unquantized rest (docs/quantization.md, "Size breakdown"). A
// layer's parts come from its stage's format (analyticPackedBytes, the same arithmetic as its
// report row's packedBytes); the rest from the file as written, less the quantized layers' stored
// weights — so nothing is serialised a second time.
import { analyticPackedBytes, type PackedBytes } from '../quant/export/size.ts';
import { MX_BLOCK_SIZE, MX_FORMATS } from '../quant/mx.ts';
import type { QuantizeStage } from '../recipe/stages/quantize.ts';
import type { AnalyticFileParts, LayerQuantReport } from './report.ts';

/**
 * One layer's analytic bytes by part, from its stage's format: MX stores elements and one E8M0
 * scale per block; the integer formats analyticPackedBytes' codes, scales and zero points, AWQ
 * its per-input-channel float32 scale besides, and GPTQ act-order an int32 g_idx per input. Null
 * when the parts do not add up to the row's packedBytes (a format this split does not know).
 */
export function quantizedLayerParts(row: LayerQuantReport, stage: QuantizeStage): PackedBytes | null {
  const [rows, cols] = row.shape;
  if (stage.method === 'mx') {
    const weights = Math.ceil((rows * cols * MX_FORMATS[stage.mxFormat].elementBits) / 8);
    const scales = rows * Math.ceil(cols / MX_BLOCK_SIZE);
    return weights + scales === row.packedBytes ? { weights, scales, zeroPoints: 0, groupIndex: 0, total: row.packedBytes } : null;
  }
  const groupSize = stage.granularity === 'group' ? stage.groupSize : cols;
  const base = analyticPackedBytes({ rows, cols, bits: stage.bits, groupSize, symmetric: stage.symmetric, hasGroupIndex: false });
  const awqScales = stage.method === 'awq' ? cols * 4 : 0;
  const groupIndex = row.packedBytes - base.total - awqScales;
  if (groupIndex !== 0 && groupIndex !== cols * 4) return null;
  return { weights: base.weights, scales: base.scales + awqScales, zeroPoints: base.zeroPoints, groupIndex, total: row.packedBytes };
}

/**
 * The file's analytic parts: the latest row per layer (a later quantize stage supersedes an
 * earlier one) split by quantizedLayerParts, and `restBytes`, the written file less those layers'
 * stored weights. Null, with the layer named in `notes`, when a layer's parts are unknown.
 */
export function analyticFileParts(rows: readonly LayerQuantReport[], stageOf: (row: LayerQuantReport) => QuantizeStage | undefined, restBytes: number, notes: string[]): AnalyticFileParts | null {
  const parts: AnalyticFileParts = { weights: 0, scales: 0, zeroPoints: 0, groupIndex: 0, rest: restBytes };
  for (const row of new Map(rows.map((r) => [r.id, r])).values()) {
    const stage = stageOf(row);
    const layer = stage && quantizedLayerParts(row, stage);
    if (!layer) {
      notes.push(`${row.name}: its analytic size (${row.packedBytes} bytes) could not be split into codes, scales and zero points; the size breakdown is not shown`);
      return null;
    }
    parts.weights += layer.weights;
    parts.scales += layer.scales;
    parts.zeroPoints += layer.zeroPoints;
    parts.groupIndex += layer.groupIndex;
  }
  return parts;
}

export const analyticPartsTotal = (p: AnalyticFileParts): number => p.weights + p.scales + p.zeroPoints + p.groupIndex + p.rest;

/** (measured − analytic) / analytic, in percent: how far the written file is from its analytic size. */
export const measuredVsAnalyticPercent = (measured: number, analytic: number): number => (analytic === 0 ? 0 : ((measured - analytic) / analytic) * 100);

/** "+1.23 %" / "−0.40 %". */
export const formatSignedPercent = (percent: number): string => `${percent < 0 ? '−' : '+'}${Math.abs(percent).toFixed(2)} %`;

/** The breakdown as labelled byte counts, in the order the views stack them; g_idx only when stored. */
export function analyticPartRows(p: AnalyticFileParts): { key: keyof AnalyticFileParts; label: string; bytes: number }[] {
  const rows: { key: keyof AnalyticFileParts; label: string; bytes: number }[] = [
    { key: 'weights', label: 'weight codes', bytes: p.weights },
    { key: 'scales', label: 'scales', bytes: p.scales },
    { key: 'zeroPoints', label: 'zero points', bytes: p.zeroPoints },
    { key: 'groupIndex', label: 'group index (g_idx)', bytes: p.groupIndex },
    { key: 'rest', label: 'unquantized rest', bytes: p.rest },
  ];
  return rows.filter((r) => r.key !== 'groupIndex' || r.bytes > 0);
}
