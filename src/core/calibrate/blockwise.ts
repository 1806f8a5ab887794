// Sequential calibration behind one interface, in two implementations:
//   - block by block (the reference code's inps/outs loop, see subgraph.ts): the prefix runs once,
//     each stage's segment runs on the stored boundary for its statistics, then once more after
//     the stage was pruned to produce the next boundary. Work grows linearly with depth; memory
//     holds one boundary's activations (all calibration samples) and one block's weights.
//   - whole model (the fallback, for graphs that cannot be cut): every stage instruments and runs
//     the whole working model, which is quadratic in depth.
// Both feed the same StatsCollector with the same batches, so on the same ORT kernels the
// statistics are bit for bit the same (tested in blockwise.test.ts).
import { throwIfCancelled } from '../job/cancel.ts';
import type { Dataset } from '../eval/datasets.ts';
import type { HostTensor, ModelRunner } from '../eval/runner.ts';
import type { AttentionSite, LinearLayer } from '../model/types.ts';
import { dtypeCode, type TensorDtype } from '../onnx/dtypes.ts';
import type { ModelProto, TypeProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { calibrate, sampleBatches, StatsCollector, type CalibrationProgress, type CalibrationStats, type CollectOptions } from './collect.ts';
import { compactEmbeddings } from './embeddingRows.ts';
import { calibrationFeeds } from './feeds.ts';
import { graphInputs } from '../model/summary.ts';
import { graphGramUnsupported, withGramOutputs, type GramTap } from './graphGram.ts';
import { tappedTensorNames } from './instrument.ts';
import { planBlockCut, segmentModel, type BlockCut, type SegmentRun } from './subgraph.ts';
import { calibrationTarget, type CalibrationTarget } from './targets.ts';

/** What one stage's statistics tap. */
export interface StageTapPlan {
  layers: readonly LinearLayer[];
  /** Also tap the layers' outputs (output reservoirs, token selection). */
  tapOutputs?: boolean;
  /** Other tensors its statistics read, e.g. the attention probabilities that select tokens. */
  tensors?: readonly string[];
  attention?: readonly AttentionSite[];
}

export interface SequentialCalibrationRequest {
  /** The working model: its graph's structure is fixed, its weights are read at every run. */
  model: ModelProto;
  stages: readonly StageTapPlan[];
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>;
  dataset: Dataset;
  sampleIndices: readonly number[];
  batchSize?: number;
  /** Force the whole-model path (for comparisons and tests). */
  wholeModel?: boolean;
  /**
   * Let ONNX Runtime reduce the layer inputs to Gram matrices inside the graph (graphGram.ts)
   * instead of summing x xᵀ in JS: float32 per batch, so close to, not equal to, the default.
   * Block-by-block path only; stages with token selection keep the JS path.
   */
  gramInGraph?: boolean;
  /**
   * Fills in the weights a segment's session reads, when the working model keeps them in their
   * file (external data read by range, src/core/onnx/lazyTensors.ts): so each session holds only
   * its own block's weights. Block-by-block path only.
   */
  resolveWeights?: (segment: ModelProto) => Promise<ModelProto>;
}

export interface AdvanceOptions {
  cancel?: { readonly aborted: boolean };
  /** Samples run through the pruned block so far. */
  onProgress?: (progress: CalibrationProgress) => void;
}

/** Statistics options of one stage; samples and batches are the request's. */
export type StageStatsOptions = Omit<CollectOptions, 'sampleIndices' | 'batchSize' | 'attention'>;

export interface SequentialCalibration {
  readonly kind: 'blockwise' | 'whole-model';
  /** Why the whole-model path runs, when it does because the graph could not be cut. */
  readonly fallbackReason?: string;
  /** Stage s's statistics on the model as it is now (stages before s pruned, s not yet). */
  stats(stage: number, options: StageStatsOptions): Promise<CalibrationStats>;
  /** Called once stage s is pruned: moves the boundary past it. */
  advance(stage: number, options: AdvanceOptions): Promise<void>;
  /** Drops the stored activations. */
  release(): void;
}

function stageTaps(plan: StageTapPlan): string[] {
  return tappedTensorNames({ linearInputs: plan.layers, linearOutputs: plan.tapOutputs ? plan.layers : [], attention: plan.attention ?? [], tensors: plan.tensors ?? [] });
}

export function openSequentialCalibration(request: SequentialCalibrationRequest): SequentialCalibration {
  if (request.wholeModel) return new WholeModelCalibration(request);
  const plan = planBlockCut(
    request.model,
    request.stages.map((stage) => ({ layers: stage.layers, tensors: stageTaps(stage) })),
  );
  if (!plan.ok) return new WholeModelCalibration(request, plan.reason);
  return new BlockwiseCalibration(request, plan.cut);
}

/** Today's path: a fresh instrumented copy of the whole working model per stage. */
class WholeModelCalibration implements SequentialCalibration {
  readonly kind = 'whole-model';
  constructor(
    private readonly request: SequentialCalibrationRequest,
    readonly fallbackReason?: string,
  ) {}

  stats(stage: number, options: StageStatsOptions): Promise<CalibrationStats> {
    const { request } = this;
    const plan = request.stages[stage];
    return calibrate({
      model: request.model,
      layers: plan.layers,
      tapOutputs: plan.tapOutputs,
      createRunner: request.createRunner,
      dataset: request.dataset,
      options: {
        ...options,
        sampleIndices: request.sampleIndices,
        batchSize: request.batchSize,
        attention: plan.attention,
      },
    });
  }

  async advance(): Promise<void> {}

  release(): void {}
}

/** The run's model with the tapped inputs leaving as Gram matrices instead of activations. */
function withReducedInputs(model: ModelProto, taps: readonly GramTap[]): ModelProto {
  const reduced = new Set(taps.map((tap) => tap.tensor));
  const graph = model.graph!;
  return withGramOutputs({ ...model, graph: { ...graph, output: (graph.output ?? []).filter((o) => !reduced.has(o.name ?? '')) } }, taps);
}

const typeOf = (tensor: HostTensor): TypeProto => ({ tensorType: { elemType: dtypeCode(tensor.dtype as TensorDtype) } });

/** The reference code's loop over blocks, on subgraph sessions. */
class BlockwiseCalibration implements SequentialCalibration {
  readonly kind = 'blockwise';
  /** Per batch: the tensors later runs read (the boundary and what rides along with it). */
  private store: Record<string, HostTensor>[] | undefined;
  /** The stage whose entering boundary the store holds. */
  private current = 0;
  private readonly batches: number[][];

  constructor(
    private readonly request: SequentialCalibrationRequest,
    readonly cut: BlockCut,
  ) {
    this.batches = sampleBatches(request.sampleIndices, request.batchSize);
  }

  /**
   * Runs `run` on every batch of `store` (or just reads it when there is nothing to compute).
   * `adapt` may rewrite the run's model and add feeds (the in-graph Gram, compacted embeddings).
   */
  private async runBatches(
    run: SegmentRun,
    store: readonly Record<string, HostTensor>[],
    cancel: { readonly aborted: boolean } | undefined,
    each: (batch: number, tensors: Record<string, HostTensor>) => Promise<void>,
    adapt?: (model: ModelProto) => { model: ModelProto; feeds?: Record<string, HostTensor>[] },
  ): Promise<void> {
    const feedsOf = (b: number) => Object.fromEntries(run.inputs.map((name) => [name, store[b][name]]));
    if (run.nodes.length === 0 && adapt === undefined) {
      for (let b = 0; b < this.batches.length; b++) await each(b, feedsOf(b));
      return;
    }
    const types = new Map(run.inputs.map((name) => [name, typeOf(store[0][name])]));
    const segment = segmentModel(this.request.model, run, types);
    const resolved = this.request.resolveWeights ? await this.request.resolveWeights(segment) : segment;
    const adapted = adapt?.(resolved) ?? { model: resolved };
    const runner = await this.request.createRunner(writeModel(adapted.model));
    try {
      for (let b = 0; b < this.batches.length; b++) {
        throwIfCancelled(cancel, 'calibration');
        const feeds = feedsOf(b);
        await each(b, { ...feeds, ...(await runner.run({ ...feeds, ...adapted.feeds?.[b] })) });
      }
    } finally {
      await runner.release();
    }
  }

  /** The store, running the prefix (embeddings) on the calibration samples the first time. */
  private async boundary(cancel: { readonly aborted: boolean } | undefined): Promise<Record<string, HostTensor>[]> {
    if (this.store) return this.store;
    const { request, cut } = this;
    // Every graph input (a Hugging Face export's mask, positions and empty cache too): a block
    // reads the mask and positions, and its attention concatenates the (empty) past.
    const inputs = graphInputs(request.model.graph!);
    const feeds = this.batches.map((batch) => calibrationFeeds(request.dataset, batch, inputs));
    const store: Record<string, HostTensor>[] = [];
    const compact = (model: ModelProto) => compactEmbeddings(model, feeds);
    await this.runBatches(cut.prefix, feeds, cancel, async (b, tensors) => {
      store[b] = pick({ ...feeds[b], ...tensors }, cut.keep);
    }, cut.prefix.nodes.length > 0 ? compact : undefined);
    return (this.store = store);
  }

  async stats(stage: number, options: StageStatsOptions): Promise<CalibrationStats> {
    this.expectStage(stage);
    const { request } = this;
    const plan = request.stages[stage];
    const targets = plan.layers.map((layer) => calibrationTarget(request.model, layer));
    const gramTaps = this.gramTaps(stage, targets, options);
    const reducedInputs = new Set(gramTaps.map((tap) => tap.tensor));
    const collector = new StatsCollector(targets, { ...options, attention: plan.attention, reducedInputs });
    const total = request.sampleIndices.length;
    let done = 0;
    options.onProgress?.({ done, total });
    await this.runBatches(
      this.cut.stages[stage].stats,
      await this.boundary(options.cancel),
      options.cancel,
      async (b, tensors) => {
        await collector.add(tensors, this.batches[b].length);
        options.onProgress?.({ done: (done += this.batches[b].length), total });
      },
      gramTaps.length === 0 ? undefined : (model) => ({ model: withReducedInputs(model, gramTaps) }),
    );
    return collector.finish();
  }

  /**
   * The inputs whose statistics the graph reduces: channels last, no token selection or input
   * sample in the stage (both need the activations themselves).
   */
  private gramTaps(stage: number, targets: readonly CalibrationTarget[], options: StageStatsOptions): GramTap[] {
    if (!this.request.gramInGraph || (options.tokenSelection?.size ?? 0) > 0 || (options.inputSample ?? 0) > 0 || options.hessian === false) return [];
    if (graphGramUnsupported(this.request.model) !== undefined) return [];
    // Tensors also wanted as activations (output reservoirs, attention, a transposed reader) stay raw.
    const plan = this.request.stages[stage];
    const raw = new Set(tappedTensorNames({ linearOutputs: plan.tapOutputs ? plan.layers : [], attention: plan.attention ?? [], tensors: plan.tensors ?? [] }));
    for (const target of targets) for (const input of target.inputs) if (input.channelAxis !== -1) raw.add(input.tensor);
    const taps = new Map<string, GramTap>();
    for (const target of targets) {
      if (target.inputs.some((input) => raw.has(input.tensor))) continue;
      for (const input of target.inputs) taps.set(input.tensor, { tensor: input.tensor, channels: target.inFeatures });
    }
    return [...taps.values()];
  }

  async advance(stage: number, options: AdvanceOptions): Promise<void> {
    this.expectStage(stage);
    const segment = this.cut.stages[stage];
    this.current++;
    if (segment.advance === null) return;
    const store = await this.boundary(options.cancel);
    const next: Record<string, HostTensor>[] = [];
    const total = this.request.sampleIndices.length;
    let done = 0;
    options.onProgress?.({ done, total });
    await this.runBatches(segment.advance, store, options.cancel, async (b, tensors) => {
      next[b] = pick({ ...store[b], ...tensors }, segment.keep);
      options.onProgress?.({ done: (done += this.batches[b].length), total });
    });
    this.store = next;
  }

  release(): void {
    this.store = undefined;
  }

  private expectStage(stage: number): void {
    if (stage !== this.current) throw new Error(`blockwise calibration: stage ${stage} needs the boundary after stage ${stage - 1}; advance(${this.current}) first`);
  }
}

function pick(tensors: Record<string, HostTensor>, names: readonly string[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const name of names) {
    const tensor = tensors[name];
    if (tensor === undefined) throw new Error(`blockwise calibration: "${name}" was not stored`);
    out[name] = tensor;
  }
  return out;
}
