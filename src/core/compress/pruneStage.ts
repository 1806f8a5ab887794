// The prune stage in the pipeline: at start, per-layer sparsities from the allocator on the dense
// model (with sensitivity's trial prunings as jobs) — or, for magnitude with global scope, every
// layer at once under one threshold; at each step, one job per layer on the step's statistics,
// written back in layer order whatever order they finish in; at the end, a checked report row per
// layer. Its fields and checks are src/core/recipe/stages/prune.ts.
import type { CalibrationStats } from '../calibrate/collect.ts';
import { DataType } from '../onnx/types.ts';
import type { LinearLayer } from '../model/types.ts';
import { SENSITIVITY_RATIOS } from '../prune/allocation/sensitivity.ts';
import { magnitudePruneGlobal } from '../prune/magnitude.ts';
import { describePattern, unstructured, type SparsityPattern } from '../prune/patterns.ts';
import type { Matrix, PruneResult } from '../prune/types.ts';
import { cpuUse } from '../job/backend.ts';
import { describePruneStage, targetSparsity, type PruneStage } from '../recipe/stages/prune.ts';
import { allocateSparsity, type Allocation } from './allocate.ts';
import { checkPrunedLayer, countZeros } from './check.ts';
import { dispatchJobs } from './dispatch.ts';
import { pruneJobResult, type PruneJob, type PruneJobResult } from './jobs.ts';
import { exportJointQuantized, jointQuantizeOptions, jointQuantRow } from './jointQuantize.ts';
import type { LayerPruneReport, LayerQuantReport, PruneStageReport } from './report.ts';
import type { ModelProto } from '../onnx/types.ts';
import type { StageContext, StageRun, StageRunner, StageStep } from './stage.ts';
import { estimatedSparseBytes } from './storage.ts';

const now = () => performance.now();

function job(stage: PruneStage, index: number, layer: LinearLayer, weight: Matrix, pattern: SparsityPattern, stats: CalibrationStats | undefined, purpose: PruneJob['purpose']): PruneJob {
  const layerStats = stats?.layers.get(layer.id);
  const sqNorm = stats?.selectedSqNorm.get(layer.id) ?? layerStats?.sqNorm;
  return {
    index,
    layerId: layer.id,
    purpose,
    method: stage.method,
    pattern,
    magnitudeGroup: stage.magnitudeScope === 'row' ? 'row' : 'layer',
    weight,
    ...(sqNorm ? { sqNorm } : {}),
    ...(layerStats && layerStats.hessian.length > 0 ? { hessian: layerStats.hessian, hessianTokens: layerStats.tokens } : {}),
    ...(layerStats?.inputSample ? { inputSample: layerStats.inputSample } : {}),
    sparseGpt: { ...stage.sparseGpt },
    // Sensitivity's trial prunings measure pruning alone.
    ...(stage.quantize && purpose === 'prune' ? { quantize: jointQuantizeOptions(stage.quantize) } : {}),
  };
}

async function allocate(stage: PruneStage, context: StageContext, weights: Map<string, Matrix>): Promise<Allocation> {
  const { layers, dense } = context;
  let sensitivityErrors: Map<string, number[]> | undefined;
  if (stage.allocation.kind === 'sensitivity') {
    // Each layer pruned alone at every ratio; its error from H (exact: the dense pass collects H
    // for sensitivity), no extra forward pass.
    const ratios = SENSITIVITY_RATIOS;
    const jobs = layers.flatMap((layer, l) => ratios.map((ratio, k) => job(stage, l * ratios.length + k, layer, weights.get(layer.id)!, unstructured(ratio), dense, 'sensitivity')));
    const results = await dispatchJobs(jobs, context.pruneLayer, {
      cancel: context.cancel,
      onDone: (_, done) => context.onProgress({ phase: 'allocate', label: 'sensitivity', stage: context.index, done, total: jobs.length }),
    });
    sensitivityErrors = new Map(layers.map((layer, l) => [layer.id, results.slice(l * ratios.length, (l + 1) * ratios.length).map((r) => r.relativeError ?? NaN)]));
  }
  return allocateSparsity({ stage, layers, weights, stats: dense?.layers, sensitivityErrors });
}

/** Magnitude over all the stage's layers at once: one threshold, so no per-layer jobs. */
function globalMagnitude(stage: PruneStage, layers: readonly LinearLayer[], weights: Map<string, Matrix>): Map<string, PruneJobResult> {
  const start = now();
  const pruned = magnitudePruneGlobal(layers.map((layer) => weights.get(layer.id)!), targetSparsity(stage));
  const ms = (now() - start) / layers.length;
  return new Map(
    layers.map((layer, index) => {
      const result: PruneResult = pruned[index];
      return [layer.id, { ...pruneJobResult(job(stage, index, layer, weights.get(layer.id)!, stage.pattern, undefined, 'prune'), result, now(), cpuUse()), ms }];
    }),
  );
}

class PruneRun implements StageRun {
  /** Kept whole only with joint quantization, whose packed export needs the codes at the end. */
  private readonly results = new Map<string, PruneJobResult>();
  /** Each layer's report row, made as it is pruned so its weight need not be kept. */
  private readonly rows = new Map<string, LayerPruneReport>();
  private ms = 0;

  constructor(
    private readonly stage: PruneStage,
    private readonly context: StageContext,
    private readonly allocation: Allocation,
    /** Global magnitude's weights, chosen at start from the dense model. */
    private readonly precomputed: Map<string, PruneJobResult> | undefined,
    startMs: number,
  ) {
    this.ms = startMs;
  }

  async apply(step: StageStep): Promise<void> {
    const start = now();
    const { context, stage, allocation } = this;
    let results: PruneJobResult[];
    if (this.precomputed) {
      results = step.layers.map((layer) => this.precomputed!.get(layer.id)!);
    } else {
      const jobs = step.layers.map((layer, i) => job(stage, i, layer, context.working.readWeight(layer), allocation.patterns.get(layer.id)!, step.stats, 'prune'));
      results = await dispatchJobs(jobs, context.pruneLayer, {
        cancel: context.cancel,
        onDone: (result, done) =>
          context.onProgress({ phase: 'prune', label: step.label, step: { index: step.index, count: step.count }, stage: context.index, done, total: jobs.length, layerId: result.layerId }),
      });
    }
    // Written in layer order once all are back: the model never depends on completion order.
    step.layers.forEach((layer, i) => {
      context.working.writeWeight(layer, results[i].weight);
      this.rows.set(layer.id, this.layerReport(layer, results[i]));
      if (stage.quantize) this.results.set(layer.id, results[i]);
    });
    this.ms += now() - start;
  }

  private layerReport(layer: LinearLayer, result: PruneJobResult): LayerPruneReport {
    const { context, allocation } = this;
    const pattern = allocation.patterns.get(layer.id);
    const target = allocation.sparsity.get(layer.id);
    if (!pattern || target === undefined) throw new Error(`report: layer ${layer.id} was not pruned`);
    const numel = layer.outFeatures * layer.inFeatures;
    const zeros = countZeros(result.weight.data);
    const valueBytes = context.working.storedTensor(layer).dataType === DataType.FLOAT16 ? 2 : 4;
    const estimate = estimatedSparseBytes(pattern, layer.outFeatures, layer.inFeatures, numel - zeros);
    return {
      id: layer.id,
      name: layer.name,
      block: layer.block,
      role: layer.role,
      stage: context.index,
      shape: [layer.outFeatures, layer.inFeatures],
      pattern: describePattern(pattern),
      targetSparsity: target,
      achievedSparsity: zeros / numel,
      relativeError: result.relativeError,
      relativeErrorBasis: result.relativeErrorBasis,
      relativeErrorTokens: result.relativeErrorTokens,
      ms: result.ms,
      backend: result.ran,
      patternCheck: checkPrunedLayer(result.weight, result.keep, pattern, target),
      // The estimate counts fp32 values; a float16 weight's values take half.
      estimatedSparseBytes: valueBytes === 4 ? estimate : estimate - (numel - zeros) * 2,
    };
  }

  /** With joint quantization: a quantize-stage row per layer (null without). */
  private quantRows(): Map<string, LayerQuantReport> | null {
    const { quantize } = this.stage;
    if (!quantize) return null;
    return new Map(this.context.layers.map((layer) => [layer.id, jointQuantRow(quantize, this.context.index, layer, this.results.get(layer.id)!)]));
  }

  finish(): PruneStageReport {
    const { patterns: _patterns, sparsity: _sparsity, ...allocation } = this.allocation;
    const quantized = this.quantRows();
    return {
      kind: 'prune',
      index: this.context.index,
      summary: describePruneStage(this.stage),
      layers: this.context.layers.map((layer) => {
        const row = this.rows.get(layer.id);
        if (!row) throw new Error(`report: layer ${layer.id} was not pruned`);
        return row;
      }),
      ...(quantized ? { quantized: [...quantized.values()] } : {}),
      allocation,
      ms: this.ms,
    };
  }

  /** Joint quantization's packed export (MatMulNBits, as the quantize stage writes it); nothing to do without it. */
  exportGraph(model: ModelProto): { model: ModelProto; notes: string[] } {
    const rows = this.quantRows();
    return rows ? exportJointQuantized(model, this.context.layers, rows, this.results) : { model, notes: [] };
  }
}

export const pruneStageRunner: StageRunner<PruneStage> = {
  kind: 'prune',
  async start(stage, context) {
    const start = now();
    const global = stage.method === 'magnitude' && stage.magnitudeScope === 'global';
    // Only OWL, sensitivity and global magnitude look at every weight before the walk; the others
    // read each layer's weight at its step, so a model kept in its file is never read whole here.
    const upfront = global || stage.allocation.kind === 'owl' || stage.allocation.kind === 'sensitivity';
    const weights = new Map(upfront ? context.layers.map((layer) => [layer.id, context.working.readWeight(layer)]) : []);
    const allocation = await allocate(stage, context, weights);
    return new PruneRun(stage, context, allocation, global ? globalMagnitude(stage, context.layers, weights) : undefined, now() - start);
  },
};
