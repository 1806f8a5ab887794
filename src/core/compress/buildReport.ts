// Assembling the PruneReport once every layer is written: per-layer checks and errors, totals
// over the pruned layers and over all linear weights, the measured file size, the estimated
// sparse size, and the hashes that let the CLI and the browser be compared.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { describePattern } from '../prune/patterns.ts';
import { writeModel } from '../onnx/write.ts';
import { DataType } from '../onnx/types.ts';
import { describeRecipe } from '../recipe/describe.ts';
import type { PruneRecipe } from '../recipe/types.ts';
import type { Allocation } from './allocate.ts';
import { checkPrunedLayer, countZeros } from './check.ts';
import type { PruneJobResult } from './jobs.ts';
import type { PruneOutcome } from './pipeline.ts';
import type { CalibrationSummary, LayerPruneReport, PruneReport, PruneTotals } from './report.ts';
import { sha256Hex, sha256HexOfChunks } from './sha256.ts';
import { estimatedSparseBytes } from './storage.ts';
import type { WorkingModel } from './weights.ts';

export interface ReportInput {
  recipe: PruneRecipe;
  analysis: ModelAnalysis;
  layers: readonly LinearLayer[];
  working: WorkingModel;
  allocation: Allocation;
  results: ReadonlyMap<string, PruneJobResult>;
  calibration: CalibrationSummary | null;
  timings: PruneReport['timings'];
  notes: string[];
}

function storedBytes(working: WorkingModel, layer: LinearLayer): Uint8Array {
  const tensor = working.storedTensor(layer);
  if (tensor.rawData === undefined) throw new Error(`layer ${layer.name}: pruned weight was not stored as raw_data`);
  return tensor.rawData;
}

function layerReport(input: ReportInput, layer: LinearLayer): LayerPruneReport {
  const result = input.results.get(layer.id);
  const pattern = input.allocation.patterns.get(layer.id);
  const target = input.allocation.sparsity.get(layer.id);
  if (!result || !pattern || target === undefined) throw new Error(`report: layer ${layer.id} was not pruned`);
  const numel = layer.outFeatures * layer.inFeatures;
  const zeros = countZeros(result.weight.data);
  const valueBytes = input.working.storedTensor(layer).dataType === DataType.FLOAT16 ? 2 : 4;
  const estimate = estimatedSparseBytes(pattern, layer.outFeatures, layer.inFeatures, numel - zeros);
  return {
    id: layer.id,
    name: layer.name,
    block: layer.block,
    role: layer.role,
    shape: [layer.outFeatures, layer.inFeatures],
    pattern: describePattern(pattern),
    targetSparsity: target,
    achievedSparsity: zeros / numel,
    relativeError: result.relativeError,
    ms: result.ms,
    backend: result.backend,
    patternCheck: checkPrunedLayer(result.weight, result.keep, pattern, target),
    // The estimate counts fp32 values; a float16 weight's values take half.
    estimatedSparseBytes: valueBytes === 4 ? estimate : estimate - (numel - zeros) * 2,
  };
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

export async function buildReport(input: ReportInput): Promise<PruneOutcome> {
  const { working, layers } = input;
  const reports = layers.map((layer) => layerReport(input, layer));
  const bytes = writeModel(working.model);
  const prunedParams = layers.reduce((n, l) => n + l.outFeatures * l.inFeatures, 0);
  const prunedZeros = reports.reduce((n, r) => n + Math.round(r.achievedSparsity * r.shape[0] * r.shape[1]), 0);
  const storedDense = layers.reduce((n, l) => n + storedBytes(working, l).byteLength, 0);
  const all = linearZeros(input);
  const totals: PruneTotals = {
    prunedLayers: layers.length,
    prunedParams,
    prunedZeros,
    achievedSparsityPruned: prunedZeros / prunedParams,
    linearParams: all.params,
    linearZeros: all.zeros,
    achievedSparsityAllLinear: all.params === 0 ? 0 : all.zeros / all.params,
    denseFileBytes: bytes.byteLength,
    estimatedSparseFileBytes: bytes.byteLength - storedDense + reports.reduce((n, r) => n + r.estimatedSparseBytes, 0),
  };
  const { patterns: _patterns, sparsity: _sparsity, ...allocation } = input.allocation;
  const report: PruneReport = {
    recipe: input.recipe,
    summary: describeRecipe(input.recipe),
    layers: reports,
    allocation,
    totals,
    calibration: input.calibration,
    // In model order, each layer's stored bytes as written (docs/calibration.md, "Report").
    weightsSha256: await sha256HexOfChunks(layers.map((layer) => storedBytes(working, layer))),
    fileSha256: await sha256Hex(bytes),
    timings: input.timings,
    notes: input.notes,
  };
  return { model: working.model, bytes, report };
}
