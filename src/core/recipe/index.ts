// Recipes: the versioned, staged, serialisable description of a compression run. See docs/recipe.md.
export * from './types.ts';
export { DEFAULT_RECIPE, defaultRecipe } from './defaults.ts';
export { parseRecipe, parseRecipeText, readStage, RecipeError } from './parse.ts';
export { validateRecipe, needsCalibration, neededStatistics, stageNeeds } from './validate.ts';
export { calibrationProblems } from './calibration.ts';
export { layerLabel, prunableLayers, type LayerSelection } from './layers.ts';
export { describeRecipe } from './describe.ts';
export { recipeJson } from './json.ts';
export { compressedFileName, sanitiseFileName } from './fileName.ts';
export { registerStageKind, stageKind, stageKindNames, stageKindOf, type StageCheck, type StageKind, type StageNeeds, type StageProblem, type Statistic } from './stage.ts';
export { describeValue, FieldReader, RecipeProblems, type JsonObject } from './reader.ts';
export {
  ALLOCATION_KINDS,
  MAGNITUDE_SCOPES,
  defaultPruneStage,
  describePruneStage,
  isPruneStage,
  pruneFileTag,
  pruneStageKind,
  targetSparsity,
  type AllocationKind,
  type AllocationRecipe,
  type MagnitudeScope,
  type PruneStage,
  type SparseGptOptions,
} from './stages/prune.ts';
export { modelMismatch } from './model.ts';
