// One line naming a recipe, for reports, tables and logs.
import { stageKind } from './stage.ts';
import './stages/index.ts';
import type { Recipe } from './types.ts';
import { needsCalibration } from './validate.ts';

export function describeRecipe(recipe: Recipe): string {
  const stages = recipe.stages.map((stage) => stageKind(stage.kind)?.describe(stage) ?? stage.kind).join(' → ');
  const { samples, mode } = recipe.calibration;
  return `${stages}, ${needsCalibration(recipe) ? `${samples} samples, seed ${recipe.seed}, ${mode}` : 'no calibration'}`;
}
