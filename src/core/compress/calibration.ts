// Calibration for the pipeline: one session over the working model as it is now, collecting the
// union of what the recipe's stages asked for (src/core/recipe/stage.ts `Statistic`), so a
// Hessian two stages need is accumulated once. Everything the sessions share — the sample draw,
// TAMP's token-selection sites, counts and time for the report — lives in one Calibration.
import { calibrate, type CalibrationStats } from '../calibrate/collect.ts';
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
  cancel?: CancelSignal;
  onProgress?: ProgressListener;
  notes: string[];
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

  /** One session over `layers` of `model` as it is now, collecting `statistics`. */
  async pass(model: ModelProto, layers: readonly LinearLayer[], statistics: ReadonlySet<Statistic>, where: PassLabel): Promise<CalibrationStats> {
    const { setup } = this;
    const start = now();
    const tokenSelection = statistics.has('attention') ? new Map([...this.tokenSites].filter(([id]) => layers.some((layer) => layer.id === id))) : new Map<string, TokenSelectionSite>();
    const wantOutputs = statistics.has('outputs');
    const stats = await calibrate({
      model,
      layers,
      tapOutputs: wantOutputs || tokenSelection.size > 0,
      createRunner: setup.createRunner,
      dataset: setup.calibSet,
      options: {
        sampleIndices: this.sampleIndices,
        batchSize: setup.recipe.calibration.batchSize,
        hessian: statistics.has('hessian'),
        outputSample: wantOutputs ? setup.recipe.calibration.outputSample : 0,
        seed: setup.recipe.seed,
        tokenSelection,
        accumulatorFactory: setup.accumulatorFactory,
        cancel: setup.cancel,
        onProgress: ({ done, total }) => setup.onProgress?.({ phase: 'calibrate', label: where.label, step: where.step, done, total }),
      },
    });
    this.passes++;
    this.ms += now() - start;
    return stats;
  }

  get elapsedMs(): number {
    return this.ms;
  }

  summary(): CalibrationSummary {
    const { recipe } = this.setup;
    return { mode: recipe.calibration.mode, samples: this.sampleIndices.length, seed: recipe.seed, passes: this.passes, ms: this.ms };
  }
}
