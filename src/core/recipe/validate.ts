// validateRecipe: every reason a recipe cannot run on a model, as sentences that start with the
// field's path, before any work starts (no session, no calibration). [] means the pipeline will
// accept it.
import type { ModelAnalysis } from '../model/types.ts';
import { calibrationProblems } from './calibration.ts';
import { fieldPath, quoted } from './reader.ts';
import { stageKind, stageKindNames, type StageNeeds, type Statistic } from './stage.ts';
import './stages/index.ts';
import type { Recipe } from './types.ts';

export function validateRecipe(recipe: Recipe, analysis: ModelAnalysis, calibSize?: number): string[] {
  const problems: string[] = [];
  if (recipe.stages.length === 0) problems.push('stages: must hold at least one stage');
  recipe.stages.forEach((stage, i) => {
    const path = fieldPath('stages', i);
    const kind = stageKind(stage.kind);
    if (kind === undefined) {
      problems.push(`${path}.kind: unknown stage kind ${quoted(String(stage.kind))} (known: ${stageKindNames().join(', ')})`);
      return;
    }
    for (const { field, message } of kind.validate(stage, { analysis, recipe, calibSize })) problems.push(`${field ? `${path}.${field}` : path}: ${message}`);
  });
  problems.push(...shapeChangeOrderProblems(recipe));
  if (needsCalibration(recipe)) problems.push(...calibrationProblems(recipe, calibSize));
  return problems;
}

/** Each stage's needs, in recipe order (undefined for a kind nobody registered). */
export function stageNeeds(recipe: Recipe): StageNeeds[] {
  return recipe.stages.map((stage) => stageKind(stage.kind)?.needs(stage) ?? { dense: [], step: [] });
}

/** The union of what the stages need, from the dense pass and at each step. */
export function neededStatistics(recipe: Recipe): { dense: Set<Statistic>; step: Set<Statistic> } {
  const needs = stageNeeds(recipe);
  return { dense: new Set(needs.flatMap((n) => n.dense)), step: new Set(needs.flatMap((n) => n.step)) };
}

/** Whether any stage needs calibration statistics at all. */
export function needsCalibration(recipe: Recipe): boolean {
  const { dense, step } = neededStatistics(recipe);
  return dense.size > 0 || step.size > 0 || recipe.stages.some((stage) => stageKind(stage.kind)?.calibrates?.(stage) === true);
}

/**
 * A shape-changing stage (StageKind.reshapes) rebuilds the graph from float weights, so it may
 * follow only other shape changes and prune stages: after a quantize stage the weights are codes
 * (packed MatMulNBits), after a graph-rewriting stage (KV-cache Q/DQ, ACT) the graph is no longer
 * the one the analysis describes.
 */
function shapeChangeOrderProblems(recipe: Recipe): string[] {
  const problems: string[] = [];
  recipe.stages.forEach((stage, i) => {
    if (!stageKind(stage.kind)?.reshapes) return;
    const before = recipe.stages.slice(0, i).map((s, j) => ({ kind: s.kind, j })).filter(({ kind }) => kind !== 'prune' && !stageKind(kind)?.reshapes);
    if (before.length > 0) problems.push(`${fieldPath('stages', i)}: "${stage.kind}" changes the model's shapes, so it must come before ${before.map(({ kind, j }) => `stages[${j}] ("${kind}")`).join(', ')}: only prune stages and other shape changes may precede it`);
  });
  return problems;
}
