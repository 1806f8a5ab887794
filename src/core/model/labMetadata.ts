// The metadata_props the lab writes into every model it compresses (src/core/compress/metadata.ts)
// and reads back when such a file is opened again. Only these keys are the lab's; other entries
// of the file are left as they are.
import type { ModelProto } from '../onnx/types.ts';
import type { LabMetadata } from './types.ts';

export const LAB_METADATA_KEYS = {
  /** The recipe as JSON with sorted keys, so that one recipe always writes the same bytes. */
  recipe: 'compression_lab.recipe',
  /** describeRecipe(recipe): one line for people reading the file with other tools (Netron). */
  recipeSummary: 'compression_lab.recipe_summary',
  /** The model the recipe ran on: its model card id, or the file's stem. */
  sourceModel: 'compression_lab.source_model',
} as const;

export const LAB_METADATA_PREFIX = 'compression_lab.';

/** The lab's entries of the model's metadata_props, or null when there are none. */
export function readLabMetadata(model: ModelProto): LabMetadata | null {
  const props = new Map<string, string>();
  for (const entry of model.metadataProps ?? []) {
    if (entry.key?.startsWith(LAB_METADATA_PREFIX)) props.set(entry.key, entry.value ?? '');
  }
  if (props.size === 0) return null;
  return {
    recipe: props.get(LAB_METADATA_KEYS.recipe) ?? null,
    recipeSummary: props.get(LAB_METADATA_KEYS.recipeSummary) ?? null,
    sourceModel: props.get(LAB_METADATA_KEYS.sourceModel) ?? null,
  };
}
