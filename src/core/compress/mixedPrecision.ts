// Mixed precision in the quantize stage's start(): every layer of the stage quantized alone at every
// candidate width on the dense model, its sensitivity measured on its dense H (quant/mixed.ts), and
// the widths allocated under the target before any layer is quantized for real; widths the user
// set (bitsByLayer) are kept and spend their bits first. Without `mixed`, bitsByLayer alone sets
// those layers' widths over the stage's `bits`. See docs/quantization.md, "Mixed precision".
import { throwIfCancelled } from '../job/cancel.ts';
import type { LinearLayer } from '../model/types.ts';
import type { Matrix } from '../prune/types.ts';
import { allocateBits, layerSensitivity, type MixedLayerCost } from '../quant/mixed.ts';
import { setWidthOf } from '../recipe/stages/mixedPrecision.ts';
import type { QuantizeStage } from '../recipe/stages/quantize.ts';
import type { LayerQuantReport, LayerWidthReport, MixedPrecisionReport } from './report.ts';
import type { StageContext } from './stage.ts';

const now = () => performance.now();

/** Ŵ of a layer quantized at `bits` with the stage's method and granularity. */
export type QuantizeAt = (bits: number, weight: Matrix, layer: LinearLayer) => Matrix;

export interface WidthPlan {
  /** Width per layer id, with where it came from and (with `mixed`) its sensitivity row. */
  widths: Map<string, LayerWidthReport>;
  /** The allocation's summary, less the stored bits (known once the layers are quantized). */
  mixed?: Omit<MixedPrecisionReport, 'averageStoredBits'>;
}

/** The stage's per-layer widths, or undefined when it has one width for all (no `mixed`, no `bitsByLayer`). */
export async function planWidths(stage: QuantizeStage, context: StageContext, quantizeAt: QuantizeAt): Promise<WidthPlan | undefined> {
  if (!stage.mixed && !stage.bitsByLayer) return undefined;
  const { layers } = context;
  if (!stage.mixed) {
    return { widths: new Map(layers.map((layer) => { const set = setWidthOf(stage, layer); return [layer.id, { bits: set ?? stage.bits, from: set === undefined ? 'stage' : 'set' }]; })) };
  }
  const start = now();
  const { candidates, targetBits } = stage.mixed;
  const costs: MixedLayerCost[] = [];
  for (const [done, layer] of layers.entries()) {
    throwIfCancelled(context.cancel, 'mixed-precision sensitivity');
    const hessian = context.dense?.layers.get(layer.id)?.hessian;
    if (!hessian || hessian.length === 0) throw new Error(`mixed precision: ${layer.name} has no Hessian from the dense calibration pass`);
    const weight = context.working.readWeight(layer);
    const set = setWidthOf(stage, layer);
    costs.push({ numel: layer.outFeatures * layer.inFeatures, errors: layerSensitivity(weight, hessian, candidates, (bits) => quantizeAt(bits, weight, layer)), ...(set === undefined ? {} : { fixedBits: set }) });
    // Let a cancel message and progress through between layers.
    await Promise.resolve();
    context.onProgress({ phase: 'allocate', label: 'mixed-precision sensitivity', stage: context.index, done: done + 1, total: layers.length, layerId: layer.id });
  }
  const allocation = allocateBits(costs, candidates, targetBits);
  const widths = new Map<string, LayerWidthReport>(
    layers.map((layer, l) => [
      layer.id,
      { bits: allocation.widths[l], from: costs[l].fixedBits === undefined ? 'allocation' : 'set', sensitivity: candidates.map((bits, k) => ({ bits, error: costs[l].errors[k] })) },
    ]),
  );
  const setByHand = costs.filter((c) => c.fixedBits !== undefined).length;
  return { widths, mixed: { targetBits, candidates: [...candidates], averageCodeBits: allocation.averageBits, sensitivityTotal: allocation.error, exact: allocation.exact, setByHand, ms: now() - start } };
}

/** The allocation's summary with the stored bits per weight of the rows as quantized. */
export function mixedReport(plan: WidthPlan | undefined, rows: readonly LayerQuantReport[]): MixedPrecisionReport | undefined {
  if (!plan?.mixed) return undefined;
  const numel = rows.reduce((sum, r) => sum + r.shape[0] * r.shape[1], 0);
  const bytes = rows.reduce((sum, r) => sum + r.packedBytes, 0);
  return { ...plan.mixed, averageStoredBits: numel === 0 ? 0 : (bytes * 8) / numel };
}

/** "3.97 code bits/weight (target 4), 5.03 stored; 2-bit ×2, 3-bit ×13, 4-bit ×19, 8-bit ×2" for the CLI and the page. */
export function describeMixedReport(mixed: MixedPrecisionReport, rows: readonly LayerQuantReport[]): string {
  const counts = new Map<number, number>();
  for (const row of rows) if (row.width) counts.set(row.width.bits, (counts.get(row.width.bits) ?? 0) + 1);
  const widths = [...counts].sort((a, b) => a[0] - b[0]).map(([bits, n]) => `${bits}-bit ×${n}`).join(', ');
  const extras = [mixed.setByHand > 0 ? `${mixed.setByHand} set by hand` : '', mixed.exact ? '' : 'budget rounded to a coarser unit'].filter(Boolean);
  return `${mixed.averageCodeBits.toFixed(3)} code bits/weight (target ${mixed.targetBits}), ${mixed.averageStoredBits.toFixed(3)} with scales and zero points; ${widths}${extras.length ? `; ${extras.join(', ')}` : ''}`;
}
