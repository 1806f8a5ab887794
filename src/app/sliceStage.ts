// The recipe builder's SliceGPT stage (recipe/stages/slice.ts): reading and patching it in the
// store, the field keys its validation problems are filed under, and the width it keeps.
import type { Recipe } from '../core/recipe';
import { isSliceStage, type SliceStage } from '../core/recipe/stages/slice';
import { slicedWidth } from '../core/slice/slicegpt';
import type { ModelAnalysis } from '../core/model/types';
import { useLab } from './store';

export const SLICE_FIELDS = ['keep', 'rounding', 'sliceHead'] as const;

export function sliceStageOf(recipe: Recipe): SliceStage | undefined {
  return recipe.stages.find(isSliceStage);
}

/** Validation keys of the slice stage's fields (full paths), none when the recipe has no slice stage. */
export function sliceFieldKeys(recipe: Recipe): string[] {
  const index = recipe.stages.findIndex(isSliceStage);
  return index < 0 ? [] : SLICE_FIELDS.map((field) => `stages[${index}].${field}`);
}

export function setSliceStage(patch: Partial<Omit<SliceStage, 'kind'>>): void {
  useLab.setState((s) => ({ recipe: { ...s.recipe, stages: s.recipe.stages.map((stage) => (isSliceStage(stage) ? { ...stage, ...patch } : stage)) }, refusal: undefined }));
}

/** The embedding dimension and what the stage keeps of it, from the analysis (the head's input width). */
export function keptDimension(stage: SliceStage, analysis: ModelAnalysis | undefined): { hidden: number; kept: number } | undefined {
  const head = analysis?.linears.find((l) => l.role === 'head');
  if (head === undefined || !(stage.keep > 0 && stage.keep <= 1) || !(stage.rounding >= 1)) return undefined;
  return { hidden: head.inFeatures, kept: slicedWidth(head.inFeatures, stage.keep, stage.rounding) };
}
