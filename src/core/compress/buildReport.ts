// Assembling the CompressReport once every stage ran: the stages' reports and per-layer rows,
// totals over the changed layers and over all linear weights, the measured file size, the
// estimated sparse size, and the hashes that let the CLI and the browser be compared. The file
// written carries the recipe in its metadata_props (metadata.ts).
import type { RunBackends } from '../job/backend.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { writeModel, writtenModelSize } from '../onnx/write.ts';
import { describeRecipe } from '../recipe/describe.ts';
import type { Recipe } from '../recipe/types.ts';
import { countZeros } from './check.ts';
import { withLabMetadata } from './metadata.ts';
import { analyticFileParts } from './sizeParts.ts';
import type { CompressOutcome } from './pipeline.ts';
import { isPruneStageReport, isQuantizeStageReport, type CalibrationSummary, type CompressReport, type CompressTotals, type LayerQuantReport, type StageReport } from './report.ts';
import type { ModelProto } from '../onnx/types.ts';
import { sha256Hex, sha256HexOfChunks } from './sha256.ts';
import type { ReshapeStageReport } from './stage.ts';
import type { WorkingModel } from './weights.ts';

export interface ReportInput {
  recipe: Recipe;
  analysis: ModelAnalysis;
  /** The layers some stage changed, in model order. */
  layers: readonly LinearLayer[];
  working: WorkingModel;
  /** The graph to write: the working model, rewritten by stages that pack weights. */
  exported: ModelProto;
  stages: StageReport[];
  calibration: CalibrationSummary | null;
  backends: RunBackends;
  timings: CompressReport['timings'];
  notes: string[];
  /** The input model's name for the file's metadata (CompressRequest.sourceModel). */
  sourceModel?: string;
}

function storedBytes(working: WorkingModel, layer: LinearLayer): Uint8Array {
  const tensor = working.storedTensor(layer);
  if (tensor.rawData === undefined) throw new Error(`layer ${layer.name}: the changed weight was not stored as raw_data`);
  return tensor.rawData;
}

/** Zeros and elements of every linear weight the working model holds. */
function linearZeros(input: ReportInput): { params: number; zeros: number } {
  let params = 0;
  let zeros = 0;
  for (const layer of input.analysis.linears) {
    try {
      zeros += countZeros(input.working.readWeight(layer).data);
      params += layer.outFeatures * layer.inFeatures;
    } catch {
      input.notes.push(`${layer.name}: its weight could not be read for the all-linear totals`);
    }
  }
  return { params, zeros };
}

/**
 * ANALYTIC size of the file with every quantized layer in its format (the latest row per layer),
 * and its parts: the file as the working model stores it (float weights; `floatFile`) less the
 * quantized layers' float weights — the unquantized rest — plus each layer's analytic bytes. The
 * rest does not depend on how the export stored the quantized layers, so the measured file is
 * checked against an independent number.
 */
function analyticQuantized(input: ReportInput, quantized: readonly LayerQuantReport[], floatFile: number): Pick<CompressTotals, 'analyticQuantizedFileBytes' | 'analyticParts'> {
  if (quantized.length === 0) return { analyticQuantizedFileBytes: null, analyticParts: null };
  const last = [...new Map(quantized.map((q) => [q.id, q])).values()];
  const byId = new Map(input.layers.map((l) => [l.id, l]));
  const rest = floatFile - last.reduce((n, q) => n + (byId.has(q.id) ? storedBytes(input.working, byId.get(q.id)!).byteLength : 0), 0);
  return { analyticQuantizedFileBytes: rest + last.reduce((n, q) => n + q.packedBytes, 0), analyticParts: analyticFileParts(last, rest) };
}

export async function buildReport(input: ReportInput): Promise<CompressOutcome> {
  const { working, layers } = input;
  const rows = input.stages.flatMap((stage) => stage.layers);
  // The quantize stages' rows, and a prune stage's when it quantized in its sweep (joint SparseGPT + GPTQ).
  const quantized = input.stages.flatMap((stage) => (isQuantizeStageReport(stage) ? stage.quantized : isPruneStageReport(stage) ? (stage.quantized ?? []) : []));
  const model = withLabMetadata(input.exported, input.recipe, input.sourceModel);
  const bytes = writeModel(model);
  // Estimates start from the file as the working model stores it (float weights). When a stage
  // packed weights that file is not the one written: its size is measured, not written again.
  const floatFile = input.exported === working.model ? bytes.byteLength : writtenModelSize(withLabMetadata(working.model, input.recipe, input.sourceModel));
  // A layer a prune stage changed has a prune row; a layer only quantized has none.
  const lastRow = new Map(rows.map((row) => [row.id, row]));
  const pruned = layers.filter((l) => lastRow.has(l.id));
  const prunedParams = pruned.reduce((n, l) => n + l.outFeatures * l.inFeatures, 0);
  const prunedZeros = pruned.reduce((n, l) => n + countZeros(working.readWeight(l).data), 0);
  // ESTIMATED: the float file with each pruned weight in a sparse encoding (storage.ts).
  const sparseSaving = pruned.reduce((n, l) => n + storedBytes(working, l).byteLength - lastRow.get(l.id)!.estimatedSparseBytes, 0);
  const all = linearZeros(input);
  const totals: CompressTotals = {
    prunedLayers: pruned.length,
    prunedParams,
    prunedZeros,
    achievedSparsityPruned: prunedParams === 0 ? 0 : prunedZeros / prunedParams,
    linearParams: all.params,
    linearZeros: all.zeros,
    achievedSparsityAllLinear: all.params === 0 ? 0 : all.zeros / all.params,
    denseFileBytes: bytes.byteLength,
    estimatedSparseFileBytes: floatFile - sparseSaving,
    ...analyticQuantized(input, quantized, floatFile),
    packedLayers: quantized.filter((q) => q.export === 'packed').length,
    simulatedLayers: quantized.filter((q) => q.export === 'simulated').length,
  };
  const report: CompressReport = {
    recipe: input.recipe,
    summary: describeRecipe(input.recipe),
    stages: input.stages,
    layers: rows,
    quantized,
    reshaped: input.stages.flatMap((stage) => ('reshaped' in stage ? (stage as ReshapeStageReport).reshaped : [])),
    totals,
    calibration: input.calibration,
    backends: { ...input.backends, layerFallbacks: rows.filter((row) => row.backend.fallbackReason !== undefined && row.backend.requested !== row.backend.ran).length },
    // In model order, each changed layer's stored bytes as written (docs/calibration.md, "Report").
    weightsSha256: await sha256HexOfChunks(layers.map((layer) => storedBytes(working, layer))),
    fileSha256: await sha256Hex(bytes),
    timings: input.timings,
    notes: input.notes,
  };
  return { model, bytes, report };
}
