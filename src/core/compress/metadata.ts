// What a compressed file says about itself: the recipe that made it (sorted-key JSON), its
// one-line summary and the model it was made from, as ONNX metadata_props under the lab's keys
// (model/labMetadata.ts reads them back). Weights are untouched, so the weights hash is too.
// Entries of the source file under other keys are kept; the lab's own keys are replaced, so a
// model compressed twice names the last recipe.
import { LAB_METADATA_KEYS, LAB_METADATA_PREFIX } from '../model/labMetadata.ts';
import type { ModelProto, StringStringEntry } from '../onnx/types.ts';
import { describeRecipe } from '../recipe/describe.ts';
import { recipeJson } from '../recipe/json.ts';
import type { Recipe } from '../recipe/types.ts';

export function labMetadataEntries(recipe: Recipe, sourceModel: string | undefined): StringStringEntry[] {
  const entries: StringStringEntry[] = [
    { key: LAB_METADATA_KEYS.recipe, value: recipeJson(recipe) },
    { key: LAB_METADATA_KEYS.recipeSummary, value: describeRecipe(recipe) },
  ];
  const source = sourceModel ?? recipe.model?.id;
  if (source) entries.push({ key: LAB_METADATA_KEYS.sourceModel, value: source });
  return entries;
}

/** A shallow copy of `model` with the lab's metadata_props set. */
export function withLabMetadata(model: ModelProto, recipe: Recipe, sourceModel: string | undefined): ModelProto {
  const kept = (model.metadataProps ?? []).filter((entry) => !(entry.key ?? '').startsWith(LAB_METADATA_PREFIX));
  return { ...model, metadataProps: [...kept, ...labMetadataEntries(recipe, sourceModel)] };
}
