// Pruning recipes: the typed, serialisable description of a pruning run. See docs/calibration.md.
export * from './types.ts';
export { DEFAULT_RECIPE, defaultRecipe, needsCalibration, structuredSparsity } from './defaults.ts';
export { parseRecipe, RecipeError } from './parse.ts';
export { validateRecipe } from './validate.ts';
export { layerLabel, prunableLayers } from './layers.ts';
export { describeRecipe, describeRecipePattern } from './describe.ts';
