// Calibration for the pipeline: one session over the working model as it is now, collecting the
// union of what the recipe's stages asked for (src/core/recipe/stage.ts `Statistic`), so a
// Hessian two stages need is accumulated once. Everything the sessions share — the sample draw,
// TAMP's token-selection sites, counts and time for the report — lives in one Calibration.
// The sequential walk goes through `sequence()`: block by block on stored boundary activations
// (src/core/calibrate/blockwise.ts), linear in depth, or the whole model per step where the graph
// cannot be cut (the report then says why).
import { openSequentialCalibration, type SequentialCalibration } from '../calibrate/blockwise.ts';
import { calibrate, type CalibrationStats, type CollectOptions } from '../calibrate/collect.ts';
import { collectTensorGram, type TensorGram } from '../calibrate/tensorGram.ts';
import type { AccumulatorFactory } from '../calibrate/accumulator.ts';
import { chooseSamples } from '../calibrate/random.ts';
import type { TokenSelectionSite } from '../calibrate/tokenSelection.ts';
import { datasetSize, type Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import type { CancelSignal } from '../job/cancel.ts';
import type { ProgressListener } from '../job/progress.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import type { Statistic } from '../recipe/stage.ts';
import type { Recipe } from '../recipe/types.ts';
import type { CalibrationSummary } from './report.ts';
import type { ReshapeContext } from './stage.ts';

export interface CalibrationSetup {
  recipe: Recipe;
  analysis: ModelAnalysis;
  /** The layers any stage wants statistics of. */
  layers: readonly LinearLayer[];
  /** Whether any stage asked for 'attention' (TAMP's token selection). */
  tokenSelection: boolean;
  calibSet: Dataset;
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>;
  accumulatorFactory?: AccumulatorFactory;
  /** Gram matrices reduced inside the ORT graph in the block-by-block walk (CompressRequest.gramInGraph). */
  gramInGraph?: boolean;
  /** Reads a segment's weights from their file (SequentialCalibrationRequest.resolveWeights). */
  resolveWeights?: (segment: ModelProto) => Promise<ModelProto>;
  cancel?: CancelSignal;
  onProgress?: ProgressListener;
  notes: string[];
}

/** Sequential calibration as the pipeline's walk uses it (see Calibration.sequence). */
export interface StepCalibration {
  /** 'whole-model' where the graph could not be cut (the notes say why). */
  readonly kind: SequentialCalibration['kind'];
  stats(step: number, layers: readonly LinearLayer[], where: PassLabel): Promise<CalibrationStats>;
  advance(step: number, where: PassLabel): Promise<void>;
  release(): void;
}

export interface PassLabel {
  label: string;
  step: { index: number; count: number };
}

const now = () => performance.now();

export class Calibration {
  readonly sampleIndices: number[];
  private readonly tokenSites = new Map<string, TokenSelectionSite>();
  private passes = 0;
  private ms = 0;

  /** Which sequential path ran, once one was opened. */
  private sequenceKind: SequentialCalibration['kind'] | undefined;

  constructor(private readonly setup: CalibrationSetup) {
    const { recipe, calibSet } = setup;
    this.sampleIndices = chooseSamples(datasetSize(calibSet), recipe.calibration.samples, recipe.seed);
    if (setup.tokenSelection) {
      for (const layer of setup.layers) {
        const site = setup.analysis.attention.find((s) => s.block !== null && s.block === layer.block);
        if (site) this.tokenSites.set(layer.id, { tensor: site.output });
        else setup.notes.push(`${layer.name}: no attention site in its block, so token selection uses all tokens`);
      }
    }
  }

  /** TAMP's token-selection sites of `layers`, when the statistics include 'attention'. */
  private tokenSelection(layers: readonly LinearLayer[], statistics: ReadonlySet<Statistic>): Map<string, TokenSelectionSite> {
    if (!statistics.has('attention')) return new Map();
    return new Map([...this.tokenSites].filter(([id]) => layers.some((layer) => layer.id === id)));
  }

  /** What one pass over `layers` collects; the samples are the run's. */
  private collectOptions(layers: readonly LinearLayer[], statistics: ReadonlySet<Statistic>, where: PassLabel): Omit<CollectOptions, 'sampleIndices' | 'batchSize' | 'attention'> {
    const { setup } = this;
    const wantOutputs = statistics.has('outputs');
    const hessian = statistics.has('hessian');
    return {
      hessian,
      outputSample: wantOutputs ? setup.recipe.calibration.outputSample : 0,
      // Where H is collected the error is exact from it, and a sample for the error would only cost
      // time; a method that computes with the tokens (inputTokens) gets them regardless.
      inputSample: (statistics.has('inputSample') && !hessian) || statistics.has('inputTokens') ? setup.recipe.calibration.outputSample : 0,
      seed: setup.recipe.seed,
      tokenSelection: this.tokenSelection(layers, statistics),
      accumulatorFactory: setup.accumulatorFactory,
      cancel: setup.cancel,
      onProgress: ({ done, total }) => setup.onProgress?.({ phase: 'calibrate', label: where.label, step: where.step, done, total }),
    };
  }

  /** Counts a session into the report's totals. */
  private async timed<T>(work: () => Promise<T>): Promise<T> {
    const start = now();
    try {
      return await work();
    } finally {
      this.passes++;
      this.ms += now() - start;
    }
  }

  /** One session over `layers` of `model` as it is now, collecting `statistics`. */
  pass(model: ModelProto, layers: readonly LinearLayer[], statistics: ReadonlySet<Statistic>, where: PassLabel): Promise<CalibrationStats> {
    const { setup } = this;
    const options = this.collectOptions(layers, statistics, where);
    return this.timed(() =>
      calibrate({
        model,
        layers,
        tapOutputs: options.outputSample! > 0 || options.tokenSelection!.size > 0,
        createRunner: setup.createRunner,
        dataset: setup.calibSet,
        options: { ...options, sampleIndices: this.sampleIndices, batchSize: setup.recipe.calibration.batchSize },
      }),
    );
  }

  /**
   * The sequential walk's calibration over `steps` of the working `model` (whose weights the
   * stages change between steps): stats(s) before step s is applied, advance(s) after it.
   */
  sequence(model: ModelProto, steps: readonly { layers: readonly LinearLayer[] }[], statistics: ReadonlySet<Statistic>): StepCalibration {
    const { setup } = this;
    const sequence: SequentialCalibration = openSequentialCalibration({
      model,
      stages: steps.map(({ layers }) => {
        const sites = [...this.tokenSelection(layers, statistics).values()].map((site) => site.tensor);
        return { layers, tapOutputs: statistics.has('outputs') || sites.length > 0, tensors: sites };
      }),
      createRunner: setup.createRunner,
      dataset: setup.calibSet,
      sampleIndices: this.sampleIndices,
      batchSize: setup.recipe.calibration.batchSize,
      gramInGraph: setup.gramInGraph,
      resolveWeights: setup.resolveWeights,
    });
    this.sequenceKind = sequence.kind;
    if (sequence.fallbackReason) setup.notes.push(`sequential calibration ran the whole model for every block: ${sequence.fallbackReason}`);
    return {
      kind: sequence.kind,
      stats: (s, layers, where) => this.timed(() => sequence.stats(s, this.collectOptions(layers, statistics, where))),
      advance: async (s, where) => {
        const start = now();
        const label = `${where.label}, changed (the next block's inputs)`;
        await sequence.advance(s, { cancel: setup.cancel, onProgress: ({ done, total }) => setup.onProgress?.({ phase: 'calibrate', label, step: where.step, done, total }) });
        this.ms += now() - start;
      },
      release: () => sequence.release(),
    };
  }

  /**
   * One session collecting Σ xxᵀ over the run's samples of a hidden-state tensor of `model` with
   * `width` channels (the residual stream SliceGPT's PCA reads; calibrate/tensorGram.ts).
   */
  tensorGram(model: ModelProto, tensor: string, width: number, where: PassLabel): Promise<TensorGram> {
    const { setup } = this;
    return this.timed(() =>
      collectTensorGram({
        model,
        tensor,
        width,
        dataset: setup.calibSet,
        sampleIndices: this.sampleIndices,
        inputs: setup.analysis.inputs,
        createRunner: setup.createRunner,
        batchSize: setup.recipe.calibration.batchSize,
        cancel: setup.cancel,
        onBatch: (done, total) => setup.onProgress?.({ phase: 'calibrate', label: where.label, step: where.step, done, total }),
      }),
    );
  }

  get elapsedMs(): number {
    return this.ms;
  }

  summary(): CalibrationSummary {
    const { recipe } = this.setup;
    return { mode: recipe.calibration.mode, samples: this.sampleIndices.length, seed: recipe.seed, passes: this.passes, ms: this.ms, ...(this.sequenceKind ? { sequence: this.sequenceKind } : {}) };
  }
}

/**
 * The Calibration a shape-changing stage uses inside `reshape` (compress/stage.ts): the run's, whose
 * sessions the report counts, when the pipeline runs the stage; a fresh one with the same setup
 * when a test calls the runner directly. `layers` defaults to every linear layer of the model.
 */
export function reshapeCalibration(context: ReshapeContext, layers: readonly LinearLayer[] = context.analysis.linears): Calibration {
  if (context.openCalibration) return context.openCalibration(layers);
  if (context.calibSet === undefined || context.createRunner === undefined) throw new Error(`stages[${context.index}]: needs calibration: pass calibSet and createRunner`);
  return new Calibration({ recipe: context.recipe, analysis: context.analysis, layers, tokenSelection: false, calibSet: context.calibSet, createRunner: context.createRunner, cancel: context.cancel, onProgress: context.onProgress, notes: context.notes });
}
