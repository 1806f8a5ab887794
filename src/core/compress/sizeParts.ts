// The analytic size of a quantized file split by what its bytes hold: codes, scales, zero points,
// act-order group indices, float columns inside quantized layers, and the unquantized rest
// (docs/quantization.md, "Size breakdown"). Each layer's parts come from the stage that quantized
// it (its report row, beside packedBytes); the rest from the file as written, less the quantized
// layers' stored weights — so nothing is serialised a second time.
import type { PackedBytes } from '../quant/export/size.ts';
import type { AnalyticFileParts, LayerPackedParts, LayerQuantReport } from './report.ts';

/** A quantized weight's analytic parts (analyticPackedBytes), nothing in float. */
export const packedParts = (bytes: PackedBytes): LayerPackedParts => ({ weights: bytes.weights, scales: bytes.scales, zeroPoints: bytes.zeroPoints, groupIndex: bytes.groupIndex, floatColumns: 0 });

export const layerPartsTotal = (p: LayerPackedParts): number => p.weights + p.scales + p.zeroPoints + p.groupIndex + p.floatColumns;

/**
 * The file's analytic parts: the latest row per layer (a later quantize stage supersedes an
 * earlier one), each row's parts as its stage computed them with its packedBytes, and
 * `restBytes`, the written file less those layers' stored weights.
 */
export function analyticFileParts(rows: readonly LayerQuantReport[], restBytes: number): AnalyticFileParts {
  const parts: AnalyticFileParts = { weights: 0, scales: 0, zeroPoints: 0, groupIndex: 0, floatColumns: 0, rest: restBytes };
  for (const row of new Map(rows.map((r) => [r.id, r])).values()) {
    if (layerPartsTotal(row.parts) !== row.packedBytes) throw new Error(`report: the parts of ${row.name} add up to ${layerPartsTotal(row.parts)} bytes, not its ${row.packedBytes}`);
    parts.weights += row.parts.weights;
    parts.scales += row.parts.scales;
    parts.zeroPoints += row.parts.zeroPoints;
    parts.groupIndex += row.parts.groupIndex;
    parts.floatColumns += row.parts.floatColumns;
  }
  return parts;
}

export const analyticPartsTotal = (p: AnalyticFileParts): number => layerPartsTotal(p) + p.rest;

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
    { key: 'floatColumns', label: 'float columns (QUIK)', bytes: p.floatColumns },
    { key: 'rest', label: 'unquantized rest', bytes: p.rest },
  ];
  return rows.filter((r) => (r.key !== 'groupIndex' && r.key !== 'floatColumns') || r.bytes > 0);
}
