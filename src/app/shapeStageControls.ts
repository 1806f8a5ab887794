// The builder's intents for the low-rank and BitStack stages (the runController's patchStages, for
// these two kinds): each changes the one stage of its kind in the store's recipe.
import { isBitStackStage, type BitStackStage } from '../core/recipe/stages/bitstack';
import { isLowRankStage, type LowRankStage } from '../core/recipe/stages/lowrank';
import type { Recipe } from '../core/recipe';
import type { StageSpec } from '../core/recipe/types';
import { useLab } from './store';

function patchStage<T extends StageSpec>(isKind: (stage: StageSpec) => stage is T, patch: Partial<Omit<T, 'kind'>>): void {
  useLab.setState((s) => ({ recipe: { ...s.recipe, stages: s.recipe.stages.map((stage) => (isKind(stage) ? { ...stage, ...patch } : stage)) }, refusal: undefined }));
}

export const setLowRankStage = (patch: Partial<Omit<LowRankStage, 'kind'>>): void => patchStage(isLowRankStage, patch);
export const setBitStackStage = (patch: Partial<Omit<BitStackStage, 'kind'>>): void => patchStage(isBitStackStage, patch);

export const lowRankStageOf = (recipe: Recipe): LowRankStage | undefined => recipe.stages.find(isLowRankStage);
export const bitStackStageOf = (recipe: Recipe): BitStackStage | undefined => recipe.stages.find(isBitStackStage);

/** The low-rank stage's fields that can carry a problem (validation paths relative to the stage). */
export const LOWRANK_FIELDS = ['method', 'alpha', 'rank', 'rank.rank', 'rank.energy', 'rank.ratio', 'roles', 'layers', 'layers.skip'] as const;
export const BITSTACK_FIELDS = ['budget', 'budget.fraction', 'budget.bytes', 'steps', 'k', 'export', 'layers', 'layers.skip'] as const;

/** Full validation paths of both stages' fields, for problemsByField (a problem of a whole stage stays beside Run). */
export function shapeStageFieldKeys(recipe: Recipe): string[] {
  const keys: string[] = [];
  recipe.stages.forEach((stage, i) => {
    if (isLowRankStage(stage)) keys.push(...LOWRANK_FIELDS.map((f) => `stages[${i}].${f}`));
    if (isBitStackStage(stage)) keys.push(...BITSTACK_FIELDS.map((f) => `stages[${i}].${f}`));
  });
  return keys;
}
