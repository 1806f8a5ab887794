// Assembling the CompressReport once every stage ran: the stages' reports and per-layer rows,
// totals over the changed layers and over all linear weights, the measured file size, the
// estimated sparse size, and the hashes that let the CLI and the browser be compared. The file
// written carries the recipe in its metadata_props (metadata.ts).
import type { RunBackends } from '../job/backend.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { writeModel } from '../onnx/write.ts';
import { describeRecipe } from '../recipe/describe.ts';
import type { Recipe } from '../recipe/types.ts';
import { countZeros } from './check.ts';
import { withLabMetadata } from './metadata.ts';
import { analyticFileParts } from './sizeParts.ts';
import { nBitsNodeOf, nBitsStoredBytes } from '../quant/export/read.ts';
import { isQuantizeStage } from '../recipe/stages/quantize.ts';
import type { CompressOutcome } from './pipeline.ts';
import { isQuantizeStageReport, type CalibrationSummary, type CompressReport, type CompressTotals, type LayerQuantReport, type StageReport } from './report.ts';
import type { ModelProto } from '../onnx/types.ts';
import { sha256Hex, sha256HexOfChunks } from './sha256.ts';
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
 * Bytes a changed layer's weight takes in the written file: the MatMulNBits node's tensors (B,
 * scales, zero points, g_idx) when a stage packed it, else its float initializer.
 */
function writtenWeightBytes(input: ReportInput, layer: LinearLayer): { bytes: number; packed: boolean } {
  const graph = input.exported.graph;
  const node = graph && input.exported !== input.working.model ? nBitsNodeOf(graph, layer) : undefined;
  if (graph && node) return { bytes: nBitsStoredBytes(graph, node), packed: true };
  return { bytes: storedBytes(input.working, layer).byteLength, packed: false };
}

/**
 * ANALYTIC size of the file with every quantized layer in its format (the latest row per layer),
 * and its parts: the written file less the quantized layers' stored weights (the unquantized
 * rest), plus each layer's analytic bytes. Computed from the file as written once.
 */
function analyticQuantized(input: ReportInput, quantized: readonly LayerQuantReport[], fileBytes: number, written: Map<string, number>): Pick<CompressTotals, 'analyticQuantizedFileBytes' | 'analyticParts'> {
  if (quantized.length === 0) return { analyticQuantizedFileBytes: null, analyticParts: null };
  const last = [...new Map(quantized.map((q) => [q.id, q])).values()];
  const rest = fileBytes - last.reduce((n, q) => n + (written.get(q.id) ?? 0), 0);
  const stageOf = (row: LayerQuantReport) => {
    const stage = input.recipe.stages[row.stage];
    return stage && isQuantizeStage(stage) ? stage : undefined;
  };
  return { analyticQuantizedFileBytes: rest + last.reduce((n, q) => n + q.packedBytes, 0), analyticParts: analyticFileParts(last, stageOf, rest, input.notes) };
}

export async function buildReport(input: ReportInput): Promise<CompressOutcome> {
  const { working, layers } = input;
  const rows = input.stages.flatMap((stage) => stage.layers);
  const quantized = input.stages.filter(isQuantizeStageReport).flatMap((stage) => stage.quantized);
  const model = withLabMetadata(input.exported, input.recipe, input.sourceModel);
  // Written once: sizes below are taken from these bytes and the tensors in them.
  const bytes = writeModel(model);
  const written = new Map(layers.map((l) => [l.id, writtenWeightBytes(input, l)]));
  // A layer a prune stage changed has a prune row; a layer only quantized has none.
  const lastRow = new Map(rows.map((row) => [row.id, row]));
  const pruned = layers.filter((l) => lastRow.has(l.id));
  const prunedParams = pruned.reduce((n, l) => n + l.outFeatures * l.inFeatures, 0);
  const prunedZeros = pruned.reduce((n, l) => n + countZeros(working.readWeight(l).data), 0);
  // The sparse estimate re-encodes pruned weights stored as floats; packed ones stay as written.
  const sparseSaving = pruned.reduce((n, l) => {
    const w = written.get(l.id)!;
    return w.packed ? n : n + w.bytes - lastRow.get(l.id)!.estimatedSparseBytes;
  }, 0);
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
    estimatedSparseFileBytes: bytes.byteLength - sparseSaving,
    ...analyticQuantized(input, quantized, bytes.byteLength, new Map([...written].map(([id, w]) => [id, w.bytes]))),
    packedLayers: quantized.filter((q) => q.export === 'packed').length,
    simulatedLayers: quantized.filter((q) => q.export === 'simulated').length,
  };
  const report: CompressReport = {
    recipe: input.recipe,
    summary: describeRecipe(input.recipe),
    stages: input.stages,
    layers: rows,
    quantized,
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
