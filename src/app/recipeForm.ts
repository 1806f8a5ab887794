// The recipe builder's logic, kept out of the component: which field each validation problem
// belongs to, and the CLI command and file that reproduce the recipe outside the browser.
import type { Recipe } from '../core/recipe';
import type { ModelSource } from './store';

/**
 * Problems start with the field's path ("stages[0].pattern: N:M needs N < M …"). Each is filed
 * under the longest known field key it starts with; the rest are shown beside the Run button.
 */
export function problemsByField(problems: string[], fieldKeys: string[]): { byField: Map<string, string[]>; unplaced: string[] } {
  const keys = [...fieldKeys].sort((a, b) => b.length - a.length);
  const byField = new Map<string, string[]>();
  const unplaced: string[] = [];
  for (const problem of problems) {
    const key = keys.find((k) => problem.startsWith(k) && /^[:\s.=]/.test(problem.slice(k.length)));
    if (!key) {
      unplaced.push(problem);
      continue;
    }
    const message = problem.slice(key.length).replace(/^[:\s]+/, '');
    byField.set(key, [...(byField.get(key) ?? []), message]);
  }
  return { byField, unplaced };
}

/** The recipe as the CLI reads it (`lab run <recipe.json> …`): the same staged document. */
export function recipeDocument(recipe: Recipe): string {
  return `${JSON.stringify(recipe, null, 2)}\n`;
}

/** The command that runs the downloaded recipe file on the same model from a checkout. */
export function cliCommand(source: ModelSource | undefined, recipeFile: string, outFile: string): string {
  const model = source?.kind === 'bundled' ? `public/models/${source.id}` : (source?.name ?? 'model.onnx');
  return `npm run lab -- run ${recipeFile} ${model} -o ${outFile}`;
}
