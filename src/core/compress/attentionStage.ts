// The attention stage in the pipeline: ACT (attention/act.ts, actGraph.ts) on the model every
// earlier stage left. It changes no weight, so the walk never calls it; in finish() — after every
// weight stage applied all its steps — it runs ACT's head search (attention/headSearch.ts) unless
// the recipe names the heads, and exportGraph inserts the ops after the selected heads' Softmax.
//
// A candidate set is scored by the mean NLL (LM: per predicted token; classifier: per image) of
// the working model with ACT on those heads, over the first `search.samples` of the recipe's
// seeded calibration draw, through the run's createRunner — the calibration set, never the
// evaluation set. The working model holds float weights: a quantize stage's Ŵ is already in them
// (its packed MatMulNBits form is written only at export), so scoring on it scores the quantized
// weights; only the kernel differs (ORT's dequantize-then-MatMul vs. a float MatMul, equal up to
// float rounding).
//
// The score carries the per-sample NLLs (evaluateWithSamples), so every head's change comes with
// its paired bootstrap interval (95 %, seeded by the recipe's seed); under `search.guard:
// 'interval'` a head counts as an improvement only when that interval lies below 0.
//
// exportGraph runs after the earlier stages' exportGraph (pipeline.ts calls them in recipe order
// and the attention stage is last), so the ACT ops go into the graph with MatMulNBits already in
// it: the rewrite touches only Softmax outputs, which packing leaves alone.
import { applyActToGraph } from '../attention/actGraph.ts';
import { referenceSkipLayers, searchHeads, siteSelections, type ChangeInterval, type HeadGuard, type HeadId, type HeadSearchResult, type SetScore } from '../attention/headSearch.ts';
import { chooseSamples } from '../calibrate/random.ts';
import { datasetSize, type Dataset } from '../eval/datasets.ts';
import { evaluateWithSamples } from '../eval/evaluate.ts';
import type { ModelRunner } from '../eval/runner.ts';
import { throwIfCancelled } from '../job/cancel.ts';
import type { AttentionSite } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { actParams, describeAttentionStage, stageAttentionLayers, type AttentionStage } from '../recipe/stages/attention.ts';
import type { StageReport } from './report.ts';
import type { StageContext, StageRun, StageRunner } from './stage.ts';

/** One candidate head of the search, alone. */
export interface AttentionHeadRow {
  layer: number;
  head: number;
  /** Mean calibration NLL with ACT on this head only. */
  score: number;
  /** score − baseline: negative is an improvement. */
  delta: number;
  /** 95 % paired bootstrap interval of delta over the search samples. */
  interval: ChangeInterval | null;
  improves: boolean;
}

export interface AttentionStageReport extends StageReport {
  kind: 'attention';
  /** 'search' when the stage searched, 'given' when the recipe named the heads. */
  heads: 'search' | 'given';
  /** What the scores are. */
  metric: string;
  /** Calibration samples each score is over (0 with given heads: nothing was scored). */
  samples: number;
  /** The rule that made a head an improvement (recipe search.guard). */
  guard: HeadGuard;
  /** Mean calibration NLL without ACT; null with given heads. */
  baseline: number | null;
  candidates: AttentionHeadRow[];
  skippedLayers: number[];
  /** Heads that improved alone, and their union's score. */
  kept: HeadId[];
  keptScore: number | null;
  /** Greedy elimination steps: the head removed and the set's score without it. */
  drops: { layer: number; head: number; score: number; interval: ChangeInterval | null }[];
  /** The set the elimination ended with and its interval against the baseline. */
  finalSet: HeadId[];
  finalInterval: ChangeInterval | null;
  selected: HeadId[];
  /** The selected set's score (the baseline when the set is empty); null with given heads. */
  selectedScore: number | null;
  /** Distinct sets scored, baseline included. */
  evaluations: number;
}

export const isAttentionStageReport = (report: StageReport): report is AttentionStageReport => report.kind === 'attention';

const SEARCH_METRIC = 'mean NLL on calibration samples (lower is better)';

/** The samples `indices` of a set, as a set of the same kind. */
function subset(set: Dataset, indices: readonly number[]): Dataset {
  if (set.kind === 'lm-tokens') return { ...set, sequences: indices.map((i) => set.sequences[i]) };
  return { ...set, images: indices.map((i) => set.images[i]), labels: indices.map((i) => set.labels[i]) };
}

/** The model with ACT on `heads` (the model itself when there are none). */
export function actModel(model: ModelProto, sites: readonly AttentionSite[], heads: readonly HeadId[], stage: AttentionStage): ModelProto {
  if (heads.length === 0) return model;
  return applyActToGraph(model, siteSelections(sites, heads), actParams(stage)).model;
}

class AttentionRun implements StageRun {
  private selected: HeadId[];
  private search: HeadSearchResult | null = null;
  private samples = 0;
  private ms = 0;

  constructor(
    private readonly stage: AttentionStage,
    private readonly context: StageContext,
    private readonly sites: AttentionSite[],
  ) {
    this.selected = stage.heads === 'search' ? [] : stage.heads.map(({ block, head }) => ({ layer: block, head }));
  }

  async apply(): Promise<void> {
    // No linear layers: the walk has nothing to hand this stage.
  }

  private async runSearch(): Promise<void> {
    const { context, stage } = this;
    const { calibSet, createRunner } = context;
    if (calibSet === undefined || createRunner === undefined) throw new Error('attention stage: the head search evaluates the model on calibration samples: pass calibSet and createRunner (or name the heads)');
    const size = datasetSize(calibSet);
    if (stage.search.samples > size) throw new Error(`stages[${context.index}].search.samples = ${stage.search.samples} is more than the calibration set holds (${size})`);
    // The recipe's draw (the calibration stages' samples, in order): its first search.samples.
    const samples = subset(calibSet, chooseSamples(size, stage.search.samples, context.recipe.seed));
    this.samples = stage.search.samples;
    const model = context.working.model;
    const layers = stageAttentionLayers(context.analysis);
    if (typeof layers === 'string') throw new Error(`attention stage: ${layers}`);
    const score = async (heads: readonly HeadId[]): Promise<SetScore> => {
      throwIfCancelled(context.cancel, 'attention head search');
      const runner: ModelRunner = await createRunner(writeModel(actModel(model, this.sites, heads, stage)));
      try {
        const result = await evaluateWithSamples(runner, samples, { cancel: context.cancel });
        return { mean: result.metrics.meanNll, samples: result.samples };
      } finally {
        await runner.release();
      }
    };
    this.search = await searchHeads({
      layers,
      skipLayers: stage.skipLayers === 'reference' ? referenceSkipLayers(layers) : stage.skipLayers,
      score,
      guard: stage.search.guard,
      intervals: { seed: context.recipe.seed },
      cancel: context.cancel,
      onProgress: (p) => context.onProgress({ ...p, phase: 'attention', stage: context.index }),
    });
    this.selected = this.search.selected;
    const s = this.search;
    const improving = s.alone.filter((a) => a.improves).length;
    const rule = stage.search.guard === 'interval' ? ' beyond sampling noise (95 % interval below 0)' : '';
    if (s.selected.length === 0 && s.finalSet.length > 0) {
      context.notes.push(`ACT: heads ${s.finalSet.map((h) => `${h.layer}.${h.head}`).join(', ')} improved alone, but together their interval against the baseline [${s.finalInterval!.low.toFixed(4)}, ${s.finalInterval!.high.toFixed(4)}] does not lie below 0, so no head is calibrated and the attention stage leaves the model unchanged`);
    } else if (s.selected.length === 0) {
      context.notes.push(`ACT: no head improved the calibration NLL alone${rule}; ${s.alone.length} candidates, baseline ${s.baseline.toFixed(4)} on ${this.samples} samples, so no head is calibrated and the attention stage leaves the model unchanged`);
    } else {
      context.notes.push(`ACT: ${improving} of ${s.alone.length} heads improved the calibration NLL alone${rule}; ${s.selected.length} selected (${s.selected.map((h) => `${h.layer}.${h.head}`).join(', ')}), NLL ${s.baseline.toFixed(4)} → ${s.score.toFixed(4)} on ${this.samples} calibration samples`);
    }
  }

  async finish(): Promise<AttentionStageReport> {
    const start = performance.now();
    if (this.stage.heads === 'search') await this.runSearch();
    this.ms += performance.now() - start;
    const s = this.search;
    return {
      kind: 'attention',
      index: this.context.index,
      summary: describeAttentionStage(this.stage),
      layers: [],
      ms: this.ms,
      heads: this.stage.heads === 'search' ? 'search' : 'given',
      metric: SEARCH_METRIC,
      samples: this.samples,
      guard: this.stage.search.guard,
      baseline: s?.baseline ?? null,
      candidates: s?.alone.map((a) => ({ layer: a.head.layer, head: a.head.head, score: a.score, delta: a.delta, interval: a.interval, improves: a.improves })) ?? [],
      skippedLayers: s?.skippedLayers ?? [],
      kept: s?.kept ?? [],
      keptScore: s?.keptScore ?? null,
      drops: s?.drops.map((d) => ({ layer: d.head.layer, head: d.head.head, score: d.score, interval: d.interval })) ?? [],
      finalSet: s?.finalSet ?? [],
      finalInterval: s?.finalInterval ?? null,
      selected: this.selected,
      selectedScore: s?.score ?? null,
      evaluations: s?.evaluations ?? 0,
    };
  }

  exportGraph(model: ModelProto): { model: ModelProto; notes: string[] } {
    if (this.selected.length === 0) return { model, notes: [] };
    const result = applyActToGraph(model, siteSelections(this.sites, this.selected), actParams(this.stage));
    const nodes = result.sites.reduce((n, site) => n + site.nodes, 0);
    return { model: result.model, notes: [`ACT: ${nodes} standard ONNX nodes after the Softmax of ${result.sites.length} attention site(s), ${this.selected.length} head(s) calibrated (β ${this.stage.beta})`] };
  }
}

export const attentionStageRunner: StageRunner<AttentionStage> = {
  kind: 'attention',
  async start(stage, context) {
    const layers = stageAttentionLayers(context.analysis);
    if (typeof layers === 'string') throw new Error(`attention stage: ${layers}`);
    return new AttentionRun(stage, context, [...context.analysis.attention].sort((a, b) => a.order - b.order));
  },
};
