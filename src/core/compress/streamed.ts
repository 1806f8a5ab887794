// Compression one block at a time, for models too large to hold whole (docs/hf-memory.md): the
// same stages, calibration and jobs as compressModel (pipeline.ts), walked as the reference code
// walks a model (IST-DASLab/sparsegpt `llama_sequential`: load layer i, collect, prune, run it for
// the next layer's inputs, move on), with the weights kept in their file:
//   - the input model's tensors stay external; each segment session is built from only the
//     weights it reads, read by byte range from the WeightSource (lazyTensors.ts);
//   - a step's linear weights are read into the working model just before its stages apply, and
//     once the next block's inputs are computed they are appended to the WeightSink and the
//     working model keeps only a reference (a packed layer's float weight is dropped instead);
//   - the file is written with the untouched tensors copied range by range into the same sink.
// What it refuses, up front with the reason: a dense (whole-model) pass, one-pass calibration, and
// the stages whose planning or export reads every weight at once (OWL / sensitivity allocation,
// global magnitude, joint quantization, AWQ, QUIK, mixed precision, the attention stage).
import { throwIfCancelled } from '../job/cancel.ts';
import type { LinearLayer } from '../model/types.ts';
import { flushTensor, isExternalTensor, resolveModelWeights, resolveTensors, writeModelStreamed, type WeightSources } from '../onnx/lazyTensors.ts';
import type { ModelProto, TensorProto } from '../onnx/types.ts';
import type { WeightSink } from '../onnx/weightSource.ts';
import { RecipeError } from '../recipe/parse.ts';
import { isPruneStage } from '../recipe/stages/prune.ts';
import { isQuantizeStage } from '../recipe/stages/quantize.ts';
import { stageKind, stageKindOf } from '../recipe/stage.ts';
import type { StageSpec } from '../recipe/types.ts';
import { neededStatistics, validateRecipe } from '../recipe/validate.ts';
import { datasetSize } from '../eval/datasets.ts';
import { Calibration } from './calibration.ts';
import { cpuPruneLayer } from './jobs.ts';
import { withLabMetadata } from './metadata.ts';
import type { CompressRequest } from './pipeline.ts';
import type { CalibrationSummary, StageReport } from './report.ts';
import { stageRunner, type StageRun } from './stage.ts';
import './stages.ts';
import { pipelineSteps } from './steps.ts';
import { WorkingModel } from './weights.ts';

export interface StreamedCompressRequest extends CompressRequest {
  /** The model as read from its .onnx file: its large tensors may still be external. */
  model: ModelProto;
  /** The input's external-data files, read by range. */
  sources: WeightSources;
  /** The output's external-data file, written front to back as the weights are produced. */
  sink: WeightSink;
}

export interface StreamedOutcome {
  /** The .onnx file: the graph, with every large tensor a reference into the sink's file. */
  onnx: Uint8Array;
  /** Bytes written to the sink (the output's external data). */
  dataBytes: number;
  stages: StageReport[];
  calibration: CalibrationSummary;
  notes: string[];
  /** The most weight bytes read from the input file at once: one session's weights, or one step's linear weights. */
  largestRead: number;
  timings: { totalMs: number; calibrationMs: number; exportMs: number };
}

/** Why a stage cannot run one block at a time, or undefined. */
function streamProblem(stage: StageSpec): string | undefined {
  if (isPruneStage(stage)) {
    const allocation = stage.allocation.kind;
    if (allocation === 'owl' || allocation === 'sensitivity') return `allocation "${allocation}" reads every layer's weight before the walk`;
    if (stage.method === 'magnitude' && stage.magnitudeScope === 'global') return 'global magnitude ranks every weight at once';
    if (stage.quantize) return "joint quantization keeps every layer's codes for the export";
    return undefined;
  }
  if (isQuantizeStage(stage)) {
    if (stage.method === 'awq' || stage.method === 'quik') return `method "${stage.method}" rewrites tensors outside the layer at export`;
    if (stage.mixed || stage.bitsByLayer) return 'mixed precision measures every layer before the walk';
    return undefined;
  }
  return `stage kind "${stage.kind}" is not run one block at a time`;
}

const now = () => performance.now();
const byteLength = (tensor: TensorProto) => tensor.rawData?.byteLength ?? 0;

/**
 * Why the recipe cannot run one block at a time, one line per field ([] when it can): the CLI asks
 * this before choosing the path, compressStreamed refuses with the same lines.
 */
export function streamedProblems(request: Pick<CompressRequest, 'recipe' | 'analysis' | 'calibSet' | 'createRunner'>): string[] {
  const { recipe, analysis, calibSet } = request;
  const problems = validateRecipe(recipe, analysis, calibSet ? datasetSize(calibSet) : undefined);
  recipe.stages.forEach((stage, i) => {
    const why = stageKind(stage.kind) ? streamProblem(stage) : undefined;
    if (why) problems.push(`stages[${i}]: ${why}; the one-block-at-a-time path cannot run it`);
  });
  const needs = neededStatistics(recipe);
  if (needs.dense.size > 0) problems.push(`stages: ${recipe.stages.map((s) => stageKindOf(s).describe(s)).join(' → ')} needs statistics of the dense model, a whole-model pass`);
  if (recipe.calibration.mode !== 'sequential') problems.push(`calibration.mode: "${recipe.calibration.mode}" runs the whole model; one block at a time needs "sequential"`);
  if (calibSet === undefined || request.createRunner === undefined) problems.push('calibration: pass calibSet and createRunner');
  return problems;
}

export async function compressStreamed(request: StreamedCompressRequest): Promise<StreamedOutcome> {
  const started = now();
  const { recipe, analysis, calibSet, sources, sink } = request;
  const problems = streamedProblems(request);
  if (problems.length > 0) throw new RecipeError(problems);
  const needs = neededStatistics(recipe);

  const notes: string[] = [];
  const working = new WorkingModel(request.model);
  let largestRead = 0;
  const hold = (bytes: number) => (largestRead = Math.max(largestRead, bytes));
  const touched = new Set(recipe.stages.flatMap((stage) => stageKind(stage.kind)!.layers(stage, analysis).map((l) => l.id)));
  const layers = analysis.linears.filter((layer) => touched.has(layer.id));
  const calibration = new Calibration({
    recipe,
    analysis,
    layers,
    tokenSelection: needs.step.has('attention'),
    calibSet: calibSet!,
    createRunner: request.createRunner!,
    accumulatorFactory: request.accumulatorFactory,
    gramInGraph: request.gramInGraph,
    cancel: request.cancel,
    onProgress: request.onProgress,
    notes,
    // A session's copy lives only until its bytes are written into the session.
    resolveWeights: async (segment) => {
      const resolved = await resolveModelWeights(segment, sources);
      hold((resolved.graph?.initializer ?? []).filter((_, i) => isExternalTensor(segment.graph!.initializer![i])).reduce((n, t) => n + byteLength(t), 0));
      return resolved;
    },
  });

  const stages = recipe.stages.map((stage) => ({ stage, runner: stageRunner(stage.kind)!, layers: stageKind(stage.kind)!.layers(stage, analysis) }));
  const runs: StageRun[] = [];
  for (const [index, { stage, runner, layers: stageLayers }] of stages.entries()) {
    runs.push(
      await runner.start(stage, {
        recipe,
        index,
        analysis,
        working,
        layers: stageLayers,
        pruneLayer: request.pruneLayer ?? cpuPruneLayer,
        ...(request.quantizeLayer ? { quantizeLayer: request.quantizeLayer } : {}),
        calibSet,
        createRunner: request.createRunner,
        cancel: request.cancel,
        onProgress: (p) => request.onProgress?.(p),
        notes,
      }),
    );
  }
  const steps = pipelineSteps(layers);
  const sequence = calibration.sequence(working.model, steps, needs.step);
  if (sequence.kind !== 'blockwise') {
    sequence.release();
    throw new RecipeError([`model: the graph cannot be cut into blocks (${notes.join('; ')}), and the whole-model fallback would hold every weight`]);
  }
  const dropped = new Set<string>();
  try {
    for (const [s, step] of steps.entries()) {
      throwIfCancelled(request.cancel, 'compression');
      const where = { index: s, count: steps.length };
      const stats = await sequence.stats(s, step.layers, { label: step.label, step: where });
      await readIn(working, step.layers, sources, hold);
      for (const [i, stage] of stages.entries()) {
        const own = step.layers.filter((layer) => stage.layers.some((l) => l.id === layer.id));
        if (own.length > 0) await runs[i].apply({ ...where, label: step.label, layers: own, stats });
      }
      if (s + 1 < steps.length) await sequence.advance(s, { label: step.label, step: where });
      for (const layer of step.layers) {
        const tensor = working.storedTensor(layer);
        if (runs.every((run) => run.keepsFloatWeight?.(layer) ?? true)) working.replaceInitializer(await flushTensor(tensor, sink));
        else {
          // Packed: the file reads its MatMulNBits codes, never this float weight again.
          const { rawData: _r, floatData: _f, ...meta } = tensor;
          working.replaceInitializer(meta);
          dropped.add(tensor.name ?? '');
        }
      }
    }
  } finally {
    sequence.release();
  }
  const calibrationMs = calibration.elapsedMs;

  const exportStart = now();
  const stageReports: StageReport[] = [];
  for (const run of runs) stageReports.push(await run.finish());
  let exported = working.model;
  for (const run of runs) {
    if (!run.exportGraph) continue;
    const result = run.exportGraph(exported);
    exported = result.model;
    notes.push(...result.notes);
  }
  const stillRead = (exported.graph?.initializer ?? []).find((t) => dropped.has(t.name ?? ''));
  if (stillRead) throw new Error(`streamed export: the float weight "${stillRead.name}" was dropped as packed, but the exported graph still reads it`);
  const onnx = await writeModelStreamed(withLabMetadata(exported, recipe, request.sourceModel), { sources, sink });
  return {
    onnx,
    dataBytes: sink.written,
    stages: stageReports,
    calibration: calibration.summary(),
    notes: [...notes, ...working.notes],
    largestRead,
    timings: { totalMs: now() - started, calibrationMs, exportMs: now() - exportStart },
  };
}

/** The step's layer weights read from their file into the working model, just before the stages change them. */
async function readIn(working: WorkingModel, layers: readonly LinearLayer[], sources: WeightSources, hold: (bytes: number) => void): Promise<void> {
  const external = layers.map((layer) => working.storedTensor(layer)).filter(isExternalTensor);
  const tensors = await resolveTensors(external, sources);
  for (const tensor of tensors) working.replaceInitializer(tensor);
  hold(tensors.reduce((n, t) => n + byteLength(t), 0));
}
