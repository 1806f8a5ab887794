// Placeholder until src/core/recipe's compressedFileName lands.
import type { Recipe } from '../core/recipe';
export function compressedFileName(stem: string, _recipe: Recipe): string {
  return `${stem}.compressed.onnx`;
}
