// The prune stage's joint SparseGPT + GPTQ (recipe field `quantize` on method sparsegpt): the job's
// quantizer, and the quantize-stage report row and packed export for its layers — the same row
// fields and the same writer (packedExport.ts) as the quantize stage, so the report, the CLI and
// the file treat the two alike. See docs/quantization.md, "Joint SparseGPT + GPTQ".
import type { LinearLayer } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { analyticPackedBytes, formatOf, matMulNBitsLayerProblem } from '../quant/export/index.ts';
import type { Granularity, IntGrid } from '../quant/types.ts';
import { jointQuantizeStage, type JointQuantize } from '../recipe/stages/prune.ts';
import { describeQuantFormat, packProblem } from '../recipe/stages/quantize.ts';
import { countZeros } from './check.ts';
import type { PruneJob, PruneJobResult } from './jobs.ts';
import { writePackedLayers } from './packedExport.ts';
import { packedParts } from './sizeParts.ts';
import type { LayerQuantReport } from './report.ts';

/** What a prune job passes to sparseGptPrune's `quantize`. */
export function jointQuantizeOptions(quantize: JointQuantize): NonNullable<PruneJob['quantize']> {
  const grid: IntGrid = { bits: quantize.bits, symmetric: quantize.symmetric };
  const granularity: Granularity = quantize.granularity === 'group' ? { kind: 'group', size: quantize.groupSize } : { kind: quantize.granularity };
  return { grid, granularity, mseClip: quantize.mseClip };
}

/** The quantize-stage row of a layer pruned and quantized in one sweep. */
export function jointQuantRow(quantize: JointQuantize, stageIndex: number, layer: LinearLayer, result: PruneJobResult): LayerQuantReport {
  const q = result.quantized;
  if (!q) throw new Error(`report: layer ${layer.name} was pruned without the joint quantization's codes`);
  const asStage = jointQuantizeStage(quantize);
  const why = quantize.export === 'simulated' ? 'export "simulated" was asked for' : (packProblem(asStage, layer) ?? matMulNBitsLayerProblem(layer, q) ?? undefined);
  const analytic = analyticPackedBytes(formatOf(q));
  const bytes = analytic.total;
  return {
    id: layer.id,
    name: layer.name,
    block: layer.block,
    role: layer.role,
    stage: stageIndex,
    shape: [layer.outFeatures, layer.inFeatures],
    method: 'sparsegpt+gptq',
    format: describeQuantFormat(asStage),
    bitsPerWeight: (bytes * 8) / (layer.outFeatures * layer.inFeatures),
    export: why === undefined ? 'packed' : 'simulated',
    ...(why !== undefined && quantize.export !== 'simulated' ? { simulatedBecause: why } : {}),
    packedBytes: bytes,
    parts: packedParts(analytic),
    relativeError: result.relativeError,
    relativeErrorBasis: result.relativeErrorBasis,
    relativeErrorTokens: result.relativeErrorTokens,
    // The pruned weights: code = zero point, exactly 0 in Ŵ (the sweep quantizes kept weights only).
    zerosKept: countZeros(result.keep.data),
    rezeroed: 0,
    ms: result.ms,
    backend: result.ran,
  };
}

/** The packed export of the rows marked packed, through the quantize stage's writer. */
export function exportJointQuantized(model: ModelProto, layers: readonly LinearLayer[], rows: ReadonlyMap<string, LayerQuantReport>, results: ReadonlyMap<string, PruneJobResult>): { model: ModelProto; notes: string[] } {
  const packed = layers.flatMap((layer) => {
    const q = results.get(layer.id)?.quantized;
    return rows.get(layer.id)?.export === 'packed' && q ? [{ layer, weight: q }] : [];
  });
  return writePackedLayers(model, packed);
}
