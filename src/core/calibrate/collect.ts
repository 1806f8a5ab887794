// collectStats: run calibration samples through an instrumented model and accumulate, per linear
// layer, its LayerStats (and optionally a token-selected ‖X_j‖² for TAMP), and per attention site
// the mean probabilities. calibrate() wraps it: instrument, open a session, collect, release.
import type { Dataset } from '../eval/datasets.ts';
import type { HostTensor, ModelRunner } from '../eval/runner.ts';
import type { AttentionSite, LinearLayer } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import type { LayerStats, Matrix } from '../prune/types.ts';
import { cpuAccumulatorFactory, layerStatsFromSums, type AccumulatorFactory, type InputSums, type StatsAccumulator } from './accumulator.ts';
import { AttentionAccumulator, type AttentionStats } from './attention.ts';
import { calibrationFeeds } from './feeds.ts';
import { runnerInputInfo } from '../eval/lmInputs.ts';
import { gramOutputNames, ReducedGramAccumulator } from './graphGram.ts';
import { instrumentModel, tappedTensorNames, type TapPlan } from './instrument.ts';
import { deriveSeed } from './random.ts';
import { TokenReservoir } from './reservoir.ts';
import { calibrationTarget, type CalibrationTarget } from './targets.ts';
import { selectedSqNorm, type TokenSelectionSite } from './tokenSelection.ts';
import { toTokenRows } from './tokens.ts';
import { throwIfCancelled } from '../job/cancel.ts';

export interface CalibrationProgress {
  /** Samples run so far, of `total`. */
  done: number;
  total: number;
}

export interface CollectOptions {
  /** The calibration samples to run, in order (see chooseSamples). */
  sampleIndices: readonly number[];
  /** Samples per session run (default 8). The statistics do not depend on it. */
  batchSize?: number;
  /** Accumulate each layer's Hessian H = 2/n·X Xᵀ (default true). */
  hessian?: boolean;
  /** Keep a seeded reservoir of this many output tokens per layer (default 0: none). */
  outputSample?: number;
  /**
   * Keep a seeded reservoir of this many input tokens per layer (default 0: none); layers that
   * read the same tensors share one.
   */
  inputSample?: number;
  /** Seed of the reservoirs (each layer's outputs and each shared input get their own stream). */
  seed?: number;
  /** Attention sites whose mean probabilities are wanted (their outputs must be tapped). */
  attention?: readonly AttentionSite[];
  /** TAMP's AMIA token selection: layer id → the attention site that scores its tokens. */
  tokenSelection?: ReadonlyMap<string, TokenSelectionSite>;
  accumulatorFactory?: AccumulatorFactory;
  /**
   * Input tensors whose statistics the graph reduced itself (graphGram.ts): their Gram matrix,
   * max|x| and shape arrive instead of the activations.
   */
  reducedInputs?: ReadonlySet<string>;
  onProgress?: (progress: CalibrationProgress) => void;
  /** Checked between batches; an AbortSignal fits. */
  cancel?: { readonly aborted: boolean };
  /** The session outputs to fetch (default all): the taps, without the model's own outputs. */
  fetches?: readonly string[];
}

export interface CalibrationStats {
  samples: number;
  /** Per linear layer id. `hessian` has length 0 when it was not accumulated. */
  layers: Map<string, LayerStats>;
  /** Per layer id, Σ x_j² over the tokens AMIA selected in each sample (tokenSelection only). */
  selectedSqNorm: Map<string, Float64Array>;
  /** Per Softmax node name. */
  attention: Map<string, AttentionStats>;
}

interface LayerState {
  target: CalibrationTarget;
  accumulator: StatsAccumulator | ReducedGramAccumulator;
  /** The first of the layers that share an accumulator (and input reservoir) feeds them. */
  feedsAccumulator: boolean;
  reservoir?: TokenReservoir;
  inputReservoir?: TokenReservoir;
  selected?: Float64Array;
}

function tapped(outputs: Record<string, HostTensor>, name: string): HostTensor {
  const tensor = outputs[name];
  if (tensor === undefined) throw new Error(`calibration: the session did not return "${name}"; was the model instrumented for it?`);
  return tensor;
}

/**
 * The per-batch half of collectStats: given every tensor a batch produced (taps and stored
 * inputs alike), accumulate each target's statistics. Whole-model and block-by-block calibration
 * both feed it, so their statistics are the same function of the same tensors.
 */
export class StatsCollector {
  private readonly states: LayerState[];
  private readonly attention: { site: AttentionSite; accumulator: AttentionAccumulator }[];
  private samples = 0;

  constructor(
    targets: readonly CalibrationTarget[],
    private readonly options: Omit<CollectOptions, 'sampleIndices'>,
  ) {
    const { hessian = true, outputSample = 0, inputSample = 0, seed = 0 } = options;
    const factory = options.accumulatorFactory ?? cpuAccumulatorFactory;
    // Layers that read the same tensors (q, k and v after one LayerNorm) share one accumulator
    // and one input reservoir; the first of them feeds both.
    const shared = new Map<string, Pick<LayerState, 'accumulator' | 'inputReservoir'>>();
    const reduced = (target: CalibrationTarget) => target.inputs.every((input) => options.reducedInputs?.has(input.tensor));
    this.states = targets.map((target, i) => {
      const key = JSON.stringify(target.inputs);
      const existing = shared.get(key);
      if (existing === undefined && reduced(target) && inputSample > 0) throw new Error(`calibration: layer ${target.id}'s inputs are reduced in the graph, so no input sample can be kept`);
      const inputs = existing ?? {
        accumulator: reduced(target) ? new ReducedGramAccumulator(target.inFeatures) : factory({ layerId: target.id, channels: target.inFeatures, hessian }),
        // Streams 0…n−1 are the output reservoirs' (unchanged when input samples were added);
        // the input reservoirs take n…2n−1.
        inputReservoir: inputSample > 0 ? new TokenReservoir(inputSample, target.inFeatures, deriveSeed(seed, targets.length + i)) : undefined,
      };
      shared.set(key, inputs);
      return {
        target,
        ...inputs,
        feedsAccumulator: existing === undefined,
        reservoir: outputSample > 0 ? new TokenReservoir(outputSample, target.outFeatures, deriveSeed(seed, i)) : undefined,
        selected: options.tokenSelection?.has(target.id) ? new Float64Array(target.inFeatures) : undefined,
      };
    });
    this.attention = (options.attention ?? []).map((site) => ({ site, accumulator: new AttentionAccumulator(site.softmaxNode) }));
  }

  /** One batch of `batch` samples; `tensors` holds every tapped tensor by name. */
  async add(tensors: Record<string, HostTensor>, batch: number): Promise<void> {
    for (const state of this.states) await addLayerBatch(state, tensors, batch, this.options.tokenSelection);
    for (const { site, accumulator } of this.attention) accumulator.add(tapped(tensors, site.output));
    this.samples += batch;
  }

  async finish(): Promise<CalibrationStats> {
    const layers = new Map<string, LayerStats>();
    const selected = new Map<string, Float64Array>();
    const sums = new Map<StatsAccumulator | ReducedGramAccumulator, InputSums>();
    const inputSamples = new Map<TokenReservoir, Matrix>();
    for (const state of this.states) {
      if (!sums.has(state.accumulator)) sums.set(state.accumulator, await state.accumulator.finish());
      const stats = layerStatsFromSums(sums.get(state.accumulator)!, state.reservoir?.sample());
      const reservoir = state.inputReservoir;
      if (reservoir) {
        if (!inputSamples.has(reservoir)) inputSamples.set(reservoir, reservoir.sample());
        stats.inputSample = inputSamples.get(reservoir);
      }
      layers.set(state.target.id, stats);
      if (state.selected) selected.set(state.target.id, state.selected);
    }
    const attention = new Map(this.attention.map(({ site, accumulator }) => [site.softmaxNode, accumulator.finish()]));
    return { samples: this.samples, layers, selectedSqNorm: selected, attention };
  }
}

/** The calibration samples in batches of `batchSize`, in order. */
export function sampleBatches(sampleIndices: readonly number[], batchSize = 8): number[][] {
  const batches: number[][] = [];
  for (let start = 0; start < sampleIndices.length; start += batchSize) batches.push(sampleIndices.slice(start, start + batchSize));
  return batches;
}

export async function collectStats(
  runner: ModelRunner,
  dataset: Dataset,
  targets: readonly CalibrationTarget[],
  options: CollectOptions,
): Promise<CalibrationStats> {
  const collector = new StatsCollector(targets, options);
  const inputs = runnerInputInfo(runner);
  // Only what the statistics read: not the logits or a KV-cache model's present.* (see collectedTensors).
  const fetches = options.fetches;
  const total = options.sampleIndices.length;
  let done = 0;
  options.onProgress?.({ done, total });
  for (const batch of sampleBatches(options.sampleIndices, options.batchSize)) {
    throwIfCancelled(options.cancel, 'calibration');
    await collector.add(await runner.run(calibrationFeeds(dataset, batch, inputs), fetches), batch.length);
    options.onProgress?.({ done: (done += batch.length), total });
  }
  return collector.finish();
}

function outputRows(state: LayerState, outputs: Record<string, HostTensor>, use: number): [Float32Array, number] {
  const output = state.target.outputs[use];
  const y = toTokenRows(tapped(outputs, output.tensor), output.channelAxis, state.target.outFeatures, `layer ${state.target.id} output`);
  return [y.data, y.tokens];
}

async function addLayerBatch(
  state: LayerState,
  outputs: Record<string, HostTensor>,
  batch: number,
  tokenSelection: ReadonlyMap<string, TokenSelectionSite> | undefined,
): Promise<void> {
  const { target } = state;
  for (let u = 0; u < target.inputs.length; u++) {
    const input = target.inputs[u];
    if (state.accumulator instanceof ReducedGramAccumulator) {
      const names = gramOutputNames(input.tensor);
      const shape = tapped(outputs, names.shape).data as BigInt64Array;
      if (state.feedsAccumulator) state.accumulator.add(tapped(outputs, names.gram).data as Float32Array, tapped(outputs, names.maxAbs).data as Float32Array, Number(shape[0]));
      if (state.reservoir) state.reservoir.add(...outputRows(state, outputs, u));
      continue;
    }
    const x = toTokenRows(tapped(outputs, input.tensor), input.channelAxis, target.inFeatures, `layer ${target.id} input`);
    if (state.feedsAccumulator) {
      await state.accumulator.add(x.data, x.tokens);
      state.inputReservoir?.add(x.data, x.tokens);
    }
    if (!state.reservoir && !state.selected) continue;
    const output = target.outputs[u];
    const y = toTokenRows(tapped(outputs, output.tensor), output.channelAxis, target.outFeatures, `layer ${target.id} output`);
    state.reservoir?.add(y.data, y.tokens);
    const site = tokenSelection?.get(target.id);
    if (state.selected && site) {
      const sqNorm = selectedSqNorm(x, y, tapped(outputs, site.tensor), batch, `layer ${target.id}`);
      for (let j = 0; j < sqNorm.length; j++) state.selected[j] += sqNorm[j];
    }
  }
}

export interface CalibrateRequest {
  model: ModelProto;
  layers: readonly LinearLayer[];
  /** Also tap the layers' outputs (needed for outputSample and token selection). */
  tapOutputs?: boolean;
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>;
  dataset: Dataset;
  options: CollectOptions;
}

/** Instruments `model` for `layers` (and options.attention), opens a session, collects, releases. */
export async function calibrate(request: CalibrateRequest): Promise<CalibrationStats> {
  const { model, layers, options } = request;
  const plan: TapPlan = {
    linearInputs: layers,
    linearOutputs: request.tapOutputs ? layers : [],
    attention: options.attention ?? [],
    tensors: [...(options.tokenSelection?.values() ?? [])].map((site) => site.tensor),
  };
  const targets = layers.map((layer) => calibrationTarget(model, layer));
  const runner = await request.createRunner(writeModel(instrumentModel(model, plan)));
  try {
    return await collectStats(runner, request.dataset, targets, { ...options, fetches: tappedTensorNames(plan) });
  } finally {
    await runner.release();
  }
}
