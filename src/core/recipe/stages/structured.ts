// The `structured` stage: remove whole attention heads and MLP neurons (ZipLM, CFSP) and export a
// dense model with smaller shapes (src/core/structured, docs/structured.md). A shape-changing stage:
// the pipeline cuts the recipe at it (compress/stage.ts ReshapingStageRunner); it calibrates
// itself, so it lists no layers and no statistics.
//
//   { kind: 'structured', method: 'ziplm' | 'cfsp', remove: 'heads' | 'neurons' | 'both',
//     target: { sparsity: 0.3 } | { size: 0.7 } | { speedup: 1.5 },
//     dampening: 0.01, neuronMultiple: 'auto' | n, update: true }
import { structuredBlocks } from '../../structured/blocks.ts';
import { describeValue, type FieldReader } from '../reader.ts';
import type { StageCheck, StageKind, StageProblem } from '../stage.ts';
import type { StageSpec } from '../types.ts';

export type StructuredMethod = 'ziplm' | 'cfsp';
export const STRUCTURED_METHODS: readonly StructuredMethod[] = ['ziplm', 'cfsp'];

export type StructuredRemove = 'heads' | 'neurons' | 'both';
export const STRUCTURED_REMOVES: readonly StructuredRemove[] = ['heads', 'neurons', 'both'];

/**
 * Written { sparsity: 0.3 } (or with its kind, as the parsed recipe serialises: { kind: 'sparsity', sparsity: 0.3 }).
 * sparsity: the fraction of the structured parameters removed (the parameters that scale with the
 * kept heads / neurons); size: the fraction of all linear-layer parameters kept; speedup: the
 * model's predicted latency on the run's backend divided by this (src/core/latency's measured table).
 */
export type StructuredTarget = { kind: 'sparsity'; sparsity: number } | { kind: 'size'; size: number } | { kind: 'speedup'; speedup: number };
export const STRUCTURED_TARGET_KINDS = ['sparsity', 'size', 'speedup'] as const;

export interface StructuredStage extends StageSpec {
  kind: 'structured';
  method: StructuredMethod;
  remove: StructuredRemove;
  target: StructuredTarget;
  /** ZipLM's rel_damp (percdamp): fraction of mean(diag H) added to the Hessian's diagonal. */
  dampening: number;
  /** Kept neurons per block are a multiple of this; 'auto': 8 when the MLP width is a multiple of 8, else 1. */
  neuronMultiple: 'auto' | number;
  /** ZipLM's OBS update of the remaining columns of the output / down projection (off: slice only). */
  update: boolean;
}

export const isStructuredStage = (stage: StageSpec): stage is StructuredStage => stage.kind === 'structured';

export function defaultStructuredStage(): StructuredStage {
  return { kind: 'structured', method: 'ziplm', remove: 'both', target: { kind: 'speedup', speedup: 1.5 }, dampening: 0.01, neuronMultiple: 'auto', update: true };
}

function readTarget(fields: FieldReader, fallback: StructuredTarget): StructuredTarget {
  const target = fields.object('target');
  if (target === undefined) return fallback;
  const present = STRUCTURED_TARGET_KINDS.filter((k) => target.has(k));
  if (present.length !== 1) {
    fields.problem('target', `must give exactly one of ${STRUCTURED_TARGET_KINDS.join(', ')}, got ${present.length === 0 ? 'none' : present.join(' and ')}`);
    for (const k of STRUCTURED_TARGET_KINDS) target.raw(k);
    target.finish();
    return fallback;
  }
  const kind = present[0];
  const value = target.number(kind, Number.NaN);
  // The parsed form carries its kind ({ kind: 'size', size: 0.7 }), so a recipe written back as JSON reads again.
  const named = target.raw('kind');
  if (named !== undefined && named !== kind) target.problem('kind', `says ${describeValue(named)} but the target gives ${kind}`);
  target.finish();
  return kind === 'sparsity' ? { kind, sparsity: value } : kind === 'size' ? { kind, size: value } : { kind, speedup: value };
}

function readMultiple(fields: FieldReader): StructuredStage['neuronMultiple'] {
  const value = fields.raw('neuronMultiple');
  if (value === undefined || value === 'auto') return 'auto';
  if (typeof value !== 'number') {
    fields.problem('neuronMultiple', `must be "auto" or a whole number ≥ 1, got ${describeValue(value)}`);
    return 'auto';
  }
  return value;
}

function parseStructuredStage(fields: FieldReader): StructuredStage {
  const d = defaultStructuredStage();
  return {
    kind: 'structured',
    method: fields.choice('method', STRUCTURED_METHODS, d.method),
    remove: fields.choice('remove', STRUCTURED_REMOVES, d.remove),
    target: readTarget(fields, d.target),
    dampening: fields.number('dampening', d.dampening),
    neuronMultiple: readMultiple(fields),
    update: fields.boolean('update', d.update),
  };
}

export const removesHeads = (stage: StructuredStage) => stage.remove !== 'neurons';
export const removesNeurons = (stage: StructuredStage) => stage.remove !== 'heads';

function validateStructuredStage(stage: StructuredStage, check: StageCheck): StageProblem[] {
  const problems: StageProblem[] = [];
  const problem = (field: string | undefined, message: string) => problems.push({ field, message });
  if (!STRUCTURED_METHODS.includes(stage.method)) problem('method', `unknown method "${stage.method}" (known: ${STRUCTURED_METHODS.join(', ')})`);
  if (!STRUCTURED_REMOVES.includes(stage.remove)) problem('remove', `must be one of ${STRUCTURED_REMOVES.join(', ')}, got ${describeValue(stage.remove)}`);
  if (stage.method === 'cfsp' && stage.remove !== 'neurons') problem('remove', `CFSP prunes MLP neurons only (as wyxscir/CFSP's prune_cfsp does); use "neurons", or method "ziplm" for heads`);
  const t = stage.target;
  if (t.kind === 'sparsity' && !(t.sparsity > 0 && t.sparsity < 1)) problem('target.sparsity', `must be in (0, 1), got ${t.sparsity}`);
  if (t.kind === 'size' && !(t.size > 0 && t.size < 1)) problem('target.size', `must be in (0, 1), got ${t.size}`);
  if (t.kind === 'speedup' && !(t.speedup > 1 && Number.isFinite(t.speedup))) problem('target.speedup', `must be a number > 1, got ${t.speedup}`);
  if (!(stage.dampening > 0 && stage.dampening < 1)) problem('dampening', `must be in (0, 1), got ${stage.dampening}`);
  if (stage.neuronMultiple !== 'auto' && !(Number.isInteger(stage.neuronMultiple) && stage.neuronMultiple >= 1)) problem('neuronMultiple', `must be "auto" or a whole number ≥ 1, got ${stage.neuronMultiple}`);
  if (problems.length > 0) return problems;
  const blocks = structuredBlocks(check.analysis, { heads: removesHeads(stage), neurons: removesNeurons(stage) });
  if (typeof blocks === 'string') {
    problem('remove', `cannot remove ${stage.remove === 'both' ? 'heads and neurons' : stage.remove} from this model: ${blocks}`);
    return problems;
  }
  if (typeof stage.neuronMultiple === 'number' && removesNeurons(stage)) {
    const narrowest = Math.min(...blocks.map((b) => b.mlp!.neurons));
    if (stage.neuronMultiple > narrowest) problem('neuronMultiple', `${stage.neuronMultiple} is wider than the MLP (${narrowest} neurons)`);
  }
  return problems;
}

const describeTarget = (t: StructuredTarget) => (t.kind === 'sparsity' ? `${Math.round(t.sparsity * 100)} % of the structured parameters removed` : t.kind === 'size' ? `${Math.round(t.size * 100)} % of the linear parameters kept` : `${t.speedup}× predicted speedup`);

export function describeStructuredStage(stage: StructuredStage): string {
  const what = stage.remove === 'both' ? 'heads and neurons' : stage.remove;
  const method = stage.method === 'ziplm' ? `ZipLM (OBS${stage.update ? ' with update' : ', no update'}, damp ${stage.dampening})` : 'CFSP (angular block importance, three_w_one_wa scores)';
  return `structured ${what}, ${method}, ${describeTarget(stage.target)}`;
}

const targetTag = (t: StructuredTarget) => (t.kind === 'sparsity' ? `s${t.sparsity}` : t.kind === 'size' ? `size${t.size}` : `${t.speedup}x`);

export const structuredStageKind: StageKind<StructuredStage> = {
  kind: 'structured',
  defaults: defaultStructuredStage,
  parse: parseStructuredStage,
  validate: validateStructuredStage,
  layers: () => [],
  needs: () => ({ dense: [], step: [] }),
  calibrates: () => true,
  reshapes: true,
  describe: describeStructuredStage,
  fileTag: (stage) => `${stage.method}-${stage.remove}-${targetTag(stage.target)}`,
};
