// The `attention` stage: ACT (Yu et al., ICML 2024; reference GATECH-EIC/ACT) as a recipe step.
// It changes no weight: it inserts standard ONNX ops after the Softmax of the selected heads
// (attention/actGraph.ts), so it lists no linear layers and needs no calibration statistics — its
// head search evaluates the model itself on calibration samples (compress/attentionStage.ts).
//
//   { kind: 'attention', method: 'act', beta: 0.4, sink: { kind: 'tau', tau: 0.1 },
//     heads: 'search' | [{ block, head }], skipLayers: 'reference' | [layer…],
//     search: { samples: 8, guard: 'interval' | 'none' } }
//
// `block` is the attention layer as the head search numbers it: the site's transformer block, or
// its order among the sites where the analysis found no block (attentionLayers in headSearch.ts).
import { UNFUSED_EXPORT_HINT } from '../../attention/capture.ts';
import type { ActParams } from '../../attention/act.ts';
import { attentionLayers, HEAD_GUARDS, type AttentionLayer, type HeadGuard } from '../../attention/headSearch.ts';
import type { ModelAnalysis } from '../../model/types.ts';
import { describeValue, fieldPath, FieldReader, type RecipeProblems } from '../reader.ts';
import type { StageCheck, StageKind, StageProblem } from '../stage.ts';
import type { StageSpec } from '../types.ts';

export type AttentionMethod = 'act';
export const ATTENTION_METHODS: readonly AttentionMethod[] = ['act'];

/** The reference's absolute τ, or the paper's α/T (act.ts's SinkThreshold under recipe names). */
export type ActSinkSpec = { kind: 'tau'; tau: number } | { kind: 'alpha'; alpha: number };
export const ACT_SINK_KINDS = ['tau', 'alpha'] as const;

/** One (layer, head) to calibrate. */
export interface ActHeadSpec {
  block: number;
  head: number;
}

export interface AttentionStage extends StageSpec {
  kind: 'attention';
  method: AttentionMethod;
  /** Factor on the edited sinks' attention (reference BETA = 0.4). */
  beta: number;
  sink: ActSinkSpec;
  /** 'search': ACT's head selection on the calibration set; or the heads, given. */
  heads: 'search' | ActHeadSpec[];
  /** Layers the search never tries: 'reference' = the first two and the last. */
  skipLayers: 'reference' | number[];
  search: {
    /** Calibration samples (the recipe's seeded draw, its first ones) scored per candidate set. */
    samples: number;
    /**
     * When a head (alone, or a drop in the greedy elimination) counts as an improvement:
     * 'interval' — the 95 % paired bootstrap interval of the mean NLL's change over the search
     * samples, seeded by the recipe's seed, lies below 0; 'none' — the mean is lower (the strict
     * rule, which on a few samples selects noise; kept for comparison).
     */
    guard: HeadGuard;
  };
}

export const isAttentionStage = (stage: StageSpec): stage is AttentionStage => stage.kind === 'attention';

export function defaultAttentionStage(): AttentionStage {
  return { kind: 'attention', method: 'act', beta: 0.4, sink: { kind: 'tau', tau: 0.1 }, heads: 'search', skipLayers: 'reference', search: { samples: 8, guard: 'interval' } };
}

/** The stage's edit parameters for act.ts / actGraph.ts. */
export function actParams(stage: AttentionStage): ActParams {
  const threshold = stage.sink.kind === 'tau' ? { kind: 'absolute' as const, tau: stage.sink.tau } : { kind: 'relative' as const, alpha: stage.sink.alpha };
  return { threshold, beta: stage.beta };
}

// ---- parse -----------------------------------------------------------------------------------

function readSink(fields: FieldReader, fallback: ActSinkSpec): ActSinkSpec {
  const sink = fields.object('sink');
  if (sink === undefined) return fallback;
  const kind = sink.choice('kind', ACT_SINK_KINDS, 'tau');
  const spec: ActSinkSpec = kind === 'tau' ? { kind, tau: sink.number('tau', 0.1) } : { kind, alpha: sink.number('alpha', 1) };
  sink.finish();
  return spec;
}

function readHeads(fields: FieldReader, problems: RecipeProblems): AttentionStage['heads'] {
  const value = fields.raw('heads');
  if (value === undefined || value === 'search') return 'search';
  const path = fields.pathOf('heads');
  if (!Array.isArray(value)) {
    problems.add(path, `must be "search" or an array of { block, head }, got ${describeValue(value)}`);
    return 'search';
  }
  return value.flatMap((item, i) => {
    const reader = FieldReader.of(item, fieldPath(path, i), problems);
    if (reader === undefined) {
      if (item === undefined) problems.add(fieldPath(path, i), 'must be an object { block, head }');
      return [];
    }
    const head = { block: reader.number('block', Number.NaN), head: reader.number('head', Number.NaN) };
    for (const key of ['block', 'head'] as const) if (!reader.has(key)) reader.problem(key, 'is required');
    reader.finish();
    return [head];
  });
}

function readSkipLayers(fields: FieldReader, problems: RecipeProblems): AttentionStage['skipLayers'] {
  const value = fields.raw('skipLayers');
  if (value === undefined || value === 'reference') return 'reference';
  const path = fields.pathOf('skipLayers');
  if (!Array.isArray(value)) {
    problems.add(path, `must be "reference" or an array of layer numbers, got ${describeValue(value)}`);
    return 'reference';
  }
  const bad = value.findIndex((v) => typeof v !== 'number' || !Number.isInteger(v));
  if (bad >= 0) {
    problems.add(fieldPath(path, bad), `must be an integer layer number, got ${describeValue(value[bad])}`);
    return 'reference';
  }
  return value as number[];
}

function parseAttentionStage(fields: FieldReader): AttentionStage {
  const defaults = defaultAttentionStage();
  const search = fields.object('search');
  const stage: AttentionStage = {
    kind: 'attention',
    method: fields.choice('method', ATTENTION_METHODS, defaults.method),
    beta: fields.number('beta', defaults.beta),
    sink: readSink(fields, defaults.sink),
    heads: readHeads(fields, fields.problems),
    skipLayers: readSkipLayers(fields, fields.problems),
    search: {
      samples: search?.number('samples', defaults.search.samples) ?? defaults.search.samples,
      guard: search?.choice('guard', HEAD_GUARDS, defaults.search.guard) ?? defaults.search.guard,
    },
  };
  search?.finish();
  return stage;
}

// ---- validate --------------------------------------------------------------------------------

/** Why the model offers no attention to calibrate (the capture module's words, from the analysis). */
export function noAttentionSites(analysis: ModelAnalysis): string {
  const fused = analysis.unsupported.filter((u) => u.includes('fused attention'));
  if (fused.length > 0) return `the attention is fused (${fused.length} node(s)): its probabilities are no graph tensor and ACT cannot edit them. ${UNFUSED_EXPORT_HINT}`;
  return `no attention found (no Softmax between a Q·Kᵀ MatMul and a MatMul with V). ${UNFUSED_EXPORT_HINT}`;
}

/** The model's attention layers, or the problem that there are none usable. */
export function stageAttentionLayers(analysis: ModelAnalysis): AttentionLayer[] | string {
  if (analysis.attention.length === 0) return noAttentionSites(analysis);
  const unknown = analysis.attention.filter((s) => s.heads === null);
  if (unknown.length > 0) return `the number of heads of ${unknown.map((s) => s.softmaxNode).join(', ')} is unknown (neither a Reshape constant nor value_info tells)`;
  return attentionLayers(analysis.attention);
}

function validateAttentionStage(stage: AttentionStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string | undefined, message: string) => problems.push({ field, message });
  if (!ATTENTION_METHODS.includes(stage.method)) problem('method', `unknown method "${stage.method}" (known: ${ATTENTION_METHODS.join(', ')})`);
  if (!(stage.beta >= 0 && stage.beta <= 1)) problem('beta', `must be in [0, 1], got ${stage.beta}`);
  if (stage.sink.kind === 'tau' && !(stage.sink.tau > 0 && stage.sink.tau < 1)) problem('sink.tau', `must be in (0, 1), got ${stage.sink.tau}`);
  if (stage.sink.kind === 'alpha' && !(stage.sink.alpha > 0)) problem('sink.alpha', `must be > 0, got ${stage.sink.alpha}`);
  if (!Number.isInteger(stage.search.samples) || stage.search.samples < 1) problem('search.samples', `must be an integer >= 1, got ${stage.search.samples}`);
  // The search draws its samples from the calibration set (compress/attentionStage.ts checks again when it starts).
  else if (stage.heads === 'search' && check.calibSize !== undefined && stage.search.samples > check.calibSize) problem('search.samples', `${stage.search.samples} is more than the calibration set holds (${check.calibSize})`);
  if (!HEAD_GUARDS.includes(stage.search.guard)) problem('search.guard', `must be one of ${HEAD_GUARDS.map((g) => `"${g}"`).join(', ')}, got ${describeValue(stage.search.guard)}`);
  // The search scores the model every earlier stage left; a weight stage after it would change
  // the model under the selected heads (and the pipeline walks weight stages before any finish).
  const index = check.recipe.stages.indexOf(stage);
  const later = check.recipe.stages.slice(index + 1);
  if (index >= 0 && later.length > 0) problem(undefined, `must be the last stage (ACT calibrates the model the earlier stages left), but ${later.map((s) => s.kind).join(', ')} follow${later.length === 1 ? 's' : ''}`);
  const layers = stageAttentionLayers(check.analysis);
  if (typeof layers === 'string') {
    problem(undefined, `ACT needs attention probabilities in the graph: ${layers}`);
    return problems;
  }
  const byLayer = new Map(layers.map((l) => [l.layer, l.heads]));
  const known = `attention layers ${[...byLayer.keys()].join(', ')}`;
  if (Array.isArray(stage.heads)) {
    if (stage.heads.length === 0) problem('heads', 'must name at least one { block, head } (or be "search")');
    const seen = new Set<string>();
    stage.heads.forEach(({ block, head }, i) => {
      const heads = byLayer.get(block);
      if (!Number.isInteger(block) || heads === undefined) problem(`heads[${i}].block`, `${block} is not an attention layer of the model (${known})`);
      else if (!Number.isInteger(head) || head < 0 || head >= heads) problem(`heads[${i}].head`, `${head} is outside 0..${heads - 1} (layer ${block} has ${heads} heads)`);
      const key = `${block}.${head}`;
      if (seen.has(key)) problem(`heads[${i}]`, `layer ${block} head ${head} is listed twice`);
      seen.add(key);
    });
  }
  if (Array.isArray(stage.skipLayers)) {
    stage.skipLayers.forEach((layer, i) => {
      if (!byLayer.has(layer)) problem(`skipLayers[${i}]`, `${layer} is not an attention layer of the model (${known})`);
    });
    if (stage.heads === 'search' && layers.every((l) => (stage.skipLayers as number[]).includes(l.layer))) problem('skipLayers', 'skips every attention layer: the search has no candidate head');
  }
  return problems;
}

// ---- description, file tag -------------------------------------------------------------------

const describeSink = (sink: ActSinkSpec) => (sink.kind === 'tau' ? `τ ${sink.tau}` : `α/T, α ${sink.alpha}`);

export function describeAttentionStage(stage: AttentionStage): string {
  const heads = stage.heads === 'search' ? `heads searched on ${stage.search.samples} calibration samples (${stage.search.guard === 'interval' ? 'kept when the 95 % interval of the gain excludes 0' : 'kept when the mean improves'}), skipping ${stage.skipLayers === 'reference' ? 'the first two and the last layer' : stage.skipLayers.length === 0 ? 'no layer' : `layers ${stage.skipLayers.join(', ')}`}` : `heads ${stage.heads.map((h) => `${h.block}.${h.head}`).join(', ')}`;
  return `ACT, β ${stage.beta}, sinks ${describeSink(stage.sink)}, ${heads}`;
}

export const attentionStageKind: StageKind<AttentionStage> = {
  kind: 'attention',
  defaults: defaultAttentionStage,
  parse: parseAttentionStage,
  validate: validateAttentionStage,
  // ACT edits attention probabilities, never a linear layer's weight.
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  describe: describeAttentionStage,
  fileTag: (stage) => `act-b${stage.beta}`,
};
