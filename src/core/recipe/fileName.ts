// Download names that say what a file is: the model's stem, then what each recipe stage did,
// joined with '+': 'kjv-charlm.sparsegpt-2of4.onnx', 'digits-vit.magnitude-vnm-16-2of8.onnx',
// 'kjv-charlm.wanda-owl-60.onnx'. Each stage kind names itself (StageKind.fileTag).
import { stageKind } from './stage.ts';
import './stages/index.ts';
import type { Recipe } from './types.ts';

/** Longest stem kept: file systems allow 255 bytes per name, and the tags need room too. */
const MAX_STEM = 80;

/**
 * Lower case, every run of characters outside [a-z0-9._+-] one '-', no leading or trailing
 * separators (so no hidden files and no '..'), 'model' when nothing is left.
 */
export function sanitiseFileName(text: string, max = MAX_STEM): string {
  const clean = text
    .toLowerCase()
    .replace(/[^a-z0-9._+-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, max)
    .replace(/^[._+-]+|[._+-]+$/g, '');
  return clean || 'model';
}

/** The stem of a model file name: 'model.onnx' → 'model', 'a/b/gpt2.onnx' → 'gpt2'. */
function stemOf(modelStem: string): string {
  const base = modelStem.split(/[\\/]/).pop() ?? modelStem;
  return base.replace(/\.onnx$/i, '');
}

export function compressedFileName(modelStem: string, recipe: Recipe): string {
  const tags = recipe.stages.map((stage) => {
    const kind = stageKind(stage.kind);
    return sanitiseFileName(kind?.fileTag?.(stage) ?? stage.kind);
  });
  return `${sanitiseFileName(stemOf(modelStem))}.${tags.join('+')}.onnx`;
}
