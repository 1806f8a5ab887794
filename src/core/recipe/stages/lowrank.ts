// The `lowrank` stage: each chosen linear layer becomes two thin MatMuls (src/core/lowrank,
// docs/lowrank.md). A shape-changing stage: the pipeline cuts the recipe at it
// (compress/lowrankStage.ts runs it), and it calibrates itself when the method or the rank
// choice reads activations.
//
//   { kind: 'lowrank', method: 'svd' | 'asvd' | 'svd-llm', alpha: 0.5,
//     rank: { kind: 'rank', rank } | { kind: 'energy', energy } | { kind: 'ratio', ratio } | { kind: 'sensitivity', ratio },
//     roles: 'all' | ['attn.q', 'mlp.up', …], layers: { includeHead, skip } }
import { LOW_RANK_METHODS, type LowRankMethod } from '../../lowrank/factorize.ts';
import { unfactorisableReason } from '../../lowrank/graph.ts';
import { RANK_CHOICE_KINDS, type RankChoice } from '../../lowrank/rank.ts';
import type { LinearLayer, LinearRole, ModelAnalysis } from '../../model/types.ts';
import { defaultLayerSelection, listLayers, LISTED_LAYERS, prunableLayers, readLayerSelection, type LayerSelection } from '../layers.ts';
import { describeValue, type FieldReader } from '../reader.ts';
import type { StageCheck, StageKind, StageProblem } from '../stage.ts';
import type { StageSpec } from '../types.ts';

export const LINEAR_ROLES: readonly LinearRole[] = ['attn.q', 'attn.k', 'attn.v', 'attn.qkv', 'attn.out', 'mlp.up', 'mlp.gate', 'mlp.down', 'head', 'other'];

export interface LowRankStage extends StageSpec {
  kind: 'lowrank';
  method: LowRankMethod;
  /** ASVD's exponent on mean |x_j| (reference 0.5); unused by the other methods. */
  alpha: number;
  rank: RankChoice;
  /** Which roles to factorise ('all': every layer the selection allows). */
  roles: 'all' | LinearRole[];
  layers: LayerSelection;
}

export const isLowRankStage = (stage: StageSpec): stage is LowRankStage => stage.kind === 'lowrank';

export function defaultLowRankStage(): LowRankStage {
  return { kind: 'lowrank', method: 'svd-llm', alpha: 0.5, rank: { kind: 'ratio', ratio: 0.8 }, roles: 'all', layers: defaultLayerSelection() };
}

/** The rank choice with each kind's default value. */
export function defaultRankChoice(kind: RankChoice['kind']): RankChoice {
  switch (kind) {
    case 'rank':
      return { kind, rank: 32 };
    case 'energy':
      return { kind, energy: 0.9 };
    case 'ratio':
      return { kind, ratio: 0.8 };
    case 'sensitivity':
      return { kind, ratio: 0.8 };
  }
}

function readRank(fields: FieldReader, fallback: RankChoice): RankChoice {
  const rank = fields.object('rank');
  if (rank === undefined) return fallback;
  const kind = rank.choice('kind', RANK_CHOICE_KINDS, fallback.kind);
  const defaults = defaultRankChoice(kind);
  let choice: RankChoice;
  if (defaults.kind === 'rank') choice = { kind: 'rank', rank: rank.number('rank', defaults.rank) };
  else if (defaults.kind === 'energy') choice = { kind: 'energy', energy: rank.number('energy', defaults.energy) };
  else choice = { kind: defaults.kind, ratio: rank.number('ratio', defaults.ratio) };
  rank.finish();
  return choice;
}

function readRoles(fields: FieldReader): LowRankStage['roles'] {
  const value = fields.raw('roles');
  if (value === undefined || value === 'all') return 'all';
  if (!Array.isArray(value)) {
    fields.problem('roles', `must be "all" or an array of roles (${LINEAR_ROLES.join(', ')}), got ${describeValue(value)}`);
    return 'all';
  }
  const bad = value.findIndex((role) => !LINEAR_ROLES.includes(role as LinearRole));
  if (bad >= 0) {
    fields.problems.add(`${fields.pathOf('roles')}[${bad}]`, `must be one of ${LINEAR_ROLES.join(', ')}, got ${describeValue(value[bad])}`);
    return 'all';
  }
  return value as LinearRole[];
}

function parseLowRankStage(fields: FieldReader): LowRankStage {
  const defaults = defaultLowRankStage();
  const layers = fields.object('layers');
  const stage: LowRankStage = {
    kind: 'lowrank',
    method: fields.choice('method', LOW_RANK_METHODS, defaults.method),
    alpha: fields.number('alpha', defaults.alpha),
    rank: readRank(fields, defaults.rank),
    roles: readRoles(fields),
    layers: readLayerSelection(layers),
  };
  layers?.finish();
  return stage;
}

/** The layers the stage factorises (before the shape check: a layer too small to save stays dense). */
export function lowRankLayers(stage: LowRankStage, analysis: ModelAnalysis): LinearLayer[] {
  const roles = stage.roles === 'all' ? null : new Set(stage.roles);
  return prunableLayers(analysis, stage).filter((layer) => roles === null || roles.has(layer.role));
}

/** Whether the stage reads activations: every method but plain SVD, and the sensitivity allocation. */
export const lowRankCalibrates = (stage: LowRankStage): boolean => stage.method !== 'svd' || stage.rank.kind === 'sensitivity';

function validateLowRankStage(stage: LowRankStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string | undefined, message: string) => problems.push({ field, message });
  if (!LOW_RANK_METHODS.includes(stage.method)) problem('method', `unknown method "${stage.method}" (known: ${LOW_RANK_METHODS.join(', ')})`);
  if (!(stage.alpha >= 0 && stage.alpha <= 1)) problem('alpha', `must be in [0, 1], got ${stage.alpha}`);
  const { rank } = stage;
  if (rank.kind === 'rank' && !(Number.isInteger(rank.rank) && rank.rank >= 1)) problem('rank.rank', `must be an integer >= 1, got ${rank.rank}`);
  if (rank.kind === 'energy' && !(rank.energy > 0 && rank.energy <= 1)) problem('rank.energy', `must be in (0, 1], got ${rank.energy}`);
  if ((rank.kind === 'ratio' || rank.kind === 'sensitivity') && !(rank.ratio > 0 && rank.ratio < 1)) problem('rank.ratio', `must be in (0, 1), got ${rank.ratio}`);
  const known = new Set(check.analysis.linears.flatMap((l) => [l.id, l.name]));
  const unknown = stage.layers.skip.filter((name) => !known.has(name));
  if (unknown.length > 0) problem('layers.skip', `names no linear layer: ${unknown.slice(0, LISTED_LAYERS).map((n) => JSON.stringify(n.slice(0, 80))).join(', ')}`);
  const layers = lowRankLayers(stage, check.analysis);
  if (layers.length === 0) {
    problem(stage.roles === 'all' ? 'layers' : 'roles', 'no linear layer is left to factorise (embeddings and the head are excluded unless layers.includeHead)');
    return problems;
  }
  const refused = layers.filter((layer) => unfactorisableReason(layer) !== null);
  if (refused.length > 0) problem('layers', `cannot be written as two MatMuls: ${listLayers(refused, (l) => `${l.name} (${unfactorisableReason(l)})`)}; list them in layers.skip`);
  if (rank.kind === 'sensitivity') {
    const dense = layers.reduce((sum, l) => sum + l.outFeatures * l.inFeatures, 0);
    const floor = layers.reduce((sum, l) => sum + l.outFeatures + l.inFeatures, 0);
    if (rank.ratio * dense < floor) problem('rank.ratio', `${rank.ratio} keeps fewer parameters than rank 1 in every layer needs (${(floor / dense).toFixed(4)} of the dense ${dense})`);
  }
  return problems;
}

const METHOD_LABEL: Record<LowRankMethod, string> = { svd: 'SVD', asvd: 'ASVD', 'svd-llm': 'SVD-LLM' };

export function describeRankChoice(rank: RankChoice): string {
  switch (rank.kind) {
    case 'rank':
      return `rank ${rank.rank}`;
    case 'energy':
      return `${+(rank.energy * 100).toFixed(2)} % of σ² kept`;
    case 'ratio':
      return `${+(rank.ratio * 100).toFixed(2)} % of each layer's parameters kept`;
    case 'sensitivity':
      return `${+(rank.ratio * 100).toFixed(2)} % of the parameters kept, ranks by sensitivity`;
  }
}

export function describeLowRankStage(stage: LowRankStage): string {
  const method = stage.method === 'asvd' ? `ASVD (α ${stage.alpha})` : METHOD_LABEL[stage.method];
  const roles = stage.roles === 'all' ? '' : `, roles ${stage.roles.join(', ')}`;
  return `low rank, ${method}, ${describeRankChoice(stage.rank)}${roles}${stage.layers.includeHead ? ', head included' : ''}`;
}

function lowRankFileTag(stage: LowRankStage): string {
  const { rank } = stage;
  const amount = rank.kind === 'rank' ? `r${rank.rank}` : rank.kind === 'energy' ? `e${rank.energy}` : rank.kind === 'ratio' ? `${rank.ratio}` : `sens${rank.ratio}`;
  return `${stage.method.replace('-', '')}-${amount}`;
}

export const lowRankStageKind: StageKind<LowRankStage> = {
  kind: 'lowrank',
  defaults: defaultLowRankStage,
  parse: parseLowRankStage,
  validate: validateLowRankStage,
  // The pipeline re-analyses the model this stage returns; it changes no weight in place.
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  calibrates: lowRankCalibrates,
  reshapes: true,
  describe: describeLowRankStage,
  fileTag: lowRankFileTag,
};
